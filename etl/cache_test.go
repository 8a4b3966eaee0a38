package etl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/etlhq/etl/etl"
	"go.uber.org/goleak"
)

// answerer is a pass-through transform that "looks up" each record's id
// and keeps the answers in a cache (etl.Cacher); it fails at the record
// whose id is failAt, and skips (etl.Skipper) ids that are multiples of
// skipEvery.
type answerer struct {
	failAt, skipEvery int64
	mu                sync.Mutex
	answers           []int64
	skipped           []string
	loaded            *[]int64 // what LoadCache got; empty when not called
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
	a.mu.Lock()
	a.answers = append(a.answers, id)
	a.mu.Unlock()
	return out.Emit(rec)
}

func (a *answerer) SaveCache() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.answers) == 0 {
		return nil, nil
	}
	return json.Marshal(a.answers)
}

func (a *answerer) LoadCache(data []byte) error {
	var ids []int64
	if err := json.Unmarshal(data, &ids); err != nil {
		return err
	}
	*a.loaded = ids
	a.answers = slices.Clone(ids)
	return nil
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

// fileOptions saves checkpoints and caches to path, as the CLI does.
func fileOptions(path string, resume bool, t *testing.T) etl.RunOptions {
	opts := etl.RunOptions{
		Save:       func(cp *etl.Checkpoint) error { return etl.SaveCheckpoint(path, cp) },
		SaveCaches: func(c map[string]json.RawMessage, fresh *etl.Checkpoint) error { return etl.SaveCaches(path, c, fresh) },
	}
	if resume {
		cp, err := etl.LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		opts.Resume = cp
	}
	return opts
}

func savedAnswers(t *testing.T, path string) []int64 {
	t.Helper()
	cp, err := etl.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := cp.Caches["transform.answers.a"]
	if !ok {
		return nil
	}
	var ids []int64
	if err := json.Unmarshal(raw, &ids); err != nil {
		t.Fatalf("cache %s: %v", raw, err)
	}
	return ids
}

// A failed run's answers reach the checkpoint, also those obtained after
// its last saved partition; a resumed run gets them back; a completed run
// removes them, so that running it again starts without.
func TestCacheSavedOnFailureAndDroppedOnCompletion(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	var loaded *[]int64
	registerAnswerer(reg, &loaded)
	path := filepath.Join(t.TempDir(), "state.json")

	// Run 1 fails at id 25, in p002: at most p000 and p001 are saved (the
	// failure may cancel p001's save), and 25 answers are held.
	_, err := load(t, reg, fmt.Sprintf(cachePipeline, 25)).Run(context.Background(), fileOptions(path, false, t))
	if err == nil || !strings.Contains(err.Error(), "lookup of 25 failed") {
		t.Fatalf("run 1: %v", err)
	}
	cp, err := etl.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cp.Sources["source.gen.nums"]); n > 2 {
		t.Fatalf("run 1 checkpointed %d partitions, want at most 2", n)
	}
	if got := savedAnswers(t, path); len(got) != 25 {
		t.Fatalf("the checkpoint holds %d answers after the failure, want the 25 obtained: %v", len(got), got)
	}
	if len(cp.Stages) != 0 {
		t.Errorf("stages appeared in the checkpoint: %v", cp.Stages)
	}

	// Run 2 resumes: it gets the 25 answers, completes, and drops them.
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, -1)).Run(context.Background(), fileOptions(path, true, t)); err != nil {
		t.Fatal(err)
	}
	if len(*loaded) != 25 {
		t.Fatalf("the resumed run was given %v, want the 25 answers", *loaded)
	}
	if got := savedAnswers(t, path); got != nil {
		t.Fatalf("a completed run left %d answers in the checkpoint", len(got))
	}
	if cp, _ := etl.LoadCheckpoint(path); len(cp.Sources["source.gen.nums"]) != 4 {
		t.Fatalf("completed run: %s", cp.Summary())
	}

	// Run 3, of the finished pipeline: no answers to reuse.
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, -1)).Run(context.Background(), fileOptions(path, true, t)); err != nil {
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
	path := filepath.Join(t.TempDir(), "state.json")
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, 5)).Run(context.Background(), fileOptions(path, false, t)); err == nil {
		t.Fatal("run 1 did not fail")
	}
	cp, err := etl.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Sources["source.gen.nums"]) != 0 || len(savedAnswers(t, path)) != 5 {
		t.Fatalf("checkpoint: %s, answers %v", cp.Summary(), savedAnswers(t, path))
	}
	if _, err := load(t, reg, fmt.Sprintf(cachePipeline, -1)).Run(context.Background(), fileOptions(path, true, t)); err != nil {
		t.Fatal(err)
	}
	if len(*loaded) != 5 {
		t.Fatalf("resumed run was given %v", *loaded)
	}
}

// A completed run of a pipeline whose checkpoint holds no caches leaves
// the file as the last partition's save wrote it; with no checkpoint file
// and no answers, a failure writes none.
func TestCacheNoRewriteWithoutAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := etl.SaveCaches(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SaveCaches without answers created the file: %v", err)
	}
	reg, _ := testRegistry(t)
	p := load(t, reg, "source \"gen\" \"g\" {\n  partitions = 2\n}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n")
	if err := etl.SaveCheckpoint(path, etl.NewCheckpoint(p)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if err := etl.SaveCaches(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("SaveCaches(nil) rewrote a checkpoint without caches")
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
	path := filepath.Join(t.TempDir(), "state.json")
	_, err := load(t, reg, fmt.Sprintf(cachePipeline, 15)).Run(ctx, fileOptions(path, false, t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want cancelled", err)
	}
	if got := savedAnswers(t, path); len(got) != 15 {
		t.Fatalf("the checkpoint holds %d answers after the interruption, want the 15 obtained", len(got))
	}
}
