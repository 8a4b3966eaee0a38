package store

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// model is what a store should hold: a plain map.
type model map[string]string

// apply makes a batch of random changes to st and m alike: sets (new keys
// and overwrites), deletes, and now and then a prefix delete, over keys
// grouped like package etl's ("table\x00key") and a few without a NUL.
func randomBatch(t *testing.T, rng *rand.Rand, st *Store, m model) *Batch {
	t.Helper()
	b := st.NewBatch(0)
	for range 1 + rng.IntN(40) {
		key := fmt.Sprintf("t%d\x00k%03d", rng.IntN(3), rng.IntN(200))
		if rng.IntN(20) == 0 {
			key = fmt.Sprintf("meta%d", rng.IntN(5))
		}
		switch r := rng.IntN(100); {
		case r < 75:
			v := strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(300))
			b.Set([]byte(key), []byte(v))
			m[key] = v
		case r < 97:
			b.Delete([]byte(key))
			delete(m, key)
		default:
			// Within a group (part of it) or over whole groups.
			prefix := []string{"t1\x00k1", "t2", "meta", "t0\x00"}[rng.IntN(4)]
			b.DeletePrefix([]byte(prefix))
			for k := range m {
				if strings.HasPrefix(k, prefix) {
					delete(m, k)
				}
			}
		}
	}
	return b
}

// commitSet commits a batch that sets key to value, failing t if the
// commit fails.
func commitSet(t *testing.T, st *Store, key, value []byte, sync bool) {
	t.Helper()
	b := st.NewBatch(0)
	b.Set(key, value)
	if err := b.Commit(sync); err != nil {
		t.Fatal(err)
	}
}

// contents reads everything st holds, by Scan and by Get, and fails when
// the two disagree.
func contents(t *testing.T, st *Store) model {
	t.Helper()
	got := model{}
	var keys []string
	if err := st.Scan(nil, func(k, v []byte) error {
		got[string(k)] = string(v)
		keys = append(keys, string(k))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(keys) {
		t.Fatalf("Scan is not in key order: %q", keys)
	}
	for k, v := range got {
		gv, ok, err := st.Get([]byte(k))
		if err != nil || !ok || string(gv) != v {
			t.Fatalf("Get(%q) = %q, %v, %v; Scan says %q", k, gv, ok, err, v)
		}
	}
	return got
}

// A store that compacts often holds, after every commit and after a
// reopen, exactly what was committed; scans in part of a group see only
// their keys; the log stays within twice what is live.
func TestCompactionKeepsWhatIsLive(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 4 << 10
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	m := model{}
	for i := range 300 {
		if err := randomBatch(t, rng, st, m).Commit(i%2 == 0); err != nil {
			t.Fatal(err)
		}
		if i%25 == 0 {
			if got := contents(t, st); !maps.Equal(got, m) {
				t.Fatalf("after commit %d: %d keys, want %d", i, len(got), len(m))
			}
		}
	}
	if st.seq < 5 {
		t.Fatalf("only %d logs: the test did not compact", st.seq)
	}
	var part []string
	st.Scan([]byte("t1\x00k1"), func(k, _ []byte) error { part = append(part, string(k)); return nil })
	for _, k := range part {
		if !strings.HasPrefix(k, "t1\x00k1") {
			t.Fatalf("Scan of a group's part returned %q", k)
		}
	}
	if st.end > 2*st.index.live+compactMin+64<<10 {
		t.Errorf("the log is %d bytes for %d live", st.end, st.index.live)
	}
	live := st.index.live
	st.Close()
	logs, _ := filepath.Glob(filepath.Join(dir, logDir, "*"))
	if len(logs) != 1 {
		t.Fatalf("files in the log directory: %v", logs)
	}
	// Close compacts: what is left is about what is live.
	if info, err := os.Stat(logs[0]); err != nil || info.Size() > live+live/4+int64(len(logMagic)) {
		t.Errorf("after Close the log is %d bytes for %d live", info.Size(), live)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := contents(t, r); !maps.Equal(got, m) {
		t.Fatalf("after reopening: %d keys, want %d", len(got), len(m))
	}
}

// A crash at every change the store makes to its files (each write, sync,
// rename, removal), compactions included, leaves a store that opens and
// holds the commits that returned before it, and at most the one in
// flight: whole or not at all. A crash keeps what was synced and a random
// part of the rest, some of it garbage.
func TestCrashAtEveryStep(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 2 << 10
	rng := rand.New(rand.NewPCG(3, 4))
	fsys := NewMemFS()
	st, err := OpenFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	type crash struct {
		fs       *MemFS
		returned int // commits returned before it
	}
	var (
		crashes []crash
		states  = []model{{}} // states[i]: after i commits
		n       int
	)
	fsys.changed = func() { crashes = append(crashes, crash{fsys.CrashClone(rng), n}) }
	m := model{}
	for i := range 120 {
		b := randomBatch(t, rng, st, m)
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		n = i + 1
		states = append(states, maps.Clone(m))
	}
	st.Close() // a compaction of its own, crashed at every step too
	fsys.changed = nil
	if st.seq < 3 {
		t.Fatalf("only %d logs: the test did not compact", st.seq)
	}
	for i, c := range crashes {
		s, err := OpenFS(c.fs)
		if err != nil {
			t.Fatalf("crash %d (after %d commits): the store does not open: %v", i, c.returned, err)
		}
		got := contents(t, s)
		if !maps.Equal(got, states[c.returned]) && (c.returned+1 >= len(states) || !maps.Equal(got, states[c.returned+1])) {
			t.Fatalf("crash %d (after %d commits): the store holds %d keys, neither commit %d's %d nor the next's", i, c.returned, len(got), c.returned, len(states[c.returned]))
		}
		// It goes on from there: a commit after the crash is kept.
		commitSet(t, s, []byte("after\x00crash"), []byte("yes"), true)
		if v, ok, _ := s.Get([]byte("after\x00crash")); !ok || string(v) != "yes" {
			t.Fatalf("crash %d: a commit after reopening is lost", i)
		}
		s.Close()
	}
	t.Logf("%d crashes checked", len(crashes))
}

// A log whose tail a crash tore (half a record, or garbage) opens with the
// commits before it; the next commit follows the last whole one.
func TestTornTailIsCut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		commitSet(t, st, []byte(fmt.Sprintf("k%d", i)), []byte("v"), true)
	}
	st.Close()
	path := filepath.Join(dir, logDir, logName(1))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 1, 2}) // a header, and a payload cut short
	f.Close()
	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitSet(t, st, []byte("k3"), []byte("v"), true)
	st.Close()
	st, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := contents(t, st); len(got) != 4 {
		t.Fatalf("after a torn tail and a commit: %v", got)
	}
}
