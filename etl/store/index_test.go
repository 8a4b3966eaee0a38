package store

import "testing"

// Places that do not pack (an entry of 16 MB or more, an offset past
// 1 TB) are kept beside the packed ones and behave alike: get, replace,
// delete, move, and the live bytes follow.
func TestIndexKeepsPlacesThatDoNotPack(t *testing.T) {
	x := newIndex()
	small, huge, far := place{100, 50}, place{200, 1 << 24}, place{1 << 40, 10}
	x.set([]byte("t\x00a"), small)
	x.set([]byte("t\x00b"), huge)
	x.set([]byte("t\x00c"), far)
	for k, want := range map[string]place{"t\x00a": small, "t\x00b": huge, "t\x00c": far} {
		if got, ok := x.get([]byte(k)); !ok || got != want {
			t.Fatalf("get(%q) = %v, %v; want %v", k, got, ok, want)
		}
	}
	if g := x.groups["t\x00"]; len(g.places) != 1 || len(g.big) != 2 {
		t.Fatalf("packed %d, big %d; want 1 and 2", len(g.places), len(g.big))
	}
	if x.live != 50+1<<24+10 {
		t.Fatalf("live %d", x.live)
	}
	// The far entry moves near (it packs now); the huge one stays big.
	x.move([]move{{100, place{16, 50}}, {200, place{66, 1 << 24}}, {1 << 40, place{1<<24 + 66, 10}}})
	if got, _ := x.get([]byte("t\x00c")); got != (place{1<<24 + 66, 10}) {
		t.Fatalf("moved far entry at %v", got)
	}
	if g := x.groups["t\x00"]; len(g.places) != 2 || len(g.big) != 1 {
		t.Fatalf("after the move: packed %d, big %d; want 2 and 1", len(g.places), len(g.big))
	}
	x.set([]byte("t\x00b"), place{500, 5}) // replaced by one that packs
	x.delete([]byte("t\x00a"))
	x.delete([]byte("t\x00c"))
	if g := x.groups["t\x00"]; len(g.places) != 1 || len(g.big) != 0 || x.live != 5 {
		t.Fatalf("packed %d, big %d, live %d", len(g.places), len(g.big), x.live)
	}
	x.delete([]byte("t\x00b"))
	if len(x.groups) != 0 {
		t.Fatal("an empty group stays")
	}
}

// Len counts the keys, deletes and prefix deletes included.
func TestLen(t *testing.T) {
	st := OpenMem()
	defer st.Close()
	if st.Len() != 0 {
		t.Fatal("a new store has keys")
	}
	b := st.NewBatch(0)
	b.Set([]byte("cache/x\x00a"), []byte("1"))
	b.Set([]byte("cache/x\x00b"), []byte("2"))
	b.Set([]byte("meta"), []byte("{}"))
	b.Delete([]byte("meta"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if n := st.Len(); n != 2 {
		t.Fatalf("Len %d, want 2", n)
	}
	b = st.NewBatch(0)
	b.DeletePrefix([]byte("cache/"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if n := st.Len(); n != 0 {
		t.Fatalf("Len %d after deleting everything", n)
	}
}
