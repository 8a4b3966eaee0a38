package etl_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

// checker is a sink whose Preflight waits until every checker has started
// its own (a sequential preflight never gets there) and then fails with
// its name when told to.
type checker struct {
	name    string
	fail    bool
	started *sync.WaitGroup
}

func (c *checker) Preflight(ctx context.Context) error {
	c.started.Done()
	done := make(chan struct{})
	go func() { c.started.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		return errors.New("the other checks did not start: preflights run one after another")
	}
	if c.fail {
		return errors.New(c.name + " refused the key")
	}
	return nil
}

func (c *checker) Write(context.Context, etl.Record) error { return nil }

var _ etl.Preflighter = (*checker)(nil)

// Preflight checks run at once, so a run waits for the slowest API rather
// than their sum; when several fail, the first block's error is shown.
func TestPreflightsRunAtOnceFirstErrorInPipelineOrder(t *testing.T) {
	reg, _ := testRegistry(t)
	type cfg struct {
		Fail bool `hcl:"fail,optional"`
	}
	var started sync.WaitGroup
	etl.RegisterSink(reg, etl.Spec[cfg]{Type: "checker", Summary: "Checks."},
		func(c *cfg, env etl.Env) (etl.Sink, error) {
			return &checker{name: env.Addr.String(), fail: c.Fail, started: &started}, nil
		})
	const src = `
source "gen" "nums" {
  partitions    = 1
  per_partition = 1
}
sink "checker" "a" {
  input = source.gen.nums
  fail  = %s
}
sink "checker" "b" {
  input = source.gen.nums
  fail  = true
}
`
	for _, failA := range []string{"true", "false"} {
		started.Add(2)
		_, err := load(t, reg, strings.Replace(src, "%s", failA, 1)).Run(context.Background(), etl.RunOptions{})
		want := "sink.checker.b refused the key"
		if failA == "true" {
			want = "sink.checker.a refused the key"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a fails: %s: got %v, want %q", failA, err, want)
		}
	}
}
