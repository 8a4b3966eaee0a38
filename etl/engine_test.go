package etl_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/zclconf/go-cty/cty"
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
	var opts etl.RunOptions
	saves := recordSaves(t, &opts)
	defer opts.State.Close() // before goleak's check
	_, err := p.Run(context.Background(), opts)
	saved := *saves
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
  partitions    = %d
  per_partition = 10
}
sink "collect" "out" {
  input = source.gen.nums
}
`
	// Two partitions done, then a run of four resumes: the source skips
	// the two.
	var opts etl.RunOptions
	saves := recordSaves(t, &opts)
	defer opts.State.Close() // before goleak's check
	if _, err := load(t, reg, fmt.Sprintf(src, 2)).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(*saves, []string{"p000", "p001"}) {
		t.Fatalf("checkpoints saved after %v", *saves)
	}
	c.Records, c.Marks = map[string][]etl.Record{}, map[string][]string{}
	*saves = nil
	res, err := load(t, reg, fmt.Sprintf(src, 4)).Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Marks["default"], []string{"p002", "p003"}) || len(c.Records["default"]) != 20 {
		t.Errorf("resumed run read %v (%d records)", c.Marks["default"], len(c.Records["default"]))
	}
	if res.Resumed != 2 || !slices.Equal(*saves, []string{"p002", "p003"}) {
		t.Errorf("Resumed = %d, want 2; saved %v", res.Resumed, *saves)
	}
	cp, err := etl.ReadCheckpoint(opts.State)
	if err != nil || len(cp.Sources["source.gen.nums"]) != 4 {
		t.Errorf("checkpoint %+v, %v; want 4 partitions", cp, err)
	}
}

// recordSaves gives opts an in-memory state and returns the partitions
// the run commits, in order, as its events report them.
func recordSaves(t testing.TB, opts *etl.RunOptions) *[]string {
	t.Helper()
	if opts.State == nil {
		st := store.OpenMem()
		t.Cleanup(func() { st.Close() })
		opts.State = st
	}
	saved := &[]string{}
	opts.Events = etl.ReporterFunc(func(e etl.Event) {
		if e.Type == etl.EventPartition && e.Data["checkpoint"] == true {
			*saved = append(*saved, e.Partition)
		}
	})
	return saved
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
	var opts etl.RunOptions
	recordSaves(t, &opts)
	defer opts.State.Close() // before goleak's check
	res, err := p.Run(ctx, opts)
	if err != nil {
		t.Fatalf("run cancelled after its sink finished: %v", err)
	}
	var saved []string
	if cp, err := etl.ReadCheckpoint(opts.State); err == nil && cp != nil {
		for _, pd := range cp.Sources["source.gen.nums"] {
			saved = append(saved, pd.Name)
		}
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
	st := store.OpenMem()
	defer st.Close()
	res, err := p.Run(context.Background(), etl.RunOptions{Plan: true, State: st})
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := etl.ReadCheckpoint(st); cp != nil || err != nil {
		t.Errorf("a plan committed %+v (%v)", cp, err)
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
				func(*struct{}, etl.Env) (etl.Processor, error) { return &countingState{}, nil })
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
			var opts etl.RunOptions
			saves := recordSaves(t, &opts)
			defer opts.State.Close() // before goleak's check
			if _, err := p.Run(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 0, true: 3}[replays]; len(*saves) != want {
				t.Errorf("%d checkpoints saved, want %d", len(*saves), want)
			}
		})
	}
}

// countingState is a stateful pass-through transform that counts what it
// saw in its table (key "n"); block, when set, stops it before each
// record until it receives.
type countingState struct {
	t     etl.Table
	n     int
	block chan struct{}
}

func (c *countingState) UseState(t etl.Table) error {
	c.t = t
	v, ok, err := t.Get([]byte("n"))
	if ok {
		_, err = fmt.Sscan(string(v), &c.n)
	}
	return err
}

func (c *countingState) Process(ctx context.Context, rec etl.Record, out etl.Output) error {
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.n++
	if err := c.t.Set([]byte("n"), []byte(fmt.Sprint(c.n))); err != nil {
		return err
	}
	return out.Emit(rec)
}

// registerCount registers the "count" transform (a countingState).
func registerCount(reg *etl.Registry, block chan struct{}) {
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "count", Summary: "Counts."},
		func(*struct{}, etl.Env) (etl.Processor, error) { return &countingState{block: block}, nil })
}

// countIn reads what a count stage committed.
func countIn(t *testing.T, st *store.Store, addr string) string {
	t.Helper()
	v, _, err := st.Get(append(append([]byte("state/"), addr...), 0, 'n'))
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

// A stateful stage with no sink after it still holds its state for each
// partition, and the run does not wait for it beyond that.
func TestStatefulStageWithoutSinkDoesNotBlock(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	registerCount(reg, nil)
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
	var opts etl.RunOptions
	saves := recordSaves(t, &opts)
	defer opts.State.Close() // before goleak's check
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(context.Background(), opts)
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
	if len(*saves) != 10 {
		t.Errorf("%d partitions saved, want 10", len(*saves))
	}
	for _, addr := range []string{"transform.count.kept", "transform.count.dead_end"} {
		if got := countIn(t, opts.State, addr); got != "100" {
			t.Errorf("%s: checkpointed state %q, want 100", addr, got)
		}
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

// The state committed with a partition is the stage's state after that
// partition, whether the run succeeds or its source fails midway; and a
// resumed run starts from it.
func TestStateCommittedWithItsPartition(t *testing.T) {
	for _, failAfter := range []int{0, 55} {
		t.Run(fmt.Sprintf("fail_after=%d", failAfter), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			reg, c := testRegistry(t)
			registerCount(reg, nil)
			src := `
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
`
			opts := etl.RunOptions{BatchSize: 3}
			saves := recordSaves(t, &opts)
			defer opts.State.Close() // before goleak's check
			_, err := load(t, reg, fmt.Sprintf(src, failAfter)).Run(context.Background(), opts)
			if (err != nil) != (failAfter > 0) {
				t.Fatalf("err = %v", err)
			}
			want := "100"
			if failAfter > 0 {
				want = "50" // the five whole partitions before the failure
			}
			if got := countIn(t, opts.State, "transform.count.kept"); got != want {
				t.Errorf("checkpointed state %q after %v, want %s", got, *saves, want)
			}
			if failAfter == 0 {
				return
			}
			// The resumed run reads the other five partitions and counts
			// on from 50.
			c.Records = map[string][]etl.Record{}
			if _, err := load(t, reg, fmt.Sprintf(src, 0)).Run(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if got := countIn(t, opts.State, "transform.count.kept"); got != "100" || len(c.Records["default"]) != 50 {
				t.Errorf("after the resume: state %q, %d records read; want 100 and 50", got, len(c.Records["default"]))
			}
		})
	}
}

// The rule "done means durable or replayable": a partition is committed
// once every stateful stage has handled it, even while a sink behind a
// replaying stage still holds it. Here the sink behind the replaying stage
// is held still until every partition is committed.
func TestSinkBehindReplayingStageDoesNotHoldCheckpoint(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, c := testRegistry(t)
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "replay", Summary: "A stateful stage that replays.", Replays: true},
		func(*struct{}, etl.Env) (etl.Processor, error) { return &countingState{}, nil })
	c.Block = make(chan struct{})
	p := load(t, reg, `
source "gen" "g" {
  partitions    = 5
  per_partition = 2
}
transform "replay" "r" {
  input = source.gen.g
}
sink "collect" "c" {
  input = transform.replay.r
}
`)
	// Room for every batch: the stage is not held back by the sink's
	// channel, only (before the rule) by the checkpoint.
	opts := etl.RunOptions{BatchSize: 1, Buffer: 32}
	var mu sync.Mutex
	saved := 0
	opts.State = store.OpenMem()
	defer opts.State.Close()
	opts.Events = etl.ReporterFunc(func(e etl.Event) {
		if e.Type == etl.EventPartition && e.Data["checkpoint"] == true {
			mu.Lock()
			saved++
			if saved == 2 {
				close(c.Block) // let the sink go once two are committed
			}
			mu.Unlock()
		}
	})
	if _, err := p.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	// The sink could take nothing before two partitions were committed:
	// the checkpoint did not wait for it.
	if saved != 5 {
		t.Errorf("%d partitions saved, want 5", saved)
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

// A sink that fails cancels the run: partitions it had not made durable
// are not committed, whatever the stateful stages before it had done.
func TestFailingSinkHoldsItsPartitions(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg, _ := testRegistry(t)
	registerCount(reg, nil)
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "failing", Summary: "Fails."},
		func(*struct{}, etl.Env) (etl.Sink, error) { return &failingSink{n: 25}, nil })
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
	opts := etl.RunOptions{BatchSize: 3}
	saves := recordSaves(t, &opts)
	defer opts.State.Close() // before goleak's check
	if _, err := p.Run(context.Background(), opts); err == nil {
		t.Fatal("the run did not fail")
	}
	// The sink wrote p000 and p001 before it failed: both are committed,
	// with the stage's state as of p001.
	if !slices.Equal(*saves, []string{"p000", "p001"}) {
		t.Fatalf("saved %v, want p000 and p001", *saves)
	}
	if got, want := countIn(t, opts.State, "transform.count.c"), fmt.Sprint(10*len(*saves)); got != want {
		t.Errorf("checkpointed state %q after %v, want %s", got, *saves, want)
	}
}

// Two sources, one through a stateful stage: each source's partitions are
// committed, and the stage's state with its own.
func TestTwoSources(t *testing.T) {
	reg, _ := testRegistry(t)
	registerCount(reg, nil)
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
	var opts etl.RunOptions
	saves := recordSaves(t, &opts)
	defer opts.State.Close() // before goleak's check
	if _, err := p.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if len(*saves) != 10 || countIn(t, opts.State, "transform.count.c") != "50" {
		t.Errorf("%d saves, state %q; want 10 and 50", len(*saves), countIn(t, opts.State, "transform.count.c"))
	}
}

// opener emits two partitions of 3 records; the second is Open (not over).
type opener struct{}

func (opener) Read(_ context.Context, out etl.Output) error {
	for i, name := range []string{"p0", "p1"} {
		for j := range 3 {
			if err := out.Emit(etl.Record{"key": cty.StringVal(fmt.Sprint(i*3 + j))}); err != nil {
				return err
			}
		}
		if err := out.EndPartition(&etl.Mark{Partition: name, Open: i == 1}); err != nil {
			return err
		}
	}
	return nil
}

// An Open partition goes through every stage but is not committed: the
// checkpoint holds neither it nor the state it changed.
func TestOpenPartitionNotCommitted(t *testing.T) {
	reg, c := testRegistry(t)
	registerCount(reg, nil)
	etl.RegisterSource(reg, etl.Spec[struct{}]{Type: "opener", Summary: "Ends its last partition open."},
		func(*struct{}, etl.Env) (etl.Source, error) { return opener{}, nil })
	p := load(t, reg, "source \"opener\" \"o\" {}\ntransform \"count\" \"c\" {\n  input = source.opener.o\n}\nsink \"collect\" \"s\" {\n  input = transform.count.c\n}\n")
	var opts etl.RunOptions
	saves := recordSaves(t, &opts)
	if _, err := p.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(*saves, []string{"p0"}) || len(c.Records["default"]) != 6 {
		t.Errorf("saved %v with %d records through; want p0 and 6", *saves, len(c.Records["default"]))
	}
	if got := countIn(t, opts.State, "transform.count.c"); got != "3" {
		t.Errorf("committed state %q, want p0's 3", got)
	}
}

// A stateful stage behind a replaying one would count the replayed
// records twice on resume: the run refuses it before anything is read.
func TestStatefulBehindReplayingStageRefused(t *testing.T) {
	reg, _ := testRegistry(t)
	registerCount(reg, nil)
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "replay", Summary: "Replays.", Replays: true},
		func(*struct{}, etl.Env) (etl.Processor, error) { return &countingState{}, nil })
	p := load(t, reg, "source \"gen\" \"g\" {}\ntransform \"replay\" \"r\" {\n  input = source.gen.g\n}\ntransform \"count\" \"c\" {\n  input = transform.replay.r\n}\nsink \"collect\" \"s\" {\n  input = transform.count.c\n}\n")
	_, err := p.Run(context.Background(), etl.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot follow transform.replay.r") || !strings.Contains(err.Error(), "Feed it from source.gen.g") {
		t.Fatalf("err = %v", err)
	}
}

// A fresh run deletes the old checkpoint with its own first commit: one
// that fails before it has anything to checkpoint keeps the old one; one
// that commits replaces it whole.
func TestFreshRunReplacesCheckpointAtFirstCommit(t *testing.T) {
	reg, _ := testRegistry(t)
	registerCount(reg, nil)
	src := `
source "gen" "nums" {
  partitions    = %d
  per_partition = 10
  fail_after    = %d
}
transform "count" "c" {
  input = source.gen.nums
}
sink "collect" "out" {
  input = transform.count.c
}
`
	var opts etl.RunOptions
	recordSaves(t, &opts)
	defer opts.State.Close()
	if _, err := load(t, reg, fmt.Sprintf(src, 3, 0)).Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	fresh := opts
	fresh.Fresh = true
	if _, err := load(t, reg, fmt.Sprintf(src, 2, 5)).Run(context.Background(), fresh); err == nil {
		t.Fatal("the failing fresh run did not fail")
	}
	if n := len(mustCheckpoint(t, opts.State).Sources["source.gen.nums"]); n != 3 || countIn(t, opts.State, "transform.count.c") != "30" {
		t.Fatalf("a fresh run that failed before its first commit left %d partitions, state %q; want the old 3 and 30", n, countIn(t, opts.State, "transform.count.c"))
	}
	if _, err := load(t, reg, fmt.Sprintf(src, 2, 0)).Run(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	if n := len(mustCheckpoint(t, opts.State).Sources["source.gen.nums"]); n != 2 || countIn(t, opts.State, "transform.count.c") != "20" {
		t.Fatalf("after a fresh run: %d partitions, state %q; want 2 and 20", n, countIn(t, opts.State, "transform.count.c"))
	}
}

func mustCheckpoint(t *testing.T, st *store.Store) *etl.Checkpoint {
	t.Helper()
	cp, err := etl.ReadCheckpoint(st)
	if err != nil || cp == nil {
		t.Fatalf("checkpoint: %v, %v", cp, err)
	}
	return cp
}

// A plugin that says it Replays but keeps no state is a bug the run names
// at its start: nothing would replay what the stages after it held.
func TestReplaysWithoutStateRefused(t *testing.T) {
	reg, _ := testRegistry(t)
	etl.RegisterProcessor(reg, etl.KindTransform, etl.Spec[struct{}]{Type: "pass", Summary: "Passes.", Replays: true},
		func(*struct{}, etl.Env) (etl.Processor, error) { return passThrough{}, nil })
	p := load(t, reg, "source \"gen\" \"g\" {}\ntransform \"pass\" \"p\" {\n  input = source.gen.g\n}\nsink \"collect\" \"s\" {\n  input = transform.pass.p\n}\n")
	if _, err := p.Run(context.Background(), etl.RunOptions{}); err == nil || !strings.Contains(err.Error(), "plugin bug: pass says it Replays but keeps no state") {
		t.Fatalf("err = %v", err)
	}
}
