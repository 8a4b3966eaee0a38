package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One process at a time: a second Open of a store in use is an
// InUseError naming the holder; once closed, it opens.
func TestOpenLocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	var inUse *InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), fmt.Sprintf("process %d, started ", os.Getpid())) {
		t.Fatalf("second Open: %v", err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.As(err, &inUse) {
		t.Fatalf("read-only Open of a store in use: %v", err)
	}
	if err := Remove(dir); !errors.As(err, &inUse) {
		t.Fatalf("Remove of a store in use: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// What a committed batch holds survives the store's close; Remove deletes
// only a store directory.
func TestCommitReopenRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch(0)
	b.Set([]byte("a/1"), []byte("x"))
	b.Set([]byte("a/2"), []byte("y"))
	b.Set([]byte("b/1"), []byte("z"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b = s.NewBatch(0)
	b.DeletePrefix([]byte("b/"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	s.Close()

	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	r.Scan([]byte(""), func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil })
	if strings.Join(got, " ") != "a/1=x a/2=y" {
		t.Errorf("after reopening: %v", got)
	}
	r.Close()

	other := t.TempDir()
	if err := Remove(other); err == nil || !strings.Contains(err.Error(), "not an etl state directory") {
		t.Errorf("Remove of a plain directory: %v", err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("store still there: %v", err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !os.IsNotExist(err) {
		t.Errorf("read-only Open of no store: %v", err)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want []byte }{
		{[]byte("a"), []byte("b")},
		{[]byte("a\xff"), []byte("b")},
		{[]byte("state/x\x00"), []byte("state/x\x01")},
		{[]byte("\xff\xff"), nil},
	} {
		if got := PrefixEnd(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("PrefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// An existing directory that holds other files is never taken over as a
// store, and Remove leaves files a store does not hold.
func TestOpenRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "queue.json"), []byte("important"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "is a directory that is not an etl state") {
		t.Fatalf("Open of a data directory: %v", err)
	}
	if IsStore(dir) {
		t.Fatal("the data directory was marked as a store")
	}
	// A store someone put a file into: Remove deletes the store, not it.
	st := filepath.Join(t.TempDir(), "st")
	openClose(t, st)
	os.WriteFile(filepath.Join(st, "notes.txt"), []byte("mine"), 0o644)
	if err := Remove(st); err == nil || !strings.Contains(err.Error(), "holds other files") {
		t.Fatalf("Remove: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(st, "notes.txt")); err != nil || string(b) != "mine" {
		t.Fatalf("the other file: %q, %v", b, err)
	}
	if IsStore(st) {
		t.Error("still a store after Remove")
	}
}

// A reader holds the lock shared without naming itself: a writer refused
// by it is not told the name of the last writer, long gone.
func TestInUseByReaderNamesNoDeadWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// What a SIGKILLed writer leaves: its line in the lock file.
	os.WriteFile(filepath.Join(dir, lockName), []byte("process 999999999, started 2026-01-01 00:00:00 UTC\n"), 0o600)
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = Open(dir, Options{})
	if err == nil || strings.Contains(err.Error(), "999999999") || !strings.Contains(err.Error(), "etl plan or etl state show") {
		t.Fatalf("writer refused by a reader: %v", err)
	}
}

// A process killed at any moment while it creates or removes a store
// leaves a directory that the next Open takes for a store: the marker comes
// before anything else is created, and goes after the database. The child
// process creates stores one after another, removing every other one,
// until it is killed; every directory it left must be a store that opens,
// or, killed while Remove deleted the database, a damaged one that Remove
// clears (as `etl state rm` and --fresh do).
func TestOpenSurvivesKillDuringCreateAndRemove(t *testing.T) {
	if dir := os.Getenv("ETL_STORE_CREATE_LOOP"); dir != "" {
		parent := os.Getppid()
		for i := 0; i < 5000 && os.Getppid() == parent; i++ {
			path := filepath.Join(dir, fmt.Sprint(i))
			s, err := Open(path, Options{})
			if err == nil {
				err = s.Close()
			}
			if err == nil && i%2 == 1 {
				err = Remove(path)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
		os.Exit(0)
	}
	root := t.TempDir()
	for round := 0; round < 6; round++ {
		dir := filepath.Join(root, fmt.Sprint(round))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestOpenSurvivesKillDuringCreateAndRemove$")
		cmd.Env = append(os.Environ(), "ETL_STORE_CREATE_LOOP="+dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it a different while after its first store: a slow start
		// (-race, a busy machine) must not end a round before it began.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if made, _ := os.ReadDir(dir); len(made) > 0 {
				break
			}
		}
		time.Sleep(time.Duration(20+round*37) * time.Millisecond)
		cmd.Process.Kill()
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("the child was not killed midway: %v", err)
		}
		made, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(made) == 0 {
			t.Fatal("the child made no store before it was killed")
		}
		for _, e := range made {
			path := filepath.Join(dir, e.Name())
			// Killed right after making the directory: empty, which
			// Open takes as new (the other Opens below check it).
			if !IsStore(path) && len(entryNames(path)) > 0 {
				t.Errorf("%s (entries %v) is not taken for a store", path, entryNames(path))
				continue
			}
			s, err := Open(path, Options{})
			if openErr := err; openErr != nil {
				// Killed while Remove deleted the database: a damaged
				// state, which Remove (state rm, --fresh) clears.
				if err := Remove(path); err != nil {
					t.Errorf("Remove of %s (entries %v), which Open refused (%v): %v", path, entryNames(path), openErr, err)
					continue
				}
				if s, err = Open(path, Options{}); err != nil {
					t.Errorf("Open of %s after Remove: %v", path, err)
					continue
				}
			}
			s.Close()
			if ro, err := Open(path, Options{ReadOnly: true}); err != nil {
				t.Errorf("read-only Open of %s (entries %v): %v", path, entryNames(path), err)
			} else {
				ro.Close()
			}
		}
	}
}

// A directory an earlier etl left when killed while creating the store
// (pebble's files and the lock, no marker) is a store: Open takes it and
// Remove deletes it. One whose db is not pebble's stays foreign.
func TestDirectoryWithoutMarker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	openClose(t, dir)
	if err := os.Remove(filepath.Join(dir, marker)); err != nil {
		t.Fatal(err)
	}
	if !IsStore(dir) {
		t.Fatalf("a store without its marker (entries %v) is not taken for a store", entryNames(dir))
	}
	openClose(t, dir)
	if err := os.Remove(filepath.Join(dir, marker)); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Remove left %v", entryNames(dir))
	}

	foreign := t.TempDir()
	if err := os.MkdirAll(filepath.Join(foreign, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(foreign, "db", "data.sqlite"), []byte("theirs"), 0o600)
	if IsStore(foreign) {
		t.Fatal("a directory holding another database's db/ is taken for a store")
	}
	if err := Remove(foreign); err == nil {
		t.Fatal("Remove deleted another database's directory")
	}
	if _, err := Open(foreign, Options{}); err == nil {
		t.Fatal("Open took over another database's directory")
	}

	// Remove killed before it removed the lock file: the lock is all
	// that is left.
	lockOnly := t.TempDir()
	os.WriteFile(filepath.Join(lockOnly, lockName), nil, 0o600)
	if !IsStore(lockOnly) {
		t.Fatal("a directory holding only the lock file is not taken for a store")
	}
	if _, err := Open(lockOnly, Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only Open of a lock-only directory: %v", err)
	}
	if !Unwritten(lockOnly) || Unwritten(t.TempDir()) {
		t.Fatal("Unwritten: a lock-only directory is one, an empty directory (not a store) is not")
	}
	written := filepath.Join(t.TempDir(), "w")
	openClose(t, written)
	if Unwritten(written) {
		t.Fatal("a store with its database is taken for unwritten")
	}

	empty := t.TempDir()
	if _, err := Open(empty, Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only Open of an empty directory: %v", err)
	}
}

// openClose opens (or creates) the store in dir and closes it.
func openClose(t *testing.T, dir string) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	s.Close()
}

func entryNames(dir string) []string {
	es, _ := os.ReadDir(dir)
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	return names
}
