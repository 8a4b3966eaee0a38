package etl_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

// decider keeps even ids and drops odd ones, and says so as outcomes; it
// sleeps per record when slow is set.
type decider struct {
	kept, dropped int64
	slow          time.Duration
}

func (d *decider) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	time.Sleep(d.slow)
	id, _ := rec["id"].AsBigFloat().Int64()
	if id%2 == 1 {
		d.dropped++
		out.Drop("odd")
		return nil
	}
	d.kept++
	return out.Emit(rec)
}

func (d *decider) Outcomes() *etl.Outcomes {
	return &etl.Outcomes{Of: "ids", Counts: []etl.Count{{Name: "kept", N: d.kept}, {Name: "odd", N: d.dropped}}}
}

var _ etl.Outcomer = (*decider)(nil)

type deciderConfig struct {
	Slow time.Duration `hcl:"slow,optional"`
}

func registerDecider(reg *etl.Registry) {
	etl.RegisterProcessor(reg, etl.KindFilter, etl.Spec[deciderConfig]{
		Type: "decide", Summary: "Keeps even ids.", Config: func() *deciderConfig { return &deciderConfig{} },
	}, func(c *deciderConfig, _ etl.Env) (etl.Processor, error) { return &decider{slow: c.Slow}, nil })
}

func blockResult(res *etl.Result, typ string) etl.BlockResult {
	i := slices.IndexFunc(res.Blocks, func(b etl.BlockResult) bool { return b.Addr.Type == typ })
	return res.Blocks[i]
}

// An Outcomer's outcomes are in its BlockResult, in its order.
func TestOutcomesInResult(t *testing.T) {
	reg, _ := testRegistry(t)
	registerDecider(reg)
	res, err := load(t, reg, `
source "gen" "nums" {
  partitions    = 2
  per_partition = 5
}
filter "decide" "d" { input = source.gen.nums }
sink "collect" "out" { input = filter.decide.d }
`).Run(context.Background(), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := blockResult(res, "decide").Outcomes
	want := []etl.Count{{Name: "kept", N: 5}, {Name: "odd", N: 5}}
	if got == nil || got.Of != "ids" || !slices.Equal(got.Counts, want) {
		t.Errorf("outcomes %+v, want ids %v", got, want)
	}
	if blockResult(res, "gen").Outcomes != nil {
		t.Error("a block that is no Outcomer has outcomes")
	}
}

// Each block's time is split into waiting for input, waiting for output
// and its own work: behind a slow filter the source waits for output and
// the sink for input.
func TestStageTimes(t *testing.T) {
	reg, _ := testRegistry(t)
	registerDecider(reg)
	res, err := load(t, reg, `
source "gen" "nums" {
  partitions    = 2
  per_partition = 100
}
filter "decide" "d" {
  input = source.gen.nums
  slow  = "2ms"
}
sink "collect" "out" { input = filter.decide.d }
`).Run(context.Background(), etl.RunOptions{BatchSize: 10, Buffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	src, filter, sink := blockResult(res, "gen"), blockResult(res, "decide"), blockResult(res, "collect")
	const work = 200 * 2 * time.Millisecond // the filter's sleeps
	for _, b := range []etl.BlockResult{src, filter, sink} {
		if b.Elapsed < work || b.WaitIn+b.WaitOut > b.Elapsed {
			t.Errorf("%s: elapsed %v, waits %v + %v", b.Addr, b.Elapsed, b.WaitIn, b.WaitOut)
		}
	}
	// The source reads ahead at most two batches: it waits for the filter
	// nearly all along, as the sink does.
	if src.WaitOut < work*3/4 {
		t.Errorf("source waited %v for output, want most of %v", src.WaitOut, work)
	}
	if sink.WaitIn < work*3/4 {
		t.Errorf("sink waited %v for input, want most of %v", sink.WaitIn, work)
	}
	if busy := filter.Elapsed - filter.WaitIn - filter.WaitOut; busy < work {
		t.Errorf("filter worked %v, want at least %v (in %v, out %v)", busy, work, filter.WaitIn, filter.WaitOut)
	}
	if src.WaitIn != 0 {
		t.Errorf("a source waited %v for input", src.WaitIn)
	}
}
