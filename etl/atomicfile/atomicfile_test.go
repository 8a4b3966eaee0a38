package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failingFile is a real temp file whose writes fail once limit bytes have
// been written, like a disk filling up mid-write.
type failingFile struct {
	*os.File
	limit int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.File.Write(p[:f.limit])
		f.limit = 0
		return n, errors.New("no space left on device")
	}
	f.limit -= len(p)
	return f.File.Write(p)
}

// entries lists a directory's file names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFailureKeepsPrevious(t *testing.T) {
	old := []byte(`{"old": true}`)
	big := []byte(strings.Repeat("x", 4096))
	tests := []struct {
		name     string
		failFile bool // the temp file's writes fail after 100 bytes
		fill     func(w io.Writer) error
		before   func() error
		wantErr  string
	}{
		{
			name:     "disk full midway",
			failFile: true,
			fill:     func(w io.Writer) error { _, err := w.Write(big); return err },
			wantErr:  "no space left on device",
		},
		{
			name: "producer fails midway",
			fill: func(w io.Writer) error {
				w.Write(big[:100])
				return errors.New("encoder broke")
			},
			wantErr: "encoder broke",
		},
		{
			name:    "veto before rename",
			fill:    func(w io.Writer) error { _, err := w.Write(big); return err },
			before:  func() error { return errors.New("changed on disk") },
			wantErr: "changed on disk",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "queue.json")
			if err := os.WriteFile(path, old, 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.failFile {
				orig := createTemp
				createTemp = func(dir, pattern string) (tempFile, error) {
					f, err := os.CreateTemp(dir, pattern)
					return &failingFile{File: f, limit: 100}, err
				}
				t.Cleanup(func() { createTemp = orig })
			}
			err := Write(path, Options{Backup: true, BeforeRename: tt.before}, tt.fill)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and %q", err, path, tt.wantErr)
			}
			got, _ := os.ReadFile(path)
			if string(got) != string(old) {
				t.Errorf("target changed to %q", got)
			}
			if names := entries(t, dir); len(names) != 1 {
				t.Errorf("directory holds %v, want only queue.json (temp file not removed, or backup made)", names)
			}
		})
	}
}

func TestWriteReplacesAndKeepsBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stats.json")
	for i, content := range []string{"one", "two", "three"} {
		err := Write(path, Options{Backup: true, Perm: 0o600}, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != content {
			t.Errorf("write %d: content %q, want %q", i, got, content)
		}
		bak, err := os.ReadFile(path + ".bak")
		switch {
		case i == 0 && err == nil:
			t.Errorf("first write made a backup %q of nothing", bak)
		case i > 0 && string(bak) != []string{"one", "two"}[i-1]:
			t.Errorf("write %d: backup %q (%v)", i, bak, err)
		}
		info, _ := os.Stat(path)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", info.Mode().Perm())
		}
	}
	if names := entries(t, dir); len(names) != 2 {
		t.Errorf("directory holds %v, want the file and its .bak", names)
	}
}

func TestWriteFileNoBackupAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp.json")
	if err := WriteFile(path, []byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("b"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "b" {
		t.Errorf("content %q", got)
	}
	if _, err := os.Stat(path + ".bak"); err == nil {
		t.Error("WriteFile kept a backup without being asked")
	}
	missing := filepath.Join(dir, "no", "such", "dir", "x.json")
	err := WriteFile(missing, []byte("a"), 0)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("err = %v, want one naming %s", err, missing)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "q[1].json")
	for _, name := range []string{".q[1].json.tmp-123", ".q[1].json.tmp-456", "q[1].json", ".other.json.tmp-1", "q[1].json.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveStale(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if got := strings.Join(left, ","); got != ".other.json.tmp-1,q[1].json,q[1].json.bak" {
		t.Errorf("left %s", got)
	}
}
