package etl

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl/spill"
	"github.com/etlhq/etl/etl/store"
)

// scanAll returns a table's keys and values as Scan gives them.
func scanAll(t *testing.T, tb Table) []string {
	t.Helper()
	var got []string
	if err := tb.Scan(func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// A table's reads merge its uncommitted changes over the store, whatever
// mix of sealed, committed and open deltas it holds: checked against a
// map under random changes, commits at random points, and a reopened
// table reading only what was committed.
func TestTableAgainstMap(t *testing.T) {
	st := store.OpenMem()
	defer st.Close()
	prefix := addrPrefix(statePrefix, "transform.x.y")
	tb := newTable(st, prefix, false)
	rng := rand.New(rand.NewPCG(7, 9))
	model := map[string]string{}     // what reads must see
	committed := map[string]string{} // what the store must hold
	var sealed []*delta
	var sealedModels []map[string]string
	for step := range 3000 {
		k := fmt.Sprintf("k%02d", rng.IntN(40))
		switch r := rng.IntN(10); {
		case r < 6:
			v := fmt.Sprint(step)
			tb.Set([]byte(k), []byte(v))
			model[k] = v
		case r < 8:
			tb.Delete([]byte(k))
			delete(model, k)
		case r < 9:
			if d := tb.seal(); d != nil {
				sealed = append(sealed, d)
				sealedModels = append(sealedModels, cloneMap(model))
			}
		default:
			if len(sealed) == 0 {
				continue
			}
			b := st.NewBatch(0)
			if err := sealed[0].write(b); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(false); err != nil {
				t.Fatal(err)
			}
			sealed[0].committed()
			committed = sealedModels[0]
			sealed, sealedModels = sealed[1:], sealedModels[1:]
		}
		v, ok, err := tb.Get([]byte(k))
		if err != nil || ok != hasKey(model, k) || string(v) != model[k] {
			t.Fatalf("step %d: Get(%s) = %q, %v, %v; want %q", step, k, v, ok, err, model[k])
		}
		if step%100 == 0 {
			if got, want := scanAll(t, tb), mapLines(model); !slices.Equal(got, want) {
				t.Fatalf("step %d: Scan = %v, want %v", step, got, want)
			}
		}
	}
	// A new table over the store sees exactly what was committed.
	if got, want := scanAll(t, newTable(st, prefix, false)), mapLines(committed); !slices.Equal(got, want) {
		t.Fatalf("reopened: %v, want %v", got, want)
	}
	// Committed deltas leave memory.
	if n := len(tb.sealed); n != len(sealed) {
		t.Errorf("%d deltas held in memory, %d of them not committed", n, len(sealed))
	}
}

// A delta never committed (an open partition's) does not hide the newer
// value of a later delta once that one is committed.
func TestTableOpenDeltaUnderCommitted(t *testing.T) {
	st := store.OpenMem()
	defer st.Close()
	tb := newTable(st, []byte("p"), false)
	tb.Set([]byte("k"), []byte("v1"))
	tb.Set([]byte("only-open"), []byte("o"))
	tb.seal() // an open partition's: never committed
	tb.Set([]byte("k"), []byte("v2"))
	d2 := tb.seal()
	b := st.NewBatch(0)
	if err := d2.write(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	d2.committed()
	if v, ok, err := tb.Get([]byte("k")); err != nil || !ok || string(v) != "v2" {
		t.Fatalf("Get(k) = %q, %v, %v; want v2", v, ok, err)
	}
	if got, want := scanAll(t, tb), []string{"k=v2", "only-open=o"}; !slices.Equal(got, want) {
		t.Fatalf("Scan = %v, want %v", got, want)
	}
}

// A table that keeps everything (a plan) never seals a delta: nothing can
// reach the store.
func TestTableKeepAllNeverSeals(t *testing.T) {
	tb := newTable(nil, []byte("p"), true)
	tb.Set([]byte("a"), []byte("1"))
	if d := tb.seal(); d != nil {
		t.Fatal("a plan's table sealed a delta")
	}
	if got := scanAll(t, tb); !slices.Equal(got, []string{"a=1"}) {
		t.Errorf("Scan = %v", got)
	}
}

func cloneMap(m map[string]string) map[string]string { return maps.Clone(m) }

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func mapLines(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// ScanKeys walks a table's keys in order, through ScanKeys where the
// table has it (the scratch table) and through Scan where it does not.
func TestScanKeys(t *testing.T) {
	scratch := spill.NewMap(t.TempDir())
	defer scratch.Close()
	plain := newTable(store.OpenMem(), []byte("state/x\x00"), false)
	for _, tb := range []Table{scratch, plain} {
		for _, k := range []string{"b", "a", "c"} {
			if err := tb.Set([]byte(k), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		var keys []string
		if err := ScanKeys(tb, func(k []byte) error { keys = append(keys, string(k)); return nil }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(keys, " ") != "a b c" {
			t.Errorf("%T: ScanKeys gave %v", tb, keys)
		}
	}
}
