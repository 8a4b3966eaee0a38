package spill

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/etlhq/etl/etl/keyhash"
	"github.com/etlhq/etl/etl/lenprefix"
)

// Map is a keyed table of byte values for the length of one run: entries
// (key and value) wait in an anonymous spill file, and memory holds, per
// key, only its 128-bit hash (etl/keyhash) and where its entry is: 32
// bytes and no pointer, so that the collector never scans the map. It is
// what the engine hands a stage as its scratch table (etl.Scratcher): the
// redial queue's pending entries, 50,000 phones of a few hundred bytes
// each, cost about 2 MB of memory this way. A key set again points to its
// newer entry; the older one stays in the file unread. Nothing is ever
// committed, and nothing is left on disk (see New).
//
// Map has the methods of etl.Table; they are safe for concurrent use.
type Map struct {
	dir    string
	hasher keyhash.Hasher
	mu     sync.Mutex
	file   *File // created by the first Set
	where  map[keyhash.Hash]place
	buf    []byte // Set's entry, reused
}

// place is where an entry is: its offset and length.
type place struct {
	off int64
	n   uint32
}

// NewMap returns an empty Map whose spill file, once one is needed, is
// created in dir (os.TempDir() when "").
func NewMap(dir string) *Map {
	return &Map{dir: dir, hasher: keyhash.New(), where: map[keyhash.Hash]place{}}
}

// read reads the entry at p into buf (grown as needed) and returns its key
// and value, slices of it.
func (m *Map) read(f *File, buf []byte, p place) (newBuf, key, value []byte, err error) {
	buf = slices.Grow(buf[:0], int(p.n))[:p.n]
	if err := f.ReadAt(buf, p.off); err != nil {
		return buf, nil, nil, err
	}
	key, value, _, ok := splitEntry(buf)
	if !ok {
		return buf, nil, nil, damaged(p.off)
	}
	return buf, key, value, nil
}

// splitEntry splits an entry (uvarint key length, key, value) into its
// key and value. When e is only a prefix of an entry, ok is false and,
// if e holds the length, need is how many bytes hold the key.
func splitEntry(e []byte) (key, value []byte, need int, ok bool) {
	if key, value, ok := lenprefix.Cut(e); ok {
		return key, value, 0, true
	}
	klen, w := binary.Uvarint(e)
	if w <= 0 || klen >= 1<<32 {
		return nil, nil, 0, false
	}
	return nil, nil, w + int(klen), false
}

func damaged(off int64) error { return fmt.Errorf("spill map: a damaged entry at %d", off) }

// Get returns a copy of key's value.
func (m *Map) Get(key []byte) ([]byte, bool, error) {
	m.mu.Lock()
	at, ok := m.where[m.hasher.Bytes(key)]
	f := m.file
	m.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	_, k, v, err := m.read(f, nil, at)
	if err == nil && string(k) != string(key) {
		err = fmt.Errorf("spill map: %q found where %q was set", k, key)
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
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
	if len(key)+len(value) >= 1<<32-binary.MaxVarintLen64 {
		return fmt.Errorf("spill map: an entry of %d bytes is over 4 GB", len(key)+len(value))
	}
	m.buf = append(lenprefix.Append(m.buf[:0], key), value...)
	off, err := m.file.Append(m.buf)
	if err != nil {
		return err
	}
	m.where[m.hasher.Bytes(key)] = place{off, uint32(len(m.buf))}
	return nil
}

// Delete removes key.
func (m *Map) Delete(key []byte) error {
	m.mu.Lock()
	delete(m.where, m.hasher.Bytes(key))
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
// are valid only during the call. It reads the keys from the file first
// (in file order), so memory holds the keys while it runs. It walks the
// keys as they were when it started: fn must not change the map (as
// etl.Table says).
func (m *Map) Scan(fn func(key, value []byte) error) error {
	f, all, err := m.sortedKeys()
	if err != nil {
		return err
	}
	var buf []byte
	for _, e := range all {
		var v []byte
		if buf, _, v, err = m.read(f, buf, e.at); err != nil {
			return err
		}
		if err := fn([]byte(e.key), v); err != nil {
			return err
		}
	}
	return nil
}

// ScanKeys calls fn for every key in key order, reading no value
// (etl.KeyScanner).
func (m *Map) ScanKeys(fn func(key []byte) error) error {
	_, all, err := m.sortedKeys()
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := fn([]byte(e.key)); err != nil {
			return err
		}
	}
	return nil
}

// keyed is a key and where its entry is.
type keyed struct {
	key string
	at  place
}

// sortedKeys reads every key back from the file, in file order through a
// keyReader, and returns them sorted, with the file.
func (m *Map) sortedKeys() (*File, []keyed, error) {
	m.mu.Lock()
	all := make([]keyed, 0, len(m.where))
	for _, p := range m.where {
		all = append(all, keyed{at: p})
	}
	f := m.file
	m.mu.Unlock()
	if len(all) == 0 {
		return nil, nil, nil
	}
	slices.SortFunc(all, func(a, b keyed) int { return cmp.Compare(a.at.off, b.at.off) })
	r := keyReader{f: f, size: f.Size()}
	for i := range all {
		var err error
		if all[i].key, err = r.key(all[i].at); err != nil {
			return nil, nil, err
		}
	}
	slices.SortFunc(all, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	return f, all, nil
}

// keyWindow is how much of the file a keyReader reads at once.
const keyWindow = 256 << 10

// keyReader reads the keys of entries, taken in file order, through a
// window of the file: a read per window rather than per key (the redial
// queue's 50,000 keys took 50,000 reads at the end of the run, when
// nothing else runs), and no more of a long entry than its key.
type keyReader struct {
	f    *File
	size int64  // the file's size when the keys were listed
	off  int64  // where in the file buf starts
	buf  []byte // the window
}

// key returns the key of the entry at p.
func (r *keyReader) key(p place) (string, error) {
	for fresh := false; ; fresh = true {
		if start := p.off - r.off; start >= 0 && start < int64(len(r.buf)) {
			e := r.buf[start:min(int64(len(r.buf)), start+int64(p.n))]
			k, _, need, ok := splitEntry(e)
			switch {
			case ok:
				return string(k), nil
			case fresh && need == 0:
				return "", damaged(p.off)
			case fresh: // a key longer than the window
				if err := r.load(p.off, int64(need)); err != nil {
					return "", err
				}
				if k, _, _, ok := splitEntry(r.buf); ok {
					return string(k), nil
				}
				return "", damaged(p.off)
			}
		}
		if err := r.load(p.off, keyWindow); err != nil {
			return "", err
		}
	}
}

// load reads n bytes at off into the window (fewer at the file's end).
func (r *keyReader) load(off, n int64) error {
	n = min(n, r.size-off)
	r.buf = slices.Grow(r.buf[:0], int(n))[:n]
	r.off = off
	return r.f.ReadAt(r.buf, off)
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
