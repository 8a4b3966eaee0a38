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
func Write(path string, opts Options, fill func(w io.Writer) error) error {
	f, err := Create(path, opts)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: writing: %w", path, err)
	}
	return f.Commit()
}

// File is a replacement of a file under way: written to a temp file beside
// it, which Commit puts in its place and Abort removes. A writer that
// streams (a sink writing records as they come) uses it where Write's
// single fill function does not fit.
type File struct {
	path string
	opts Options
	f    tempFile
	done bool
}

// Create starts replacing path: the temp file is made now, so that a path
// that cannot be written fails here.
func Create(path string, opts Options) (*File, error) {
	if opts.Perm == 0 {
		opts.Perm = 0o644
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{path: path, opts: opts, f: f}, nil
}

// Write writes to the temp file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Abort removes the temp file, leaving path as it was. It does nothing
// after Commit or another Abort, so that a deferred Abort is safe.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// Commit syncs the temp file and renames it over path (keeping a backup
// when asked). On error the temp file is removed and path keeps its
// previous content.
func (f *File) Commit() (err error) {
	if f.done {
		return fmt.Errorf("write %s: already committed or aborted", f.path)
	}
	tmp, closed := f.f.Name(), false
	defer func() {
		f.done = true
		if err != nil {
			if !closed {
				f.f.Close()
			}
			os.Remove(tmp)
		}
	}()
	wrap := func(step string, e error) error { return fmt.Errorf("write %s: %s: %w", f.path, step, e) }
	if err := f.f.Sync(); err != nil {
		return wrap("fsync", err)
	}
	closed = true
	if err := f.f.Close(); err != nil {
		return wrap("close", err)
	}
	if err := os.Chmod(tmp, f.opts.Perm); err != nil {
		return wrap("chmod", err)
	}
	if f.opts.BeforeRename != nil {
		if err := f.opts.BeforeRename(); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	if f.opts.Backup {
		if err := backup(f.path); err != nil {
			return wrap("keeping backup", err)
		}
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return wrap("rename", err)
	}
	dir := filepath.Dir(f.path)
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

// CheckWritable fails when files cannot be created in dir or, if dir does
// not exist yet, in its nearest existing ancestor (where Write's caller
// would create it): the check a sink makes before a run reads anything,
// so that a wrong path costs no request. It writes nothing. what names
// the directory in the error ("queue directory").
func CheckWritable(dir, what string) error {
	d := dir
	for {
		info, err := os.Stat(d)
		if err == nil {
			if !info.IsDir() {
				return fmt.Errorf("%s %s: %s is not a directory", what, dir, d)
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fmt.Errorf("%s %s: %w", what, dir, err)
		}
		d = parent
	}
	if err := writable(d); err != nil {
		return fmt.Errorf("%s %s is not writable: %w", what, dir, err)
	}
	return nil
}
