package etl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"go.uber.org/goleak"
)

// writePipeline writes src to a temp pipeline file and returns its path.
func writePipeline(t testing.TB, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func load(t testing.TB, reg *etl.Registry, src string, vars ...string) *etl.Pipeline {
	t.Helper()
	p, diags := etl.Load(writePipeline(t, src), etl.LoadOptions{Registry: reg, Vars: vars})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

const fanOut = `
source "gen" "nums" {
  partitions    = 3
  per_partition = 700
}
transform "map" "double" {
  input = source.gen.nums
  field = "double"
  value = record.id * 2
}
filter "where" "even" {
  input     = transform.map.double
  condition = record.id % 2 == 0
}
sink "collect" "even" {
  input = filter.where.even
  name  = "even"
}
sink "collect" "all" {
  input = source.gen.nums
  name  = "all"
}
`

func TestFanOutAndMarks(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, c := testRegistry(t)
	res, err := load(t, reg, fanOut).Run(context.Background(), etl.RunOptions{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Records["all"]); got != 2100 {
		t.Errorf("all got %d records, want 2100", got)
	}
	if got := len(c.Records["even"]); got != 1050 {
		t.Errorf("even got %d records, want 1050", got)
	}
	want := []string{"p000", "p001", "p002"}
	for _, sink := range []string{"all", "even"} {
		if !slices.Equal(c.Marks[sink], want) {
			t.Errorf("%s marks = %v, want %v", sink, c.Marks[sink], want)
		}
	}
	// Records arrive in order and each precedes its partition's mark: the
	// collector saw every p000 record before the p001 ones.
	for i, r := range c.Records["all"] {
		if got, want := r.String("partition"), want[i/700]; got != want {
			t.Fatalf("record %d in partition %s, want %s", i, got, want)
		}
		if _, ok := r["double"]; ok {
			t.Fatalf("fan-out leaked a field from another branch into record %d", i)
		}
	}
	for _, r := range c.Records["even"] {
		id, _ := r["id"].AsBigFloat().Int64()
		d, _ := r["double"].AsBigFloat().Int64()
		if d != 2*id {
			t.Fatalf("record %d: double = %d", id, d)
		}
	}
	byAddr := map[string]etl.BlockResult{}
	for _, b := range res.Blocks {
		byAddr[b.Addr.String()] = b
	}
	if f := byAddr["filter.where.even"]; f.In != 2100 || f.Out != 1050 || f.Dropped["condition false"] != 1050 {
		t.Errorf("filter counts = in %d out %d dropped %v", f.In, f.Out, f.Dropped)
	}
}

func TestBackpressureBoundsReadAhead(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg := etl.NewRegistry()
	var emitted int64
	c := &etltest.Collector{Block: make(chan struct{})}
	etltest.Register(reg, c, &emitted)
	p := load(t, reg, `
source "gen" "nums" {
  partitions    = 1
  per_partition = 100000
}
transform "map" "t" {
  input = source.gen.nums
  field = "x"
  value = 1
}
sink "collect" "out" {
  input = transform.map.t
}
`)
	const batch, buffer = 10, 2
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background(), etl.RunOptions{BatchSize: batch, Buffer: buffer})
		done <- err
	}()
	// The sink is held still; wait until the source stops making progress.
	var last int64 = -1
	for i := 0; i < 200; i++ {
		time.Sleep(5 * time.Millisecond)
		n := atomicLoad(c, &emitted)
		if n == last {
			break
		}
		last = n
	}
	// At most: the record the sink holds, a full channel into the sink and
	// one into the transform, one batch inside each stage, one being built.
	bound := int64(1 + 2*buffer*batch + 3*batch)
	if last > bound || last <= 0 {
		t.Errorf("source emitted %d records while the sink was blocked; bound %d", last, bound)
	}
	close(c.Block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func atomicLoad(_ *etltest.Collector, n *int64) int64 { return etltest.Count(n) }

func TestSourceFailureDrainsFinishedPartitions(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, c := testRegistry(t)
	p := load(t, reg, `
source "gen" "nums" {
  partitions    = 5
  per_partition = 1000
  fail_after    = 2500
}
transform "map" "t" {
  input = source.gen.nums
  field = "x"
  value = record.id
}
sink "collect" "out" {
  input = transform.map.t
}
`)
	var saved []string
	_, err := p.Run(context.Background(), etl.RunOptions{Save: func(cp *etl.Checkpoint) error {
		parts := cp.Sources["source.gen.nums"]
		saved = append(saved, parts[len(parts)-1].Name)
		return nil
	}})
	var se *etl.StageError
	if !errors.As(err, &se) || se.Addr.String() != "source.gen.nums" {
		t.Fatalf("err = %v, want a StageError naming source.gen.nums", err)
	}
	if !strings.Contains(err.Error(), "p.hcl:2:1") || !strings.Contains(err.Error(), "gen failed after 2500") {
		t.Errorf("error %q should name the block's place and the cause", err)
	}
	// What the source read before failing drains through every stage: the
	// two whole partitions reach the sink and the checkpoint...
	if !slices.Equal(c.Marks["default"], []string{"p000", "p001"}) || !slices.Equal(saved, []string{"p000", "p001"}) {
		t.Errorf("marks = %v, checkpoints = %v; want p000, p001", c.Marks["default"], saved)
	}
	// ...but the sink never reaches the end of input: no partial result.
	if c.Finished != 0 {
		t.Error("a sink finished after its source failed")
	}
}

func TestStageFailureCancelsAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, c := testRegistry(t)
	p := load(t, reg, `
source "gen" "nums" {
  partitions    = 50
  per_partition = 1000
}
filter "where" "w" {
  input     = source.gen.nums
  condition = record.id < 1500 ? true : parseint(record.key, 10) > 0
}
sink "collect" "out" {
  input = filter.where.w
}
`)
	_, err := p.Run(context.Background(), etl.RunOptions{})
	var se *etl.StageError
	if !errors.As(err, &se) || se.Addr.String() != "filter.where.w" {
		t.Fatalf("err = %v, want a StageError naming filter.where.w", err)
	}
	if c.Finished != 0 || len(c.Marks["default"]) > 1 {
		t.Errorf("after a filter failed the sink saw marks %v and finished %d times", c.Marks["default"], c.Finished)
	}
}

func TestCancellationIsNotAnError(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg := etl.NewRegistry()
	c := &etltest.Collector{Block: make(chan struct{})}
	etltest.Register(reg, c, nil)
	p := load(t, reg, `
source "gen" "nums" {
  per_partition = 100000
}
sink "collect" "out" {
  input = source.gen.nums
}
`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := p.Run(ctx, etl.RunOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var se *etl.StageError
	if errors.As(err, &se) {
		t.Errorf("cancellation reported as a stage error: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("cancellation took %s", time.Since(start))
	}
}

func TestCheckpointSavedPerPartitionAndResumed(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, c := testRegistry(t)
	src := `
source "gen" "nums" {
  partitions    = 4
  per_partition = 10
}
sink "collect" "out" {
  input = source.gen.nums
}
`
	p := load(t, reg, src)
	var saved []string
	var last *etl.Checkpoint
	_, err := p.Run(context.Background(), etl.RunOptions{Save: func(cp *etl.Checkpoint) error {
		parts := cp.Sources["source.gen.nums"]
		saved = append(saved, parts[len(parts)-1].Name)
		last = cp
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(saved, []string{"p000", "p001", "p002", "p003"}) {
		t.Fatalf("checkpoints saved after %v", saved)
	}
	// Resume with two partitions done: the source skips them.
	last.Sources["source.gen.nums"] = last.Sources["source.gen.nums"][:2]
	c.Records, c.Marks = map[string][]etl.Record{}, map[string][]string{}
	res, err := load(t, reg, src).Run(context.Background(), etl.RunOptions{Resume: last})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Marks["default"], []string{"p002", "p003"}) || len(c.Records["default"]) != 20 {
		t.Errorf("resumed run read %v (%d records)", c.Marks["default"], len(c.Records["default"]))
	}
	if res.Resumed != 2 {
		t.Errorf("Resumed = %d, want 2", res.Resumed)
	}
}

// A signal that arrives once every sink has written its output does not
// turn a finished run into an interrupted one: the run reports success,
// and every partition is in the checkpoint.
func TestCancelAfterSinksFinishedIsSuccess(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, c := testRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.OnFinish = cancel
	p := load(t, reg, `
source "gen" "nums" {
  partitions    = 3
  per_partition = 5
}
sink "collect" "out" {
  input = source.gen.nums
}
`)
	var saved []string
	res, err := p.Run(ctx, etl.RunOptions{Save: func(cp *etl.Checkpoint) error {
		saved = nil
		for _, pd := range cp.Sources["source.gen.nums"] {
			saved = append(saved, pd.Name)
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("run cancelled after its sink finished: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the test did not cancel the run")
	}
	if !slices.Equal(saved, []string{"p000", "p001", "p002"}) {
		t.Errorf("checkpoint holds %v", saved)
	}
	if len(res.Changes) != 1 || !res.Changes[0].Changed {
		t.Errorf("changes = %+v, want the sink's change", res.Changes)
	}
}

func TestPlanNeverSavesCheckpoint(t *testing.T) {
	reg, _ := testRegistry(t)
	p := load(t, reg, `
source "gen" "nums" {
  partitions = 3
}
sink "collect" "out" {
  input = source.gen.nums
}
`)
	res, err := p.Run(context.Background(), etl.RunOptions{Plan: true, Save: func(*etl.Checkpoint) error {
		t.Error("Save called in plan mode")
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || !strings.HasPrefix(res.Changes[0].Summary, "would write") {
		t.Errorf("changes = %+v", res.Changes)
	}
}

// passThrough is a transform that emits what it gets.
type passThrough struct{}

func (passThrough) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	return out.Emit(rec)
}

// A sink that buffers until the end makes a partition durable only behind a
// stage that replays: without one, the pipeline is not checkpointed (and
// validate says so); with one, it is.
func TestBufferingSinkNeedsReplayingStage(t *testing.T) {
	for _, replays := range []bool{false, true} {
		t.Run(fmt.Sprintf("replays=%v", replays), func(t *testing.T) {
			reg, _ := testRegistry(t)
			etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "hold", Summary: "Buffers until the end.", Buffers: true},
				func(*struct{}, etl.Env) (etl.Sink, error) { return discardSink{}, nil })
			etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "pass", Summary: "Passes records through.", Replays: replays},
				func(*struct{}, etl.Env) (etl.Processor, error) { return passThrough{}, nil })
			p, diags := etl.Load(writePipeline(t, `
source "gen" "g" {
  partitions = 3
}
transform "pass" "p" {
  input = source.gen.g
}
sink "hold" "h" {
  input = transform.pass.p
}
`), etl.LoadOptions{Registry: reg})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			warned := strings.Contains(diags.Error(), "Pipeline not checkpointed")
			if warned == replays {
				t.Errorf("warning = %v, want %v: %v", warned, !replays, diags)
			}
			saves := 0
			if _, err := p.Run(context.Background(), etl.RunOptions{Save: func(*etl.Checkpoint) error { saves++; return nil }}); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 0, true: 3}[replays]; saves != want {
				t.Errorf("%d checkpoints saved, want %d", saves, want)
			}
		})
	}
}

// countingState is a stateful pass-through transform that counts what it
// saw; its snapshots record how many were taken.
type countingState struct {
	n         int
	snapshots *int
}

func (c *countingState) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	c.n++
	return out.Emit(rec)
}
func (c *countingState) Snapshot() ([]byte, error) {
	*c.snapshots++
	return []byte(fmt.Sprint(c.n)), nil
}
func (c *countingState) Restore(b []byte) error { _, err := fmt.Sscan(string(b), &c.n); return err }

// registerCount registers the "count" transform: a countingState, or, with
// live set, a streamingState that counts its snapshots not yet released.
func registerCount(reg *etl.Registry, snapshots *int, live *atomic.Int64) {
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "count", Summary: "Counts."},
		func(*struct{}, etl.Env) (etl.Processor, error) {
			c := countingState{snapshots: snapshots}
			if live != nil {
				return &streamingState{countingState: c, live: live}, nil
			}
			return &c, nil
		})
}

// A stateful stage with no sink after it is never snapshotted (nothing
// would bring the snapshot back): the run must not wait for it.
func TestStatefulStageWithoutSinkDoesNotBlock(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	snapshots := 0
	registerCount(reg, &snapshots, nil)
	p := load(t, reg, `
source "gen" "g" {
  partitions = 10
}
transform "count" "dead_end" {
  input = source.gen.g
}
transform "count" "kept" {
  input = source.gen.g
}
sink "collect" "c" {
  input = transform.count.kept
}
`)
	var last string
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background(), etl.RunOptions{Save: func(cp *etl.Checkpoint) error {
			b, err := cp.StageState("transform.count.kept")
			last = string(b)
			return err
		}})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run blocked")
	}
	if snapshots != 10 {
		t.Errorf("%d snapshots, want 10 (the dead end's are skipped)", snapshots)
	}
	if got := last; got != "100" {
		t.Errorf("checkpointed state %q, want 100", got)
	}
}

// quitter is a Streamer that returns without reading its input.
type quitter struct{}

func (quitter) Stream(context.Context, <-chan etl.Batch, etl.Output) error { return nil }

func TestStreamerReturningEarlyIsAnError(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	etl.RegisterStreamer(reg, etl.KindFilter, etl.Spec[struct{}]{Type: "quit", Summary: "Quits."},
		func(*struct{}, etl.Env) (etl.Streamer, error) { return quitter{}, nil })
	p := load(t, reg, "source \"gen\" \"g\" {\n  per_partition = 5000\n}\nfilter \"quit\" \"q\" {\n  input = source.gen.g\n}\nsink \"collect\" \"c\" {\n  input = filter.quit.q\n}\n")
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background(), etl.RunOptions{}); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "Stream returned before its input ended") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run hung")
	}
}

// twice is a source that ends the same partition twice: a plugin bug the
// engine reports instead of checkpointing the partition early.
type twice struct{ env etl.Env }

func (s twice) Read(_ context.Context, out etl.Output) error {
	for i := 0; i < 2; i++ {
		if err := out.EndPartition(&etl.Mark{Partition: "p"}); err != nil {
			return err
		}
	}
	return nil
}

func TestPartitionEndedTwiceIsAnError(t *testing.T) {
	reg, _ := testRegistry(t)
	etl.RegisterSource(reg, etl.Spec[struct{}]{Type: "twice", Summary: "Ends p twice."},
		func(_ *struct{}, env etl.Env) (etl.Source, error) { return twice{env}, nil })
	p := load(t, reg, "source \"twice\" \"t\" {}\nsink \"collect\" \"c\" {\n  input = source.twice.t\n}\n")
	_, err := p.Run(context.Background(), etl.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `partition "p" ended twice`) {
		t.Errorf("err = %v", err)
	}
}

// Inserting a block before a stateful one changes the meaning of its state:
// the checkpoint is refused, naming the chain.
func TestFingerprintCoversUpstreamChain(t *testing.T) {
	reg, _ := testRegistry(t)
	etl.RegisterSink(reg, etl.Spec[fpConfig]{Type: "fp", Summary: "Has a fingerprint."},
		func(*fpConfig, etl.Env) (etl.Sink, error) { return discardSink{}, nil })
	before := load(t, reg, "source \"gen\" \"g\" {}\nsink \"fp\" \"s\" {\n  input = source.gen.g\n}\n")
	after := load(t, reg, "source \"gen\" \"g\" {}\nfilter \"where\" \"w\" {\n  input = source.gen.g\n  condition = true\n}\nsink \"fp\" \"s\" {\n  input = filter.where.w\n}\n")
	diffs := etl.NewCheckpoint(before).Compare(after)
	if len(diffs) != 1 || !strings.Contains(diffs[0], `(upstream) was "source.gen.g", now "source.gen.g → filter.where.w"`) {
		t.Errorf("diffs = %q", diffs)
	}
	if d := etl.NewCheckpoint(before).Compare(before); len(d) != 0 {
		t.Errorf("same pipeline differs: %q", d)
	}
}

type fpConfig struct{}

func (*fpConfig) Fingerprint() map[string]string { return map[string]string{"k": "v"} }

// streamingState is countingState with streamed snapshots, which count
// their releases.
type streamingState struct {
	countingState
	live *atomic.Int64 // snapshots taken and not yet released
}

type countSnapshot struct {
	n        int
	live     *atomic.Int64
	released atomic.Bool
}

func (s *countSnapshot) WriteTo(w io.Writer) (int64, error) {
	if s.released.Load() {
		return 0, fmt.Errorf("snapshot written after its release")
	}
	n, err := fmt.Fprint(w, s.n)
	return int64(n), err
}

func (s *countSnapshot) Release() {
	if s.released.Swap(true) {
		panic("snapshot released twice")
	}
	s.live.Add(-1)
}

func (c *streamingState) SnapshotStream() (etl.Snapshot, error) {
	*c.snapshots++
	c.live.Add(1)
	return &countSnapshot{n: c.n, live: c.live}, nil
}

// TestStreamedSnapshots checks that streamed snapshots reach the
// checkpoint file and are each released once, whether the run succeeds or
// its source fails midway (snapshots of unfinished partitions included).
func TestStreamedSnapshots(t *testing.T) {
	for _, failAfter := range []int{0, 55} {
		t.Run(fmt.Sprintf("fail_after=%d", failAfter), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			reg, _ := testRegistry(t)
			snapshots := 0
			var live atomic.Int64
			registerCount(reg, &snapshots, &live)
			p := load(t, reg, fmt.Sprintf(`
source "gen" "g" {
  partitions = 10
  fail_after = %d
}
transform "count" "kept" {
  input = source.gen.g
}
sink "collect" "c" {
  input = transform.count.kept
}
`, failAfter))
			path := filepath.Join(t.TempDir(), "state.json")
			_, err := p.Run(context.Background(), etl.RunOptions{BatchSize: 3, Save: func(cp *etl.Checkpoint) error {
				return etl.SaveCheckpoint(path, cp)
			}})
			if (err != nil) != (failAfter > 0) {
				t.Fatalf("err = %v", err)
			}
			if n := live.Load(); n != 0 {
				t.Errorf("%d snapshots never released (of %d)", n, snapshots)
			}
			cp, err := etl.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			want := "100"
			if failAfter > 0 {
				want = "50" // the five whole partitions before the failure
			}
			if got := string(cp.Stages["transform.count.kept"]); got != want {
				t.Errorf("checkpointed state %q, want %s", got, want)
			}
		})
	}
}

// failingSink fails at its n-th record.
type failingSink struct{ n, seen int }

func (f *failingSink) Write(context.Context, etl.Record) error {
	f.seen++
	if f.seen == f.n {
		return fmt.Errorf("sink failed at record %d", f.n)
	}
	return nil
}

// TestStreamedSnapshotsReleasedWhenASinkFails: a failing sink cancels the
// run with marks (and their snapshots) still in channels; every snapshot
// is released all the same.
func TestStreamedSnapshotsReleasedWhenASinkFails(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	snapshots := 0
	var live atomic.Int64
	registerCount(reg, &snapshots, &live)
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "failing", Summary: "Fails."},
		func(*struct{}, etl.Env) (etl.Sink, error) { return &failingSink{n: 200}, nil })
	p := load(t, reg, `
source "gen" "g" {
  partitions = 40
}
transform "count" "c" {
  input = source.gen.g
}
sink "failing" "s" {
  input = transform.count.c
}
`)
	_, err := p.Run(context.Background(), etl.RunOptions{BatchSize: 3, Save: func(*etl.Checkpoint) error { return nil }})
	if err == nil {
		t.Fatal("the run did not fail")
	}
	if n := live.Load(); n != 0 || snapshots == 0 {
		t.Errorf("%d of %d snapshots never released", n, snapshots)
	}
}

// TestTwoSourcesWithByteSnapshots: with two sources the checkpoint keeps
// the snapshots between saves; replacing a byte snapshot must not compare
// it (slices in interfaces panic when compared).
func TestTwoSourcesWithByteSnapshots(t *testing.T) {
	reg, _ := testRegistry(t)
	snapshots := 0
	registerCount(reg, &snapshots, nil)
	p := load(t, reg, `
source "gen" "a" {
  partitions = 5
}
source "gen" "b" {
  partitions = 5
}
transform "count" "c" {
  input = source.gen.a
}
sink "collect" "ca" {
  input = transform.count.c
  name  = "a"
}
sink "collect" "cb" {
  input = source.gen.b
  name  = "b"
}
`)
	saves := 0
	if _, err := p.Run(context.Background(), etl.RunOptions{Save: func(*etl.Checkpoint) error { saves++; return nil }}); err != nil {
		t.Fatal(err)
	}
	if saves != 10 || snapshots != 5 {
		t.Errorf("%d saves, %d snapshots; want 10 and 5", saves, snapshots)
	}
}
