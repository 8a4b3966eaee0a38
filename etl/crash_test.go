package etl_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/store"
)

// A crash at any moment, in the middle of a commit included, leaves a
// checkpoint whose partitions and state agree: each commit (a partition's
// done record with the state it changed) is there whole or not at all,
// and every commit that returned before the crash is there. The store runs
// on a crashable in-memory file system; a crash is a clone of it with what
// was synced and a random part of what was not, some of it garbage.
func TestCrashDuringCommitsKeepsCheckpointConsistent(t *testing.T) {
	reg, _ := testRegistry(t)
	registerCount(reg, nil)
	p := load(t, reg, `
source "gen" "g" {
  partitions    = 300
  per_partition = 10
}
transform "count" "c" {
  input = source.gen.g
}
sink "collect" "s" {
  input = transform.count.c
}
`)
	fs := store.NewMemFS()
	st, err := store.OpenFS(fs)
	if err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int64 // commits returned (events come after the commit)
	type crash struct {
		fs     *store.MemFS
		before int64
	}
	var (
		mu      sync.Mutex
		crashes []crash
	)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	take := func() {
		mu.Lock()
		defer mu.Unlock()
		before := committed.Load()
		crashes = append(crashes, crash{fs.CrashClone(rng), before})
	}
	opts := etl.RunOptions{State: st, BatchSize: 4, Events: etl.ReporterFunc(func(e etl.Event) {
		if e.Type == etl.EventPartition && e.Data["checkpoint"] == true {
			// Every 25th commit also crashes right after it, so that a
			// loaded machine, on which the run may end before the loop
			// below has taken many clones, still tests some.
			if committed.Add(1)%25 == 0 {
				take()
			}
		}
	})}
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background(), opts)
		done <- err
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
			take() // at a random moment, in the middle of a commit too
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		}
	}
	st.Close()
	if len(crashes) < 5 {
		t.Fatalf("only %d crashes taken during the run", len(crashes))
	}
	for i, c := range crashes {
		s, err := store.OpenFS(c.fs)
		if err != nil {
			t.Fatalf("crash %d: the store does not open: %v", i, err)
		}
		cp, err := etl.ReadCheckpoint(s)
		if err != nil {
			t.Fatalf("crash %d: %v", i, err)
		}
		n := 0
		if cp != nil {
			for j, d := range cp.Sources["source.gen.g"] {
				if d.Name != fmt.Sprintf("p%03d", j) {
					t.Fatalf("crash %d: partition %d is %s", i, j, d.Name)
				}
			}
			n = len(cp.Sources["source.gen.g"])
		}
		want := ""
		if n > 0 {
			want = fmt.Sprint(10 * n)
		}
		if got := countIn(t, s, "transform.count.c"); got != want {
			t.Errorf("crash %d: %d partitions done but the state counts %q, want %q", i, n, got, want)
		}
		if int64(n) < c.before {
			t.Errorf("crash %d: %d partitions done, but %d commits had returned before it", i, n, c.before)
		}
		s.Close()
	}
	t.Logf("%d crashes checked, the last with %d commits returned", len(crashes), crashes[len(crashes)-1].before)
}
