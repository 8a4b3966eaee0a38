package convoso

import (
	"strconv"
	"testing"
	"unsafe"
)

// The interner shares one copy of a value, and stops keeping new ones at
// its bound (still copying them).
func TestInterner(t *testing.T) {
	var in interner
	a := in.get(string([]byte("SALE")))
	b := in.get(string([]byte("SALE")))
	if a != "SALE" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same value was not shared")
	}
	for i := range maxInterned + 10 {
		in.get(strconv.Itoa(i))
	}
	if len(in.m) != maxInterned {
		t.Fatalf("%d values kept, bound %d", len(in.m), maxInterned)
	}
	if got := in.get("past the bound"); got != "past the bound" {
		t.Fatalf("got %q", got)
	}
}
