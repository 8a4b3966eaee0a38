package keyhash

import (
	"fmt"
	"testing"
)

// A key hashes alike as bytes and as a string, and 100,000 keys that
// differ little (phones) get distinct hashes, in both halves.
func TestHashes(t *testing.T) {
	h := New()
	if h.Bytes([]byte("2025550100")) != h.String("2025550100") {
		t.Fatal("Bytes and String differ")
	}
	seen := map[Hash]string{}
	lo, hi := map[uint64]bool{}, map[uint64]bool{}
	for i := range 100000 {
		k := fmt.Sprintf("%010d", 2025550000+i)
		x := h.String(k)
		if other, dup := seen[x]; dup {
			t.Fatalf("%s and %s collide", k, other)
		}
		seen[x] = k
		lo[x[0]], hi[x[1]] = true, true
	}
	if len(lo) != 100000 || len(hi) != 100000 {
		t.Fatalf("the halves are not independent hashes: %d and %d distinct", len(lo), len(hi))
	}
	if New().String("x") == h.String("x") {
		t.Fatal("two Hashers share seeds")
	}
}
