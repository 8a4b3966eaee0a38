// Package store is the embedded, transactional key-value store that holds a
// pipeline's checkpoint: which partitions are done and the keyed state of
// its stateful stages. A commit appends what changed to a log (see log.go),
// so the cost of a save is proportional to the change, not to the state;
// memory holds an index of where each value is (about 35 bytes a key),
// and, while a scan runs, the keys it walks. The directory is guarded by a
// file lock, so that one process at a time uses it.
//
// The store knows nothing of pipelines: package etl lays its keys out.
package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

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
	dir  string
	lock *flock.Flock
	ro   bool
	fsys fileSystem

	// commitMu orders commits and compactions: the index and the log's
	// end change only under it (and mu).
	commitMu sync.Mutex
	// mu guards the index and the current log; readers hold it shared
	// while they read a value.
	mu    sync.RWMutex
	index *index
	log   *logFile
	seq   int   // the log's number
	end   int64 // the end of the log's last record
	// err is a failed commit's error: after a write or sync failed, what
	// the log holds is unknown, and no further commit is made.
	err error
	// unsynced says a commit was made without sync since the last sync.
	unsynced bool
	// compactAt is the log size at which the next compaction may start:
	// after one failed, not before the log has grown again.
	compactAt int64

	// spare is the buffer of the last batch done with, which the next
	// batch reuses (guarded by spareMu). A run commits batches of about
	// the same size one after another: a fresh buffer each time was 114 MB
	// of zeroed memory at the scale run, and a tenth of its commits' CPU.
	spareMu sync.Mutex
	spare   []byte
}

// maxSpare is the largest batch buffer kept for the next batch: an
// unusual batch (a first commit that copies a whole old state) is not
// held for the whole run.
const maxSpare = 16 << 20

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
	s := &Store{dir: dir, lock: lk, ro: opts.ReadOnly}
	err = s.openDir()
	if err != nil {
		if lk != nil {
			lk.Unlock()
		}
		return nil, err
	}
	return s, nil
}

// openDir opens the log in the store's directory, making its directory
// (durably) unless read-only. An earlier etl's pebble state is refused
// before anything is made in it.
func (s *Store) openDir() error {
	logs := filepath.Join(s.dir, logDir)
	_, err := os.Stat(logs)
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case missing && isPebbleDir(filepath.Join(s.dir, pebbleDir)):
		return oldFormatError(s.dir)
	case missing && s.ro:
		// A run stopped after it made the directory and before it made
		// its log.
		return noCheckpointError{s.dir}
	case missing:
		if err := os.Mkdir(logs, 0o700); err != nil {
			return err
		}
	}
	if !s.ro {
		// The log directory's entry, every time: a run killed after it
		// made it, before this sync, left it not yet durable.
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return err
		}
	}
	return s.open(osFS{dir: logs, ro: s.ro})
}

// oldFormatError says the state is an earlier etl's pebble database.
func oldFormatError(dir string) error {
	return fmt.Errorf("the state %s was written by an earlier etl (a pebble database), which this version does not read", dir)
}

// OpenMem returns a store held in memory, for tests.
func OpenMem() *Store {
	s, err := OpenFS(NewMemFS())
	if err != nil {
		panic(err) // an in-memory store cannot fail to open
	}
	return s
}

// OpenFS opens a store on a MemFS, unlocked: for tests that simulate a
// crash (CrashClone at any moment, and OpenFS on the clone).
func OpenFS(fsys *MemFS) (*Store, error) {
	s := &Store{}
	if err := s.open(fsys); err != nil {
		return nil, err
	}
	return s, nil
}

// open reads the log into the index; a writable store without one starts
// an empty log. Files a crash left (an older log, a compaction's .tmp) are
// removed.
func (s *Store) open(fsys fileSystem) error {
	s.fsys, s.index = fsys, newIndex()
	names, err := fsys.list()
	if err != nil {
		return err
	}
	var seqs []int
	for _, name := range names {
		if seq, ok := logSeq(name); ok {
			seqs = append(seqs, seq)
		} else if strings.HasSuffix(name, logSuffix+tmpSuffix) && !s.ro {
			fsys.remove(name)
		}
	}
	if len(seqs) == 0 {
		if s.ro {
			return noCheckpointError{s.dir}
		}
		return s.startLog(1, false)
	}
	slices.Sort(seqs)
	s.seq = seqs[len(seqs)-1]
	name := logName(s.seq)
	f, err := fsys.open(name)
	if err != nil {
		return fmt.Errorf("opening the state %s: %w", s.dir, err)
	}
	s.log = &logFile{f: f, name: name}
	s.log.acquire()
	fail := func(err error) error {
		s.log.release()
		s.log.retire()
		s.log = nil
		return fmt.Errorf("opening the state %s: %w", s.dir, err)
	}
	if s.end, err = replay(f, name, s.apply); err != nil {
		return fail(err)
	}
	if s.ro {
		return nil
	}
	// Cut a torn tail off, so that the next commit follows the last whole
	// one; older logs are what a compaction had replaced. Then the names
	// are made durable: a run killed between a compaction's rename and
	// its directory sync left the log's name not yet on disk.
	if err := f.Truncate(s.end); err != nil {
		return fail(err)
	}
	for _, seq := range seqs[:len(seqs)-1] {
		fsys.remove(logName(seq))
	}
	if err := fsys.syncDir(); err != nil {
		return fail(err)
	}
	return nil
}

// startLog makes log number seq, durably, and makes it the store's log,
// holding the live entries of the current one if compact (else it starts
// empty: a new store). An error before the rename leaves the current log
// in use; after it, the store takes no more commits (which log holds
// them next would be unsure). commitMu is held, or the store is not yet
// shared.
func (s *Store) startLog(seq int, compact bool) error {
	old := s.log
	f, end, moves, err := s.writeLog(seq, old, compact)
	if err != nil {
		return err
	}
	next := &logFile{f: f, name: logName(seq)}
	next.acquire()
	s.mu.Lock()
	s.index.move(moves)
	s.log, s.seq, s.end = next, seq, end
	s.mu.Unlock()
	if old != nil {
		old.release()
		old.retire()
		s.fsys.remove(old.name)
	}
	return nil
}

// writeLog writes log number seq, with the live entries of src if
// compact: to a .tmp file, synced, renamed to its number and its
// directory synced, so that the highest-numbered log is always whole. It
// returns the file, its end and where each entry moved. An
// error after the rename sets s.err. commitMu is held (or the store is not
// yet shared), so the index does not change meanwhile.
func (s *Store) writeLog(seq int, src *logFile, compact bool) (f file, end int64, moves []move, err error) {
	name := logName(seq)
	tmp := name + tmpSuffix
	if f, err = s.fsys.create(tmp); err != nil {
		return nil, 0, nil, err
	}
	fail := func(err error) (file, int64, []move, error) {
		f.Close()
		s.fsys.remove(tmp)
		return nil, 0, nil, err
	}
	if _, err := f.WriteAt([]byte(logMagic), 0); err != nil {
		return fail(err)
	}
	end = int64(len(logMagic))
	if compact {
		live := func(key []byte, at place) bool {
			s.mu.RLock()
			defer s.mu.RUnlock()
			p, ok := s.index.get(key)
			return ok && p == at
		}
		s.mu.RLock()
		keys := s.index.len()
		s.mu.RUnlock()
		if end, moves, err = compactInto(f, end, src, s.end, keys, live); err != nil {
			return fail(err)
		}
		if len(moves) != keys {
			// Every key points into the log: one not found in it would
			// be lost by the switch.
			return fail(fmt.Errorf("compaction found %d of the %d keys' values", len(moves), keys))
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := s.fsys.rename(tmp, name); err != nil {
		return fail(err)
	}
	if err := s.fsys.syncDir(); err != nil {
		f.Close()
		s.err = fmt.Errorf("the state %s: syncing its directory: %w", s.dir, err)
		return nil, 0, nil, s.err
	}
	return f, end, moves, nil
}

// Dir is the store's directory ("" in memory).
func (s *Store) Dir() string { return s.dir }

// Close closes the store and releases its lock.
func (s *Store) Close() error {
	s.commitMu.Lock()
	s.mu.Lock()
	var err error
	if s.log != nil && s.unsynced && s.err == nil {
		err = s.log.f.Sync() // commits made without sync are kept too
	}
	log := s.log
	s.log = nil // reads from now on are errClosed
	compact := log != nil && !s.ro && s.err == nil && err == nil &&
		compactNow(s.end, s.index.live, true) && s.end >= s.compactAt
	s.mu.Unlock()
	if compact {
		// The log's garbage goes now, when the run needs neither the
		// memory nor the time (the index is not moved: it is done with).
		// A failure before the rename leaves the log as it is, whole; one
		// after it is the store's error.
		if f, _, _, cerr := s.writeLog(s.seq+1, log, true); cerr == nil {
			f.Close()
			s.fsys.remove(log.name)
		} else if s.err != nil {
			err = s.err
		}
	}
	if log != nil {
		log.release()
		log.retire()
	}
	s.commitMu.Unlock()
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

// noCheckpointError says a store directory holds no log yet: a run
// stopped after it made the directory and before it wrote its log. It is
// an fs.ErrNotExist, so that a plan treats it as no state.
type noCheckpointError struct{ dir string }

func (e noCheckpointError) Error() string {
	return fmt.Sprintf("the state %s holds no checkpoint yet (a run stopped before its first commit)", e.dir)
}

func (noCheckpointError) Is(target error) bool { return target == fs.ErrNotExist }

// apply applies one operation of a record to the index; mu is held (or
// the store is not yet shared). A prefix that reaches into a group needs
// that group's keys, read from the log.
func (s *Store) apply(op byte, key, _ []byte, at place) error {
	switch op {
	case opSet:
		s.index.set(key, at)
	case opDelete:
		s.index.delete(key)
	case opDeletePrefix:
		whole, part := s.index.scope(key)
		for _, name := range whole {
			s.index.dropGroup(name)
		}
		var buf []byte
		for _, name := range part {
			var doomed []keyHash
			var err error
			s.index.groups[name].each(func(h keyHash, p place) {
				if err != nil {
					return
				}
				var k []byte
				if buf, k, err = s.log.readKey(buf, p); err == nil && bytes.HasPrefix(k, key) {
					doomed = append(doomed, h)
				}
			})
			if err != nil {
				return err
			}
			for _, h := range doomed {
				s.index.remove(name, h)
			}
		}
	}
	return nil
}

// Get returns the value of key; ok is false when there is none. The value
// is the caller's to keep.
func (s *Store) Get(key []byte) (value []byte, ok bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.log == nil {
		return nil, false, errClosed
	}
	p, ok := s.index.get(key)
	if !ok {
		return nil, false, nil
	}
	if _, value, err = s.log.readValue(nil, p, key); err != nil {
		return nil, false, err
	}
	return value, true, nil
}

// Scan calls fn for every key with the prefix, in key order, as the store
// was when Scan was called. The slices are valid only during the call.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	it, err := s.NewIterator(prefix)
	if err != nil {
		return err
	}
	for ; it.Valid(); it.Next() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// Iterator walks the keys with a prefix in order, a step at a time, as
// the store was when it was made (for merging with changes not yet
// committed: see package etl's tables).
type Iterator struct {
	log     *logFile
	entries []entry
	i       int
	buf     []byte
}

// entry is a key and where its entry is in the log.
type entry struct {
	key string
	at  place
}

// NewIterator returns an iterator over the keys with prefix, positioned on
// the first. It reads the keys from the log (in the log's order) and sorts
// them: while it lives, memory holds those keys, not their values.
func (s *Store) NewIterator(prefix []byte) (*Iterator, error) {
	s.mu.RLock()
	if s.log == nil {
		s.mu.RUnlock()
		return nil, errClosed
	}
	var entries []entry
	whole, part := s.index.scope(prefix)
	for _, name := range append(whole, part...) {
		s.index.groups[name].each(func(_ keyHash, p place) { entries = append(entries, entry{at: p}) })
	}
	log := s.log.acquire()
	s.mu.RUnlock()
	// The log's entries never change: read them without the lock.
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.at.off, b.at.off) })
	var buf []byte
	kept := entries[:0]
	for _, e := range entries {
		var k []byte
		var err error
		if buf, k, err = log.readKey(buf, e.at); err != nil {
			log.release()
			return nil, err
		}
		if bytes.HasPrefix(k, prefix) {
			kept = append(kept, entry{string(k), e.at})
		}
	}
	slices.SortFunc(kept, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	return &Iterator{log: log, entries: kept}, nil
}

// errClosed is the error of a closed store's reads.
var errClosed = errors.New("the state is closed")

// Valid reports whether the iterator is on a key.
func (i *Iterator) Valid() bool { return i.i < len(i.entries) }

// Key is the current key; valid until Next.
func (i *Iterator) Key() []byte { return []byte(i.entries[i.i].key) }

// Value is the current value; valid until Next.
func (i *Iterator) Value() ([]byte, error) {
	e := i.entries[i.i]
	var v []byte
	var err error
	i.buf, v, err = i.log.readValue(i.buf, e.at, []byte(e.key))
	return v, err
}

// Next moves to the next key.
func (i *Iterator) Next() { i.i++ }

// Close releases the iterator.
func (i *Iterator) Close() error {
	if i.log != nil {
		i.log.release()
		i.log = nil
	}
	return nil
}

// Batch is a set of changes committed atomically: one record of the log.
type Batch struct {
	s *Store
	// rec is the record: its header's room, then the operations.
	rec []byte
}

// NewBatch starts a batch with room for size bytes of changes (it grows
// past that if need be).
func (s *Store) NewBatch(size int) *Batch {
	need := recordHeader + max(size, 0)
	s.spareMu.Lock()
	rec := s.spare
	s.spare = nil
	s.spareMu.Unlock()
	if cap(rec) < need {
		rec = make([]byte, 0, need)
	}
	return &Batch{s: s, rec: rec[:recordHeader]}
}

// Set sets key to value in the batch (both are copied).
func (b *Batch) Set(key, value []byte) error { return b.add(opSet, key, value) }

// Delete deletes key in the batch.
func (b *Batch) Delete(key []byte) error { return b.add(opDelete, key, nil) }

// DeletePrefix deletes every key with the prefix (every key at all for an
// empty prefix; pebble's DeleteRange, used before, missed some there).
func (b *Batch) DeletePrefix(prefix []byte) error { return b.add(opDeletePrefix, prefix, nil) }

// add appends an operation to the record.
func (b *Batch) add(op byte, key, value []byte) error {
	if b.rec == nil {
		return errBatchDone
	}
	b.rec = appendOp(b.rec, op, key, value)
	return nil
}

// errBatchDone is the error of a batch used after Commit or Close.
var errBatchDone = errors.New("the batch was already committed or closed")

// Len is the size of the batch's changes in bytes, as written to the log.
func (b *Batch) Len() int { return max(len(b.rec)-recordHeader, 0) }

// Commit applies the batch atomically; with sync, it is on disk when
// Commit returns (a crash afterwards keeps it).
func (b *Batch) Commit(sync bool) error {
	defer b.Close()
	return b.s.commit(b.rec, sync)
}

// Close discards a batch that was not committed. Its buffer serves the
// next batch: nothing the store keeps points into it.
func (b *Batch) Close() {
	if rec := b.rec; cap(rec) <= maxSpare {
		b.s.spareMu.Lock()
		if cap(rec) > cap(b.s.spare) {
			b.s.spare = rec
		}
		b.s.spareMu.Unlock()
	}
	b.rec = nil
}

// commit appends the record to the log and applies it to the index. Reads
// go on while it writes and syncs: the index points into the log only once
// the record is whole. A failure once the record may be in the log stops
// the store's commits (what the log holds is then unknown); the run fails
// and a resumed run replays what is whole.
func (s *Store) commit(rec []byte, sync bool) error {
	if rec == nil {
		return errBatchDone
	}
	if s.ro {
		return errors.New("the state is open read-only")
	}
	payload := rec[recordHeader:]
	if len(payload) == 0 {
		return nil // nothing to commit: an empty record would read as the log's end
	}
	if len(payload) > maxRecord {
		return fmt.Errorf("the state %s: a commit of %d MB is over the %d MB a record may hold", s.dir, len(payload)>>20, maxRecord>>20)
	}
	if err := walkOps(payload, 0, nil); err != nil {
		return fmt.Errorf("the state %s: a malformed batch: %w", s.dir, err)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.log == nil {
		return errClosed
	}
	sealRecord(rec)
	off := s.end
	if _, err := s.log.f.WriteAt(rec, off); err != nil {
		s.err = fmt.Errorf("writing the state %s: %w", s.dir, err)
		return s.err
	}
	if sync {
		if err := s.log.f.Sync(); err != nil {
			// After a failed fsync, what the file holds is unknown.
			s.err = fmt.Errorf("syncing the state %s: %w", s.dir, err)
			return s.err
		}
	}
	s.mu.Lock()
	err := walkOps(payload, off+recordHeader, s.apply)
	s.end += int64(len(rec))
	s.unsynced = !sync // a sync makes the earlier commits durable too
	live := s.index.live
	s.mu.Unlock()
	if err != nil {
		// A key a prefix delete had to read could not be: the index and
		// the log may disagree.
		s.err = fmt.Errorf("the state %s: %w", s.dir, err)
		return s.err
	}
	if compactNow(s.end, live, false) && s.end >= s.compactAt {
		if err := s.startLog(s.seq+1, true); err != nil {
			if s.err != nil {
				return s.err
			}
			// The log as it is stays whole and in use; try again once it
			// has grown by half (a full disk must not copy the state at
			// every commit).
			s.compactAt = s.end + s.end/2
		}
	}
	return nil
}

// Len is the number of keys the store holds (from its index: no read).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.index.len()
}

// Size is the disk space the store's files take, in bytes.
func (s *Store) Size() int64 {
	if m, ok := s.fsys.(*MemFS); ok {
		return m.size()
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

// The directory's layout: the marker, the lock file, and logDir, which
// holds the log (see log.go). Earlier versions kept a pebble database in
// pebbleDir: such a state is refused with a message (--fresh starts
// over), and Remove deletes it.
const (
	logDir    = "log"
	pebbleDir = "db"
)

// IsStore reports whether dir is a store directory: it holds the marker,
// or nothing but the lock file and the log (or an earlier etl's pebble
// database): what a run of an etl before the marker came first could leave
// when killed while creating the store, or Remove when killed before its
// last step.
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
		case e.Name() == logDir && e.IsDir() && isLogDir(filepath.Join(dir, logDir)):
		case e.Name() == pebbleDir && e.IsDir() && isPebbleDir(filepath.Join(dir, pebbleDir)):
		default:
			return false
		}
	}
	return true
}

// Unwritten reports whether dir is a store no run has written to: it
// holds no log, only what a run killed while making it leaves (the marker,
// the lock file). A run that then commits nothing removes it, as it would
// a directory it made itself.
func Unwritten(dir string) bool {
	if !IsStore(dir) {
		return false
	}
	for _, sub := range []string{logDir, pebbleDir} {
		if _, err := os.Stat(filepath.Join(dir, sub)); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}

// isLogDir reports whether dir holds nothing but a store's log files.
func isLogDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), tmpSuffix)
		if _, ok := logSeq(name); !ok {
			return false
		}
	}
	return true
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
	// The log first and the marker after it, so that a crash midway
	// leaves a directory still taken for a store: a damaged one, which
	// --fresh and `etl state rm` remove, or an empty one. Then the
	// directory itself only if that leaves it empty: a file someone put
	// there is not ours to delete.
	for _, sub := range []string{logDir, pebbleDir} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
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
	_, err = f.WriteString("This directory is an etl checkpoint. `etl state show` reads it, `etl state rm` deletes it.\n")
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
