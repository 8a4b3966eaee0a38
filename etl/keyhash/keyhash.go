// Package keyhash names keys by a 128-bit hash, for maps of many keys that
// should hold no pointer: a map whose keys and values hold none is memory
// the collector never scans, and a key then costs 16 bytes whatever its
// length. Two keys with the same 128-bit hash would be taken for one; the
// chance among a million keys is about 1 in 10^26 (the seeds are random
// per Hasher, so no input can aim at a collision), far below that of the
// machine's memory corrupting a bit. A user that can check a key against
// its stored copy (etl/store does, on every read) still does.
package keyhash

import "hash/maphash"

// Hash is a key's 128-bit hash.
type Hash [2]uint64

// Hasher hashes keys with its own random seeds. Hashes from different
// Hashers do not compare; a Hasher is safe for concurrent use.
type Hasher struct {
	seeds [2]maphash.Seed
}

// New returns a Hasher with fresh seeds.
func New() Hasher { return Hasher{[2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}} }

// Bytes returns the hash of b.
func (h Hasher) Bytes(b []byte) Hash {
	return Hash{maphash.Bytes(h.seeds[0], b), maphash.Bytes(h.seeds[1], b)}
}

// String returns the hash of s (the same as Bytes of its bytes).
func (h Hasher) String(s string) Hash {
	return Hash{maphash.String(h.seeds[0], s), maphash.String(h.seeds[1], s)}
}
