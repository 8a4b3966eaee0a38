package etl

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
	"sync"

	"github.com/etlhq/etl/etl/spill"
	"github.com/etlhq/etl/etl/store"
)

// Table is a stage's keyed state: what the stage keeps, by key, with the
// engine deciding how it is stored. A stateful stage (see Stateful) gets a
// table that the engine checkpoints: the changes made while handling a
// partition are committed with that partition, in one transaction, once
// the partition is done, so that a resumed run finds the table as it was
// after the last partition done. A Cacher's table holds answers that are
// valid at any moment: its changes are committed with every checkpoint
// and once more when a run fails, and the table is emptied when a run
// completes.
//
// Reads see every change made so far, committed or not. Keys and values
// are copied; a value returned is the caller's to keep. A table is safe
// for concurrent use.
type Table interface {
	// Get returns the value of key; ok is false when there is none.
	Get(key []byte) (value []byte, ok bool, err error)
	// Set sets the value of key.
	Set(key, value []byte) error
	// Delete removes key.
	Delete(key []byte) error
	// Scan calls fn for every key in key order; fn must not change the
	// table. The slices it gets are valid only during the call.
	Scan(fn func(key, value []byte) error) error
}

// KeyScanner is implemented by tables that can walk their keys without
// reading their values (the scratch table: its values are in a file).
type KeyScanner interface {
	// ScanKeys calls fn for every key in key order, as Scan does.
	ScanKeys(fn func(key []byte) error) error
}

var _ KeyScanner = (*spill.Map)(nil) // the scratch table

// ScanKeys calls fn for every key of t in key order: through ScanKeys
// when t has it, otherwise through Scan.
func ScanKeys(t Table, fn func(key []byte) error) error {
	if ks, ok := t.(KeyScanner); ok {
		return ks.ScanKeys(fn)
	}
	return t.Scan(func(key, _ []byte) error { return fn(key) })
}

// table is the engine's Table: changes not yet committed are held in
// memory over what the store holds, grouped in deltas, one per partition:
// the changes made since the last mark form the open delta (the latest
// change of each key); a mark seals it, and it waits, in order, until the
// tracker commits it into the store. A read looks in the open delta, then
// in the sealed ones from the newest, then in the store. Sealing moves the
// open delta's map into the list, and committing drops it, so that each
// change is stored in memory once, with no per-key bookkeeping (dedupe
// changes a key per record).
type table struct {
	prefix []byte

	mu sync.Mutex
	// base is the committed state; nil while it must be read as empty (a
	// fresh run before it has wiped the old state).
	base *store.Store
	// open holds the changes since the last seal, by key.
	open map[string]pendingChange
	// sealed holds the deltas sealed and not yet committed, oldest first.
	sealed []*delta
	// keepAll makes deltas never committed (a plan): open then holds
	// every change of the run, and sealing is a no-op.
	keepAll bool
}

type pendingChange struct {
	value   []byte
	deleted bool
}

// delta is the changes of one partition (or, for a cache, of everything
// since the last commit), sealed and waiting to be committed.
type delta struct {
	t       *table
	changes map[string]pendingChange
}

func newTable(base *store.Store, prefix []byte, keepAll bool) *table {
	return &table{prefix: prefix, base: base, open: map[string]pendingChange{}, keepAll: keepAll}
}

// pendingLocked returns key's latest uncommitted change; t.mu is held.
func (t *table) pendingLocked(key string) (pendingChange, bool) {
	if c, ok := t.open[key]; ok {
		return c, true
	}
	for i := len(t.sealed) - 1; i >= 0; i-- {
		if c, ok := t.sealed[i].changes[key]; ok {
			return c, true
		}
	}
	return pendingChange{}, false
}

var _ Table = (*table)(nil)

func (t *table) Get(key []byte) ([]byte, bool, error) {
	t.mu.Lock()
	if c, ok := t.pendingLocked(string(key)); ok {
		t.mu.Unlock()
		if c.deleted {
			return nil, false, nil
		}
		return bytes.Clone(c.value), true, nil
	}
	base := t.base
	t.mu.Unlock()
	if base == nil {
		return nil, false, nil
	}
	return base.Get(t.key(key))
}

func (t *table) Set(key, value []byte) error {
	t.change(key, pendingChange{value: bytes.Clone(value)})
	return nil
}

func (t *table) Delete(key []byte) error {
	t.change(key, pendingChange{deleted: true})
	return nil
}

func (t *table) change(key []byte, c pendingChange) {
	t.mu.Lock()
	t.open[string(key)] = c
	t.mu.Unlock()
}

// Scan merges the pending changes into the store's keys, in key order.
func (t *table) Scan(fn func(key, value []byte) error) error {
	t.mu.Lock()
	pending := make(map[string]pendingChange, len(t.open))
	for _, d := range t.sealed {
		maps.Copy(pending, d.changes)
	}
	maps.Copy(pending, t.open)
	base := t.base
	t.mu.Unlock()
	keys := slices.Sorted(maps.Keys(pending))
	changes := make([]pendingChange, len(keys))
	for i, k := range keys {
		changes[i] = pending[k]
	}

	next := 0 // next pending key to merge
	emitPendingBefore := func(k []byte) error {
		for next < len(keys) && (k == nil || keys[next] < string(k)) {
			if c := changes[next]; !c.deleted {
				if err := fn([]byte(keys[next]), c.value); err != nil {
					return err
				}
			}
			next++
		}
		return nil
	}
	if base != nil {
		it, err := base.NewIterator(t.prefix)
		if err != nil {
			return err
		}
		for ; it.Valid(); it.Next() {
			k := it.Key()[len(t.prefix):]
			if err := emitPendingBefore(k); err != nil {
				it.Close()
				return err
			}
			if next < len(keys) && keys[next] == string(k) {
				// Changed since the commit: the pending change wins.
				if c := changes[next]; !c.deleted {
					if err := fn(k, c.value); err != nil {
						it.Close()
						return err
					}
				}
				next++
				continue
			}
			v, err := it.Value()
			if err == nil {
				err = fn(k, v)
			}
			if err != nil {
				it.Close()
				return err
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return emitPendingBefore(nil)
}

// key is key's key in the store.
func (t *table) key(key []byte) []byte {
	k := make([]byte, 0, len(t.prefix)+len(key))
	return append(append(k, t.prefix...), key...)
}

// changed reports whether the table has changes not yet sealed (never, in
// a plan, whose tables keep every change unsealed).
func (t *table) changed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.keepAll && len(t.open) > 0
}

// seal closes the open delta and returns it; nil when it changed nothing.
func (t *table) seal() *delta {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keepAll || len(t.open) == 0 {
		return nil
	}
	d := &delta{t: t, changes: t.open}
	t.sealed = append(t.sealed, d)
	// The next partition changes about as many keys.
	t.open = make(map[string]pendingChange, len(d.changes))
	return d
}

// write adds the delta's changes to b, in no particular order: a batch
// applies as one, and its keys are distinct.
func (d *delta) write(b *store.Batch) error {
	key := make([]byte, 0, 64) // the batch copies it
	for k, c := range d.changes {
		key = append(append(key[:0], d.t.prefix...), k...)
		var err error
		if c.deleted {
			err = b.Delete(key)
		} else {
			err = b.Set(key, c.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// size is about what write adds to a batch, to size it at once rather than
// grow it by copying (a date's delta at 50,000 phones is megabytes).
func (d *delta) size() int {
	n := 0
	for k, c := range d.changes {
		n += len(d.t.prefix) + len(k) + len(c.value) + 2*binary.MaxVarintLen32 + 1
	}
	return n
}

// committed drops the delta from memory: the store now holds its changes.
// The tracker commits a table's deltas in the order they were sealed,
// except that it never commits one of a partition still open (Mark.Open),
// which stays for this run's reads. Such an older delta must not hide
// this one's newer values once this one is gone: its changes to the same
// keys are dropped. (Nothing reads it outside mu: it is never written.)
func (d *delta) committed() {
	t := d.t
	t.mu.Lock()
	defer t.mu.Unlock()
	i := slices.Index(t.sealed, d)
	if i < 0 {
		return
	}
	for _, older := range t.sealed[:i] {
		for k := range d.changes {
			delete(older.changes, k)
		}
	}
	t.sealed = slices.Delete(t.sealed, i, i+1)
}

// setBase makes the store the table's committed state (after a fresh run
// has wiped the old one).
func (t *table) setBase(s *store.Store) {
	t.mu.Lock()
	t.base = s
	t.mu.Unlock()
}
