package etl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

// progressEvents runs src with ProgressEvery and returns the run-level
// progress events, in order.
func progressEvents(t *testing.T, src string, every time.Duration) []etl.Event {
	t.Helper()
	reg, _ := testRegistry(t)
	var mu sync.Mutex
	var events []etl.Event
	rep := etl.ReporterFunc(func(e etl.Event) {
		if _, ok := etl.ProgressOf(e); ok {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	})
	if _, err := load(t, reg, src).Run(context.Background(), etl.RunOptions{Events: rep, ProgressEvery: every}); err != nil {
		t.Fatal(err)
	}
	return events
}

const slowGen = `
source "gen" "g" {
  partitions    = 8
  per_partition = 5
  delay         = "40ms"
}
sink "collect" "c" {
  input = source.gen.g
}
`

// TestProgressEvents: while a run goes, the engine reports the source's
// partitions done out of the total it announced, with an ETA once one is
// done, and a final event with every partition done; JSON-encoded events
// read back the same.
func TestProgressEvents(t *testing.T) {
	events := progressEvents(t, slowGen, 15*time.Millisecond)
	if len(events) < 3 {
		t.Fatalf("%d progress events, want several over a 320 ms run at 15 ms", len(events))
	}
	var last int64
	sawETA := false
	for i, e := range events {
		p, _ := etl.ProgressOf(e)
		if len(p.Blocks) != 1 || p.Blocks[0].Block != "source.gen.g" || p.Blocks[0].Partitions == nil {
			t.Fatalf("event %d: blocks %+v, want the source alone (the sink neither looks up nor requests)", i, p.Blocks)
		}
		pp := p.Blocks[0].Partitions
		if pp.Total == nil || *pp.Total != 8 || pp.Unit != "partitions" {
			t.Fatalf("event %d: partitions %+v, want a total of 8 partitions", i, pp)
		}
		if pp.Done < last {
			t.Errorf("event %d: done went back from %d to %d", i, last, pp.Done)
		}
		last = pp.Done
		if p.Final != (i == len(events)-1) {
			t.Errorf("event %d of %d: final = %v", i, len(events), p.Final)
		}
		if !p.Final && pp.Done > 0 && pp.Done < 8 && p.ETASeconds != nil {
			sawETA = true
			if *p.ETASeconds <= 0 || *p.ETASeconds > 5 {
				t.Errorf("event %d: ETA %.3f s with %d of 8 partitions done in %.3f s", i, *p.ETASeconds, pp.Done, p.ElapsedSeconds)
			}
		}
	}
	if !sawETA {
		t.Error("no event under way had an ETA")
	}
	final, _ := etl.ProgressOf(events[len(events)-1])
	if final.Blocks[0].Partitions.Done != 8 || final.ETASeconds == nil || *final.ETASeconds != 0 {
		t.Errorf("final event: %+v, ETA %v; want 8 done, ETA 0", final.Blocks[0].Partitions, final.ETASeconds)
	}

	// Through --output json and back.
	var buf bytes.Buffer
	(&etl.JSONReporter{W: &buf}).Report(events[len(events)-1])
	var decoded etl.Event
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	back, ok := etl.ProgressOf(decoded)
	if !ok || !reflect.DeepEqual(back, final) {
		t.Errorf("decoded from JSON: %+v (ok %v), want %+v\n%s", back, ok, final, buf.String())
	}
}

func TestNoProgressEventsUnlessAsked(t *testing.T) {
	if events := progressEvents(t, slowGen, 0); len(events) != 0 {
		t.Errorf("%d progress events with ProgressEvery 0", len(events))
	}
}
