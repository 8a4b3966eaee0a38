package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/etlhq/etl/etl/atomicfile"
)

// fileSystem is where a store keeps its log files: a directory on disk, or
// memory (tests, and the crash test's clones).
type fileSystem interface {
	// list returns the names of the files there.
	list() ([]string, error)
	// open opens an existing file for reading and, unless the store is
	// read-only, writing.
	open(name string) (file, error)
	// create creates (or empties) a file for writing and reading.
	create(name string) (file, error)
	rename(from, to string) error
	remove(name string) error
	// syncDir makes the names created, renamed and removed so far durable.
	syncDir() error
}

// file is one log file.
type file interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Close() error
}

// osFS is a directory on disk.
type osFS struct {
	dir string
	ro  bool
}

func (o osFS) list() ([]string, error) {
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (o osFS) open(name string) (file, error) {
	flag := os.O_RDWR
	if o.ro {
		flag = os.O_RDONLY
	}
	return os.OpenFile(filepath.Join(o.dir, name), flag, 0)
}

func (o osFS) create(name string) (file, error) {
	return os.OpenFile(filepath.Join(o.dir, name), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}

func (o osFS) rename(from, to string) error {
	return os.Rename(filepath.Join(o.dir, from), filepath.Join(o.dir, to))
}

func (o osFS) remove(name string) error { return os.Remove(filepath.Join(o.dir, name)) }

func (o osFS) syncDir() error { return atomicfile.SyncDir(o.dir) }

// MemFS is a file system in memory that can crash: CrashClone returns what
// a machine that lost power at that moment would find. It is for tests
// (OpenMem, and crash tests through OpenFS).
type MemFS struct {
	mu sync.Mutex
	// names are the files as the store sees them; durable are the names
	// as of the last syncDir, what a crash keeps.
	names, durable map[string]*memFile
	// changed, if set, is called after every change (tests: a crash
	// after each).
	changed func()
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS {
	return &MemFS{names: map[string]*memFile{}, durable: map[string]*memFile{}}
}

type memFile struct {
	fs   *MemFS
	data []byte
	// synced is how much of data a crash keeps for sure.
	synced int
}

// CrashClone returns the file system a crash at this moment leaves: the
// names as of the last directory sync, each file with its synced bytes and
// a random part of the rest, in which some bytes may be garbage (a write
// torn by the power cut).
func (m *MemFS) CrashClone(rng *rand.Rand) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemFS()
	for name, f := range m.durable {
		keep := f.synced
		if unsynced := len(f.data) - f.synced; unsynced > 0 {
			keep += rng.IntN(unsynced + 1)
		}
		data := slices.Clone(f.data[:keep])
		if keep > f.synced && rng.IntN(4) == 0 {
			data[f.synced+rng.IntN(keep-f.synced)] ^= byte(1 + rng.IntN(255))
		}
		nf := &memFile{fs: c, data: data, synced: len(data)}
		c.names[name], c.durable[name] = nf, nf
	}
	return c
}

// notify calls the changed hook; no lock is held.
func (m *MemFS) notify() {
	if m.changed != nil {
		m.changed()
	}
}

func (m *MemFS) list() ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.names)), nil
}

func (m *MemFS) open(name string) (file, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.names[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f, nil
}

func (m *MemFS) create(name string) (file, error) {
	defer m.notify()
	m.mu.Lock()
	defer m.mu.Unlock()
	f := &memFile{fs: m}
	m.names[name] = f
	return f, nil
}

func (m *MemFS) rename(from, to string) error {
	defer m.notify()
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.names[from]
	if !ok {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrNotExist}
	}
	delete(m.names, from)
	m.names[to] = f
	return nil
}

func (m *MemFS) remove(name string) error {
	defer m.notify()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.names[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.names, name)
	return nil
}

func (m *MemFS) syncDir() error {
	defer m.notify()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.durable = maps.Clone(m.names)
	return nil
}

// size is the bytes the files hold.
func (m *MemFS) size() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, f := range m.names {
		n += int64(len(f.data))
	}
	return n
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	defer f.fs.notify()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if off > int64(len(f.data)) {
		return 0, errors.New("memFile: write past the end")
	}
	if int(off) < f.synced {
		return 0, fmt.Errorf("memFile: overwrite of synced bytes at %d", off)
	}
	end := int(off) + len(p)
	if end > len(f.data) {
		f.data = slices.Grow(f.data, end-len(f.data))[:end]
	}
	copy(f.data[off:], p)
	return len(p), nil
}

func (f *memFile) Sync() error {
	defer f.fs.notify()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.synced = len(f.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	defer f.fs.notify()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if size > int64(len(f.data)) {
		return errors.New("memFile: truncate past the end")
	}
	f.data = f.data[:size]
	f.synced = min(f.synced, int(size))
	return nil
}

func (f *memFile) Close() error { return nil }

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return memInfo(len(f.data)), nil
}

// memInfo is a memFile's fs.FileInfo: its size is all a store asks.
type memInfo int64

func (m memInfo) Name() string       { return "" }
func (m memInfo) Size() int64        { return int64(m) }
func (m memInfo) Mode() fs.FileMode  { return 0o600 }
func (m memInfo) ModTime() time.Time { return time.Time{} }
func (m memInfo) IsDir() bool        { return false }
func (m memInfo) Sys() any           { return nil }
