package etl_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/etlhq/etl/etl"
)

// latestSink keeps the last id seen per id%5 in its scratch table, and at
// Finish lists what the table holds.
type latestSink struct {
	scratch etl.Table
	found   *[]string // what the table held at Finish
	given   *etl.Table
}

func (s *latestSink) UseScratch(t etl.Table) error {
	s.scratch, *s.given = t, t
	return t.Scan(func(k, v []byte) error {
		return fmt.Errorf("a new scratch table holds %s=%s", k, v)
	})
}

func (s *latestSink) Write(_ context.Context, rec etl.Record) error {
	id, _ := rec["id"].AsBigFloat().Int64()
	return s.scratch.Set([]byte(fmt.Sprint(id%5)), []byte(fmt.Sprint(id)))
}

func (s *latestSink) Finish(context.Context, etl.Output) error {
	*s.found = nil
	return s.scratch.Scan(func(k, v []byte) error {
		*s.found = append(*s.found, string(k)+"="+string(v))
		return nil
	})
}

var (
	_ etl.Scratcher = (*latestSink)(nil)
	_ etl.Finisher  = (*latestSink)(nil)
)

// A Scratcher gets an empty table for the run: it keeps the latest value
// per key, scans in key order, leaves nothing in the scratch directory,
// in a run with state as in a plan, and is emptied when the run ends.
func TestScratchTableLivesForOneRun(t *testing.T) {
	reg, _ := testRegistry(t)
	var found []string
	var given etl.Table
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "latest", Summary: "Latest per id%5."},
		func(*struct{}, etl.Env) (etl.Sink, error) {
			return &latestSink{found: &found, given: &given}, nil
		})
	const src = `
source "gen" "nums" {
  partitions    = 3
  per_partition = 10
}
sink "latest" "out" {
  input = source.gen.nums
}
`
	want := []string{"0=25", "1=26", "2=27", "3=28", "4=29"}
	for _, plan := range []bool{false, true} {
		opts := stateOptions(t)
		opts.Plan = plan
		opts.ScratchDir = t.TempDir()
		opts.Fresh = true               // run 2 reads every partition again
		for run := 1; run <= 2; run++ { // the second run starts empty too
			if _, err := load(t, reg, src).Run(context.Background(), opts); err != nil {
				t.Fatalf("plan=%v run %d: %v", plan, run, err)
			}
			if fmt.Sprint(found) != fmt.Sprint(want) {
				t.Errorf("plan=%v run %d: Finish found %v, want %v", plan, run, found, want)
			}
			if names, _ := os.ReadDir(opts.ScratchDir); len(names) != 0 {
				t.Errorf("plan=%v run %d: the scratch directory holds %v", plan, run, names)
			}
			n := 0
			given.Scan(func(k, v []byte) error { n++; return nil })
			if n != 0 {
				t.Errorf("plan=%v run %d: the scratch table holds %d keys after the run", plan, run, n)
			}
		}
		opts.State.Close()
	}
}
