package spill

import (
	"maps"
	"slices"
	"sync"
)

// Map is a keyed table of byte values for the length of one run: values
// wait in an anonymous spill file and memory holds, per key, only where
// its value is. It is what the engine hands a stage as its scratch table
// (etl.Scratcher): the redial queue's pending entries, 50,000 phones of a
// few hundred bytes each, cost a few MB of memory this way. A key set
// again points to its newer value; the older one stays in the file unread.
// Nothing is ever committed, and nothing is left on disk (see New).
//
// Map has the methods of etl.Table; they are safe for concurrent use.
type Map struct {
	dir   string
	mu    sync.Mutex
	file  *File // created by the first Set
	where map[string]place
}

type place struct {
	off int64
	n   uint32
}

// NewMap returns an empty Map whose spill file, once one is needed, is
// created in dir (os.TempDir() when "").
func NewMap(dir string) *Map {
	return &Map{dir: dir, where: map[string]place{}}
}

// Get returns a copy of key's value.
func (m *Map) Get(key []byte) ([]byte, bool, error) {
	m.mu.Lock()
	at, ok := m.where[string(key)]
	f := m.file
	m.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	b := make([]byte, at.n)
	if err := f.ReadAt(b, at.off); err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Set makes value the value of key.
func (m *Map) Set(key, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.file == nil {
		f, err := New(m.dir)
		if err != nil {
			return err
		}
		m.file = f
	}
	off, err := m.file.Append(value)
	if err != nil {
		return err
	}
	m.where[string(key)] = place{off, uint32(len(value))}
	return nil
}

// Delete removes key.
func (m *Map) Delete(key []byte) error {
	m.mu.Lock()
	delete(m.where, string(key))
	m.mu.Unlock()
	return nil
}

// Len returns the number of keys.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.where)
}

// Scan calls fn for every key in key order, with its value; the slices
// are valid only during the call. Keys set during the scan may be missed.
func (m *Map) Scan(fn func(key, value []byte) error) error {
	m.mu.Lock()
	keys := slices.Sorted(maps.Keys(m.where))
	m.mu.Unlock()
	var buf []byte
	for _, k := range keys {
		m.mu.Lock()
		at, ok := m.where[k]
		f := m.file
		m.mu.Unlock()
		if !ok {
			continue // deleted meanwhile
		}
		buf = slices.Grow(buf[:0], int(at.n))[:at.n]
		if err := f.ReadAt(buf, at.off); err != nil {
			return err
		}
		if err := fn([]byte(k), buf); err != nil {
			return err
		}
	}
	return nil
}

// Close lets the spill file go; the Map is empty afterwards.
func (m *Map) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.where)
	if m.file == nil {
		return nil
	}
	f := m.file
	m.file = nil
	return f.Release()
}
