package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Options tune Write. The zero value writes mode 0644 and keeps no backup.
type Options struct {
	// Perm is the mode of the new file (0644 when zero). It is set
	// explicitly, so the umask does not apply.
	Perm fs.FileMode
	// Backup keeps the file being replaced as <path>.bak (a hard link
	// where possible, else a copy). Nothing is kept when there was no file.
	Backup bool
	// BeforeRename, when set, runs after the temp file is complete and
	// synced and right before it is renamed over the target. An error
	// aborts the write: the temp file is removed and the target untouched.
	// The redial queue sink uses it to detect a concurrent writer.
	BeforeRename func() error
}

// RemoveStale deletes the temp files that Write leaves beside path when
// its process is killed mid-write (nothing can clean up after SIGKILL).
// Call it only where no other writer of path can be at work: under the
// file's lock, or when the caller is the file's only writer.
func RemoveStale(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return RemoveMatching(filepath.Join(dir, "."+globEscape(base)+".tmp-*"))
}

// RemoveMatching deletes the files matching a filepath.Glob pattern; one
// already gone is not an error.
func RemoveMatching(pattern string) error {
	stale, err := filepath.Glob(pattern)
	if err != nil {
		return err
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// globEscape quotes the glob metacharacters of a file name.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tempFile is the part of *os.File that Write uses; tests substitute a
// failing one.
type tempFile interface {
	io.Writer
	Name() string
	Sync() error
	Close() error
}

// createTemp makes the temp file; a test hook.
var createTemp = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }

// WriteFile atomically replaces path with data, mode perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, Options{Perm: perm}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write atomically replaces path with what fill writes. If fill or any step
// fails, the temp file is removed, the target keeps its previous content,
// and the error names path.
func Write(path string, opts Options, fill func(w io.Writer) error) (err error) {
	if opts.Perm == 0 {
		opts.Perm = 0o644
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	wrap := func(step string, e error) error { return fmt.Errorf("write %s: %s: %w", path, step, e) }
	if err := fill(f); err != nil {
		return wrap("writing", err)
	}
	if err := f.Sync(); err != nil {
		return wrap("fsync", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return wrap("close", err)
	}
	if err := os.Chmod(tmp, opts.Perm); err != nil {
		return wrap("chmod", err)
	}
	if opts.BeforeRename != nil {
		if err := opts.BeforeRename(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if opts.Backup {
		if err := backup(path); err != nil {
			return wrap("keeping backup", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return wrap("rename", err)
	}
	if err := SyncDir(dir); err != nil {
		// The new content is in place; only its durability across a
		// power loss is in doubt. Still report it.
		return wrap("fsync directory", err)
	}
	return nil
}

// backup makes path.bak a copy of path's current content, if path exists.
// A hard link costs nothing and shares the old inode, which the rename then
// detaches from path; file systems without links get a copy.
func backup(path string) error {
	bak := path + ".bak"
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.Remove(bak); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Link(path, bak); err == nil {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return WriteFile(bak, data, info.Mode().Perm())
}

// SyncDir fsyncs a directory so that a rename or create in it survives a
// crash. It is a no-op on Windows, where directories cannot be synced.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
