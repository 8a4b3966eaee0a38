package etl_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

// BenchmarkEngine pushes small records through gen → map (a per-record
// expression) → collect-less sink and reports records/s and the peak live
// heap, for two record counts: the heap must not grow with the count.
func BenchmarkEngine(b *testing.B) {
	for _, tc := range []struct {
		name string
		expr string
	}{
		{"field", "record.key"},
		{"expression", `"${record.key}-${record.partition}"`},
	} {
		for _, n := range []int{100_000, 1_000_000} {
			b.Run(fmt.Sprintf("expr=%s/records=%d", tc.name, n), func(b *testing.B) {
				benchEngine(b, n, tc.expr)
			})
		}
	}
}

func benchEngine(b *testing.B, records int, expr string) {
	reg, _ := testRegistry(b)
	reg.Register(etl.Plugin{
		Kind: etl.KindSink, Type: "discard", Summary: "Drops records.",
		Config: func() any { return &struct{}{} },
		New:    func(any, etl.Env) (any, error) { return discardSink{}, nil },
	})
	src := fmt.Sprintf(`
source "gen" "nums" {
  partitions    = 10
  per_partition = %d
  keys          = 1000
}
transform "map" "t" {
  input = source.gen.nums
  field = "out"
  value = %s
}
sink "discard" "out" {
  input = transform.map.t
}
`, records/10, expr)
	p := load(b, reg, src)
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		stop := sampleHeap(&peak)
		start := time.Now()
		if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		stop()
		b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

type discardSink struct{}

func (discardSink) Write(context.Context, etl.Record) error { return nil }

// sampleHeap records the largest live heap (objects in use) seen every
// millisecond until the returned stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	var done atomic.Bool
	finished := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		for !done.Load() {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return func() { done.Store(true); <-finished }
}
