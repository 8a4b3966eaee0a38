// Package store is the embedded, transactional key-value store that holds a
// pipeline's checkpoint: which partitions are done and the keyed state of
// its stateful stages. It wraps pebble (an LSM tree: a commit writes what
// changed to its log, so the cost of a save is proportional to the change,
// not to the state) and guards the directory with a file lock, so that one
// process at a time uses it.
//
// The store knows nothing of pipelines: package etl lays its keys out.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gofrs/flock"

	"github.com/etlhq/etl/etl/atomicfile"
)

// marker is a file every store directory holds: `etl state rm` deletes
// only directories that have it.
const marker = "ETL_STATE"

// lockName is the lock file inside the directory. It holds the process id
// and start time of its holder, for the message a second process prints.
const lockName = "etl.lock"

// Options tune Open.
type Options struct {
	// ReadOnly opens an existing store for reading (etl plan, state
	// show): nothing is written, and a missing store is fs.ErrNotExist.
	ReadOnly bool
}

// Store is an open store. Its methods are safe for concurrent use.
type Store struct {
	db   *pebble.DB
	dir  string
	lock *flock.Flock
	ro   bool
}

// InUseError says another process holds the store.
type InUseError struct {
	Dir string
	// Holder describes the other process ("process 1234, started
	// 2026-11-30 02:41:07 UTC"), or is empty when the lock file says
	// nothing.
	Holder string
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.Holder != "" {
		who = e.Holder
	}
	return fmt.Sprintf("the state %s is in use by %s; wait for it to finish (or stop it) and run again", e.Dir, who)
}

// Open opens the store in dir, creating it unless opts.ReadOnly, and locks
// it for this process. A store held by another process is an *InUseError.
func Open(dir string, opts Options) (*Store, error) {
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a state directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else if err != nil && opts.ReadOnly {
		return nil, err
	}
	if !opts.ReadOnly {
		// Never take over a directory that holds something else (--state
		// pointed at a data directory by mistake): `etl state rm` would
		// later delete it.
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !IsStore(dir) {
			return nil, fmt.Errorf("%s is a directory that is not an etl state (it holds other files, such as %s); give --state a new or empty directory", dir, entries[0].Name())
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		// The marker before anything else is created: a run killed at any
		// later point leaves a directory that the next run takes for a
		// store, not for someone else's data.
		if err := writeMarker(dir); err != nil {
			return nil, err
		}
	} else if isEmptyDir(dir) {
		// A run stopped as it made the directory.
		return nil, noCheckpointError{dir}
	} else if !IsStore(dir) {
		return nil, fmt.Errorf("%s is not an etl state directory", dir)
	}
	lk, err := acquire(dir, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	fsys := vfs.Default
	if opts.ReadOnly {
		// Our lock already keeps writers out; pebble's own lock would
		// touch its LOCK file, and a plan leaves every file as it was.
		fsys = noLockFS{vfs.Default}
	}
	s := &Store{dir: dir, lock: lk, ro: opts.ReadOnly}
	if err := s.open(fsys); err != nil {
		if lk != nil {
			lk.Unlock()
		}
		return nil, err
	}
	return s, nil
}

// OpenMem returns a store held in memory, for tests.
func OpenMem() *Store {
	s, err := OpenFS(vfs.NewMem())
	if err != nil {
		panic(err) // an in-memory store cannot fail to open
	}
	return s
}

// OpenFS opens a store on a pebble file system, unlocked: for tests that
// simulate a crash (vfs.NewCrashableMem, then CrashClone at any moment, and
// OpenFS on the clone).
func OpenFS(fsys vfs.FS) (*Store, error) {
	s := &Store{}
	if err := s.open(fsys); err != nil {
		return nil, err
	}
	return s, nil
}

// open opens pebble with settings sized for a pipeline's state: a small
// memtable and block cache keep the process's memory low (the state is
// read mostly once, at restore, and written in per-partition batches).
func (s *Store) open(fsys vfs.FS) error {
	cache := pebble.NewCache(4 << 20)
	defer cache.Unref()
	opts := &pebble.Options{
		FS:                    fsys,
		Cache:                 cache,
		MemTableSize:          4 << 20,
		L0CompactionThreshold: 32,
		L0StopWritesThreshold: 64,
		ReadOnly:              s.ro,
		Logger:                quietLogger{},
	}
	dir := s.dir
	if dir == "" {
		dir = "mem"
	}
	dbDir := filepath.Join(dir, "db")
	if s.ro {
		// A run stopped after it made the directory and before pebble
		// wrote its first manifest left nothing to read.
		if _, err := fsys.Stat(dbDir); errors.Is(err, fs.ErrNotExist) {
			return noCheckpointError{s.dir}
		}
	}
	db, err := pebble.Open(dbDir, opts)
	if s.ro && errors.Is(err, pebble.ErrDBDoesNotExist) {
		return noCheckpointError{s.dir}
	}
	if err != nil {
		return fmt.Errorf("opening the state %s: %w", s.dir, err)
	}
	s.db = db
	return nil
}

// Dir is the store's directory ("" in memory).
func (s *Store) Dir() string { return s.dir }

// Close closes the store and releases its lock.
func (s *Store) Close() error {
	var err error
	if s.db != nil {
		err = s.db.Close()
		s.db = nil
	}
	if s.lock != nil {
		if !s.ro {
			os.WriteFile(filepath.Join(s.dir, lockName), nil, 0o600) // the holder is gone
		}
		if uerr := s.lock.Unlock(); err == nil {
			err = uerr
		}
		s.lock = nil
	}
	return err
}

// noCheckpointError says a store directory holds no database yet: a run
// stopped after it made the directory and before pebble wrote its first
// manifest. It is an fs.ErrNotExist, so that a plan treats it as no state.
type noCheckpointError struct{ dir string }

func (e noCheckpointError) Error() string {
	return fmt.Sprintf("the state %s holds no checkpoint yet (a run stopped before its first commit)", e.dir)
}

func (noCheckpointError) Is(target error) bool { return target == fs.ErrNotExist }

// noLockFS is a file system on which pebble's directory lock is a no-op
// (see Open).
type noLockFS struct{ vfs.FS }

func (noLockFS) Lock(string) (io.Closer, error) { return io.NopCloser(nil), nil }

// Get returns the value of key; ok is false when there is none. The value
// is a copy, the caller's to keep.
func (s *Store) Get(key []byte) (value []byte, ok bool, err error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	value = bytes.Clone(v)
	closer.Close()
	return value, true, nil
}

// Scan calls fn for every key with the prefix, in key order. The slices
// are valid only during the call.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}

// Iterator walks the keys with a prefix in order, a step at a time: for
// merging with changes not yet committed (see package etl's tables).
type Iterator struct {
	it    *pebble.Iterator
	valid bool
}

// NewIterator returns an iterator over the keys with prefix, positioned on
// the first.
func (s *Store) NewIterator(prefix []byte) (*Iterator, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	return &Iterator{it: it, valid: it.First()}, nil
}

// Valid reports whether the iterator is on a key.
func (i *Iterator) Valid() bool { return i.valid }

// Key is the current key; valid until Next.
func (i *Iterator) Key() []byte { return i.it.Key() }

// Value is the current value; valid until Next.
func (i *Iterator) Value() ([]byte, error) { return i.it.ValueAndErr() }

// Next moves to the next key.
func (i *Iterator) Next() { i.valid = i.it.Next() }

// Close releases the iterator and returns its error, if any.
func (i *Iterator) Close() error {
	err := i.it.Error()
	if cerr := i.it.Close(); err == nil {
		err = cerr
	}
	return err
}

// Batch is a set of changes committed atomically.
type Batch struct {
	b *pebble.Batch
}

// NewBatch starts a batch with room for size bytes of changes (it grows
// past that if need be).
func (s *Store) NewBatch(size int) *Batch { return &Batch{b: s.db.NewBatchWithSize(size)} }

// Set sets key to value in the batch (both are copied).
func (b *Batch) Set(key, value []byte) error { return b.b.Set(key, value, nil) }

// Delete deletes key in the batch.
func (b *Batch) Delete(key []byte) error { return b.b.Delete(key, nil) }

// DeletePrefix deletes every key with the prefix.
func (b *Batch) DeletePrefix(prefix []byte) error {
	return b.b.DeleteRange(prefix, PrefixEnd(prefix), nil)
}

// Len is the size of the batch's changes in bytes, as written to the log.
func (b *Batch) Len() int { return b.b.Len() }

// Commit applies the batch atomically; with sync, it is on disk when
// Commit returns (a crash afterwards keeps it).
func (b *Batch) Commit(sync bool) error {
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	err := b.b.Commit(opt)
	b.b.Close()
	return err
}

// Close discards a batch that was not committed.
func (b *Batch) Close() { b.b.Close() }

// Size is the disk space the store's files take, in bytes.
func (s *Store) Size() int64 {
	if s.dir == "" {
		m := s.db.Metrics()
		return int64(m.DiskSpaceUsage())
	}
	var n int64
	filepath.WalkDir(s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// PrefixEnd is the smallest key greater than every key with the prefix.
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // every key
}

// IsStore reports whether dir is a store directory: it holds the marker,
// or nothing but the lock file and pebble's database (what an etl before
// the marker came first could leave when killed while creating the store,
// or Remove when killed before its last step).
func IsStore(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
		return true
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		switch {
		case e.Name() == lockName:
		case e.Name() == "db" && e.IsDir() && isPebbleDir(filepath.Join(dir, "db")):
		default:
			return false
		}
	}
	return true
}

// Unwritten reports whether dir is a store no run has written to: it
// holds no database, only what a run killed while making it leaves (the
// marker, the lock file). A run that then commits nothing removes it, as
// it would a directory it made itself.
func Unwritten(dir string) bool {
	if !IsStore(dir) {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "db"))
	return errors.Is(err, fs.ErrNotExist)
}

// isPebbleDir reports whether dir holds pebble's own files (its LOCK, or
// the manifest's marker), not some other database's.
func isPebbleDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() == "LOCK" || strings.HasPrefix(e.Name(), "marker.manifest.") || strings.HasPrefix(e.Name(), "marker.format-version.") {
			return true
		}
	}
	return false
}

// isEmptyDir reports whether dir is a directory with nothing in it.
func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// Remove deletes the store in dir, after taking its lock: a store another
// process uses is an *InUseError, and a directory that is not a store is
// refused.
func Remove(dir string) error {
	if !IsStore(dir) {
		return fmt.Errorf("%s is not an etl state directory; not deleting it", dir)
	}
	lk, err := acquire(dir, false)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	// The database first and the marker after it, so that a crash midway
	// leaves a directory still taken for a store: a damaged one, which
	// --fresh and `etl state rm` remove, or an empty one. Then the
	// directory itself only if that leaves it empty: a file someone put
	// there is not ours to delete.
	if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, marker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	lk.Unlock()
	if err := os.Remove(filepath.Join(dir, lockName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("removed the state from %s, but the directory holds other files, left as they are: %w", dir, err)
	}
	return nil
}

// writeMarker creates the marker file unless it is there, durably: the file
// and its directory entry are synced before Open creates anything else.
func writeMarker(dir string) error {
	path := filepath.Join(dir, marker)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString("This directory is an etl checkpoint (a pebble database). `etl state show` reads it, `etl state rm` deletes it.\n")
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// The directory entry too, so that the marker is on disk before the
	// database files that follow it.
	return atomicfile.SyncDir(dir)
}

// acquire takes the directory's lock without waiting: exclusive to write,
// shared to read. A lock held by another process is an *InUseError naming
// it.
func acquire(dir string, shared bool) (*flock.Flock, error) {
	path := filepath.Join(dir, lockName)
	lk := flock.New(path)
	var ok bool
	var err error
	if shared {
		ok, err = lk.TryRLock()
	} else {
		ok, err = lk.TryLock()
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if !ok {
		return nil, &InUseError{Dir: dir, Holder: holder(path)}
	}
	if !shared {
		who := fmt.Sprintf("process %d, started %s", os.Getpid(), started.UTC().Format("2006-01-02 15:04:05 UTC"))
		if err := os.WriteFile(path, []byte(who+"\n"), 0o600); err != nil {
			lk.Unlock()
			return nil, err
		}
	}
	return lk, nil
}

// holder describes who holds the lock at path: the writer the lock file
// names, when that process is alive; otherwise readers, which share the
// lock without writing the file (a plan, state show), and the file names
// a writer long gone or nobody.
func holder(path string) string {
	data, _ := os.ReadFile(path)
	who := strings.TrimSpace(string(data))
	var pid int
	if _, err := fmt.Sscanf(who, "process %d,", &pid); err == nil && pid > 0 && processAlive(pid) {
		return who
	}
	return "another etl reading it (etl plan or etl state show)"
}

// processAlive reports whether a process with this id exists.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// started is when this process started (close enough: when the package
// was initialised).
var started = time.Now()

// quietLogger keeps pebble's informational lines ("Found 0 WALs") out of
// the user's output; errors still come back as errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
