package spill

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestMapKeepsLatestValueAndScansInKeyOrder(t *testing.T) {
	dir := t.TempDir()
	m := NewMap(dir)
	defer m.Close()
	if _, ok, err := m.Get([]byte("a")); ok || err != nil {
		t.Fatalf("Get on an empty map: %v, %v", ok, err)
	}
	want := map[string]string{}
	for i := range 3000 {
		k := fmt.Sprintf("%04d", (i*7919)%1000) // keys come back, out of order
		v := fmt.Sprintf("value %d of %s", i, k)
		if err := m.Set([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	if err := m.Delete([]byte("0007")); err != nil {
		t.Fatal(err)
	}
	delete(want, "0007")
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("the map left files in its directory: %v", names)
	}
	if got, ok, err := m.Get([]byte("0042")); err != nil || !ok || string(got) != want["0042"] {
		t.Errorf("Get(0042) = %q, %v, %v; want %q", got, ok, err, want["0042"])
	}
	if _, ok, _ := m.Get([]byte("0007")); ok {
		t.Error("a deleted key is still there")
	}
	var keys []string
	err := m.Scan(func(k, v []byte) error {
		if string(v) != want[string(k)] {
			t.Errorf("Scan: %s = %q, want %q", k, v, want[string(k)])
		}
		keys = append(keys, string(k))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(want) || !slices.IsSorted(keys) || m.Len() != len(want) {
		t.Errorf("Scan gave %d keys (sorted: %v), Len %d; want %d in order", len(keys), slices.IsSorted(keys), m.Len(), len(want))
	}
	stop := errors.New("stop")
	if err := m.Scan(func(k, v []byte) error { return stop }); err != stop {
		t.Errorf("Scan does not return fn's error: %v", err)
	}
}

func TestMapGetReturnsACopy(t *testing.T) {
	m := NewMap(t.TempDir())
	defer m.Close()
	m.Set([]byte("k"), []byte("value"))
	got, _, _ := m.Get([]byte("k"))
	copy(got, "XXXXX")
	again, _, _ := m.Get([]byte("k"))
	if !bytes.Equal(again, []byte("value")) {
		t.Errorf("changing what Get returned changed the map: %q", again)
	}
}

// ScanKeys walks the keys in the order Scan does, reading no value.
func TestMapScanKeys(t *testing.T) {
	m := NewMap(t.TempDir())
	defer m.Close()
	for _, k := range []string{"b", "a", "c", "a"} {
		m.Set([]byte(k), []byte("value of "+k))
	}
	var keys []string
	if err := m.ScanKeys(func(k []byte) error { keys = append(keys, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "a b c" {
		t.Fatalf("ScanKeys: %v", keys)
	}
}

// ScanKeys and Scan read the keys through a window of the file: keys that
// straddle windows, entries and a key longer than a window, and
// superseded and deleted entries between live ones all come back right,
// in key order.
func TestMapKeysAcrossWindows(t *testing.T) {
	m := NewMap(t.TempDir())
	defer m.Close()
	want := map[string]string{}
	for round := range 3 {
		for i := range 4000 {
			k := fmt.Sprintf("key-%05d", (i*7919)%4000)
			v := strings.Repeat(fmt.Sprint(round), 40+i%90)
			if i%997 == 0 {
				v = strings.Repeat("x", keyWindow+1000*round) // longer than a window
			}
			if err := m.Set([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
			want[k] = v
		}
	}
	for i := 0; i < 4000; i += 13 {
		k := fmt.Sprintf("key-%05d", i)
		m.Delete([]byte(k))
		delete(want, k)
	}
	long := "key-long-" + strings.Repeat("k", keyWindow) // a key longer than a window
	if err := m.Set([]byte(long), []byte("v")); err != nil {
		t.Fatal(err)
	}
	want[long] = "v"
	var keys []string
	if err := m.ScanKeys(func(k []byte) error { keys = append(keys, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	if wantKeys := slices.Sorted(maps.Keys(want)); !slices.Equal(keys, wantKeys) {
		t.Fatalf("ScanKeys gave %d keys, want %d", len(keys), len(wantKeys))
	}
	n := 0
	if err := m.Scan(func(k, v []byte) error {
		if want[string(k)] != string(v) {
			t.Fatalf("Scan: %s has %d bytes, want %d", k, len(v), len(want[string(k)]))
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("Scan gave %d entries, want %d", n, len(want))
	}
}
