package etl_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/store"
	"go.uber.org/goleak"
)

// answerer is a pass-through transform that "looks up" each record's id
// and keeps the answers in a cache (etl.Cacher); it fails at the record
// whose id is failAt, and skips (etl.Skipper) ids that are multiples of
// skipEvery.
type answerer struct {
	failAt, skipEvery int64
	mu                sync.Mutex
	cache             etl.Table
	skipped           []string
	loaded            *[]int64 // what UseCache found; empty when none
	interrupt         func()   // when set, failAt cancels the run instead
}

func (a *answerer) Process(ctx context.Context, rec etl.Record, out etl.Output) error {
	id, _ := rec["id"].AsBigFloat().Int64()
	if a.failAt >= 0 && id == a.failAt {
		if a.interrupt != nil {
			a.interrupt() // Ctrl-C rather than a failure
			return ctx.Err()
		}
		return fmt.Errorf("lookup of %d failed", id)
	}
	if a.skipEvery > 0 && id%a.skipEvery == 0 {
		a.mu.Lock()
		a.skipped = append(a.skipped, fmt.Sprint(id))
		a.mu.Unlock()
		out.Drop("lookup failed")
		return nil
	}
	if err := a.cache.Set(answerKey(id), []byte("ok")); err != nil {
		return err
	}
	return out.Emit(rec)
}

// answerKey orders ids as numbers.
func answerKey(id int64) []byte { return []byte(fmt.Sprintf("%08d", id)) }

func (a *answerer) UseCache(t etl.Table) error {
	a.cache = t
	*a.loaded = nil
	return t.Scan(func(k, _ []byte) error {
		var id int64
		_, err := fmt.Sscan(string(k), &id)
		*a.loaded = append(*a.loaded, id)
		return err
	})
}

func (a *answerer) Skipped() []string { return a.skipped }

type answererConfig struct {
	FailAt    int64 `hcl:"fail_at,optional"`
	SkipEvery int64 `hcl:"skip_every,optional"`
}

// registerAnswerer registers "answers"; each stage built points *loaded
// at what its LoadCache is given.
func registerAnswerer(reg *etl.Registry, loaded **[]int64, interrupt ...func()) {
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[answererConfig]{
		Type: "answers", Summary: "Answers.",
		Config: func() *answererConfig { return &answererConfig{FailAt: -1} },
	}, func(c *answererConfig, _ etl.Env) (etl.Processor, error) {
		a := &answerer{failAt: c.FailAt, skipEvery: c.SkipEvery, loaded: new([]int64)}
		if len(interrupt) > 0 {
			a.interrupt = interrupt[0]
		}
		*loaded = a.loaded
		return a, nil
	})
}

const cachePipeline = `
source "gen" "nums" {
  partitions    = 4
  per_partition = 10
}
transform "answers" "a" {
  input   = source.gen.nums
  fail_at = %d
}
sink "collect" "out" {
  input = transform.answers.a
}
`

// stateOptions runs with a state on disk, as the CLI does.
func stateOptions(t *testing.T) etl.RunOptions {
	st, err := store.Open(filepath.Join(t.TempDir(), "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return etl.RunOptions{State: st}
}

// savedAnswers lists the answers the state holds for the answers stage.
func savedAnswers(t *testing.T, st *store.Store) []int64 {
	t.Helper()
	var ids []int64
	err := st.Scan(append([]byte("cache/transform.answers.a"), 0), func(k, _ []byte) error {
		var id int64
		_, err := fmt.Sscan(string(k[len("cache/transform.answers.a")+1:]), &id)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// partitionsDone counts the partitions the state's checkpoint holds.
func partitionsDone(t *testing.T, st *store.Store) int {
	t.Helper()
	cp, err := etl.ReadCheckpoint(st)
	if err != nil {
		t.Fatal(err)
	}
	if cp == nil {
		return 0
	}
	return len(cp.Sources["source.gen.nums"])
}

// A failed run's answers reach the checkpoint, also those obtained after
// its last saved partition; a resumed run gets them back; a completed run
// removes them, so that running it again starts without.
func TestCacheSavedOnFailureAndDroppedOnCompletion(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	var loaded *[]int64
	registerAnswerer(reg, &loaded)
	opts := stateOptions(t)
	defer opts.State.Close() // before goleak's check

	// Run 1 fails at id 25, in p002: at most p000 and p001 are saved (the
	// failure may cancel p001's save), and 25 answers are held.
	_, err := load(t, reg, fmt.Sprintf(cachePipeline, 25)).Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "lookup of 25 failed") {
		t.Fatalf("run 1: %v", err)
	}
	if n := partitionsDone(t, opts.State); n > 2 {
		t.Fatalf("run 1 checkpointed %d partitions, want at most 2", n)
	}
	if got := savedAnswers(t, opts.State); len(got) != 25 {
		t.Fatalf("the checkpoint holds %d answers after the failure, want the 25 obtained: %v", len(got), got)
	}

	// Run 2 resumes: it gets the 25 answers, completes, and drops them.
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, -1)).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if len(*loaded) != 25 {
		t.Fatalf("the resumed run was given %v, want the 25 answers", *loaded)
	}
	if got := savedAnswers(t, opts.State); got != nil {
		t.Fatalf("a completed run left %d answers in the checkpoint", len(got))
	}
	if n := partitionsDone(t, opts.State); n != 4 {
		t.Fatalf("completed run: %d partitions done, want 4", n)
	}

	// Run 3, of the finished pipeline: no answers to reuse.
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, -1)).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if len(*loaded) != 0 {
		t.Fatalf("a run of a completed pipeline reused %d answers", len(*loaded))
	}
}

// A run that fails before any partition is saved still keeps its answers:
// in a checkpoint with no partition done, which a resumed run reads.
func TestCacheSavedWhenNoPartitionFinished(t *testing.T) {
	reg, _ := testRegistry(t)
	var loaded *[]int64
	registerAnswerer(reg, &loaded)
	opts := stateOptions(t)
	defer opts.State.Close() // before goleak's check
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, 5)).Run(context.Background(), opts); err == nil {
		t.Fatal("run 1 did not fail")
	}
	if n, got := partitionsDone(t, opts.State), savedAnswers(t, opts.State); n != 0 || len(got) != 5 {
		t.Fatalf("checkpoint: %d partitions, answers %v", n, got)
	}
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, -1)).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if len(*loaded) != 5 {
		t.Fatalf("resumed run was given %v", *loaded)
	}
}

// What a Skipper skipped is in its BlockResult, and counted by
// Result.Skipped; the run itself succeeds.
func TestSkippedInResult(t *testing.T) {
	reg, _ := testRegistry(t)
	var loaded *[]int64
	registerAnswerer(reg, &loaded)
	src := strings.Replace(fmt.Sprintf(cachePipeline, -1), "fail_at = -1", "skip_every = 7", 1)
	res, err := load(t, reg, src).Run(context.Background(), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, b := range res.Blocks {
		if b.Addr.Type == "answers" {
			skipped = b.Skipped
		}
	}
	if want := []string{"0", "7", "14", "21", "28", "35"}; !slices.Equal(skipped, want) || res.Skipped() != len(want) {
		t.Errorf("skipped %v (Result.Skipped %d), want %v", skipped, res.Skipped(), want)
	}
}

// An interrupted run saves its answers as a failed one does.
func TestCacheSavedOnInterrupt(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg, _ := testRegistry(t)
	var loaded *[]int64
	registerAnswerer(reg, &loaded, cancel)
	opts := stateOptions(t)
	defer opts.State.Close() // before goleak's check
	_, err := load(t, reg, fmt.Sprintf(cachePipeline, 15)).Run(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want cancelled", err)
	}
	if got := savedAnswers(t, opts.State); len(got) != 15 {
		t.Fatalf("the checkpoint holds %d answers after the interruption, want the 15 obtained", len(got))
	}
}

// Between partitions the caches' new answers are committed on a timer, so
// that a process killed while a partition is still held (here: its sink is
// stuck) keeps them.
func TestCacheFlushedBetweenPartitions(t *testing.T) {
	reg, c := testRegistry(t)
	var loaded *[]int64
	registerAnswerer(reg, &loaded)
	c.Block = make(chan struct{})
	opts := stateOptions(t)
	defer opts.State.Close()
	opts.CacheFlush = 10 * time.Millisecond
	src := strings.Replace(fmt.Sprintf(cachePipeline, -1), "partitions    = 4", "partitions    = 1", 1)
	done := make(chan error, 1)
	go func() {
		_, err := load(t, reg, src).Run(context.Background(), opts)
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(savedAnswers(t, opts.State)) < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := len(savedAnswers(t, opts.State))
	close(c.Block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got != 10 {
		t.Fatalf("%d answers committed while the partition was held, want the 10 obtained", got)
	}
	if n := partitionsDone(t, opts.State); n != 1 {
		t.Errorf("%d partitions done", n)
	}
}
