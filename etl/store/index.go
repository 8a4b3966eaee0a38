package store

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/etlhq/etl/etl/keyhash"
)

// index says, for every key, where its entry (the operation that set it:
// op, key and value) is in the log. It is all of the state a store holds
// in memory, and it holds no key: a key is known by its 128-bit hash (see
// etl/keyhash), and an entry is read back from the log, key included, when
// its value is wanted; a read checks the key it finds there, and says so
// rather than return another key's value.
//
// Keys are grouped by their part up to and including the first zero byte,
// if any: package etl's keys are a table's prefix ending in a NUL, then the
// stage's own key (a phone, say), so that a group is a table, a scan of a
// table's prefix is a walk over one group, and deleting a table drops its
// group. A key costs about 35 bytes of memory, whatever its length.
type index struct {
	hasher keyhash.Hasher
	groups map[string]*group
	// live is the bytes of the entries the index points to: about what a
	// compacted log holds.
	live int64
}

type group struct {
	places map[keyHash]uint64 // packed places (see pack)
	big    map[keyHash]place  // places that do not pack (rare)
}

type keyHash = keyhash.Hash

// place is where an entry is: its offset in the log and its length.
type place struct {
	off int64
	n   uint32
}

// pack packs p into 40 bits of offset (a log of up to 1 TB) and 24 of
// length (an entry of up to 16 MB); ok is false when it does not fit.
func pack(p place) (uint64, bool) {
	if p.off >= 1<<40 || p.n >= 1<<24 {
		return 0, false
	}
	return uint64(p.off)<<24 | uint64(p.n), true
}

func unpack(v uint64) place { return place{int64(v >> 24), uint32(v & (1<<24 - 1))} }

func newIndex() *index {
	return &index{hasher: keyhash.New(), groups: map[string]*group{}}
}

// split cuts key into its group's name and the rest.
func split(key []byte) (name, rest []byte) {
	if i := bytes.IndexByte(key, 0); i >= 0 {
		return key[:i+1], key[i+1:]
	}
	return nil, key
}

func (x *index) hash(rest []byte) keyHash { return x.hasher.Bytes(rest) }

func (g *group) get(h keyHash) (place, bool) {
	if v, ok := g.places[h]; ok {
		return unpack(v), true
	}
	p, ok := g.big[h]
	return p, ok
}

func (g *group) len() int { return len(g.places) + len(g.big) }

// put sets h's place, packed when it fits.
func (g *group) put(h keyHash, p place) {
	if v, ok := pack(p); ok {
		delete(g.big, h)
		g.places[h] = v
		return
	}
	delete(g.places, h)
	if g.big == nil {
		g.big = map[keyHash]place{}
	}
	g.big[h] = p
}

// each calls fn for every place of the group.
func (g *group) each(fn func(h keyHash, p place)) {
	for h, v := range g.places {
		fn(h, unpack(v))
	}
	for h, p := range g.big {
		fn(h, p)
	}
}

func (x *index) get(key []byte) (place, bool) {
	name, rest := split(key)
	g := x.groups[string(name)]
	if g == nil {
		return place{}, false
	}
	return g.get(x.hash(rest))
}

func (x *index) set(key []byte, p place) {
	name, rest := split(key)
	g := x.groups[string(name)]
	if g == nil {
		g = &group{places: map[keyHash]uint64{}}
		x.groups[string(name)] = g
	}
	h := x.hash(rest)
	if old, ok := g.get(h); ok {
		x.live -= int64(old.n)
	}
	g.put(h, p)
	x.live += int64(p.n)
}

// remove deletes h's place from the group name, and the group once empty.
func (x *index) remove(name string, h keyHash) {
	g := x.groups[name]
	if g == nil {
		return
	}
	if old, ok := g.get(h); ok {
		x.live -= int64(old.n)
		delete(g.places, h)
		delete(g.big, h)
	}
	if g.len() == 0 {
		delete(x.groups, name)
	}
}

func (x *index) delete(key []byte) {
	name, rest := split(key)
	x.remove(string(name), x.hash(rest))
}

// dropGroup deletes a whole group.
func (x *index) dropGroup(name string) {
	if g := x.groups[name]; g != nil {
		g.each(func(_ keyHash, p place) { x.live -= int64(p.n) })
		delete(x.groups, name)
	}
}

// scope says which groups hold keys with the prefix: every key of the
// groups in whole, and some keys of those in part (the prefix reaches past
// the group's name: its keys must be read to tell). The group of keys
// without a NUL is never in part for a prefix with one.
func (x *index) scope(prefix []byte) (whole, part []string) {
	hasNUL := bytes.IndexByte(prefix, 0) >= 0
	for name := range x.groups {
		switch {
		case strings.HasPrefix(name, string(prefix)):
			whole = append(whole, name)
		case name == "" && hasNUL:
		case strings.HasPrefix(string(prefix), name):
			part = append(part, name)
		}
	}
	return whole, part
}

// move points every entry of x at its new place after a compaction
// (moves are in ascending order of their old offsets). Hashes are
// fixed-size keys, so nothing is allocated.
func (x *index) move(moves []move) {
	find := func(off int64) (place, bool) {
		i, ok := slices.BinarySearchFunc(moves, off, func(m move, off int64) int { return cmp.Compare(m.from, off) })
		if !ok {
			return place{}, false
		}
		return moves[i].to, true
	}
	// A copy is never further into its log than the original was, and
	// has its length: one that packed still packs, so the first loop
	// never moves an entry into big, which the second walks.
	for _, g := range x.groups {
		for h, v := range g.places {
			if to, ok := find(unpack(v).off); ok {
				g.put(h, to)
			}
		}
		for h, p := range g.big {
			if to, ok := find(p.off); ok {
				g.put(h, to)
			}
		}
	}
}

// len is the number of keys.
func (x *index) len() int {
	n := 0
	for _, g := range x.groups {
		n += g.len()
	}
	return n
}
