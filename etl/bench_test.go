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
	"github.com/zclconf/go-cty/cty"
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
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "discard", Summary: "Drops records."},
		func(*struct{}, etl.Env) (etl.Sink, error) { return discardSink{}, nil })
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

// BenchmarkAppendRecord encodes a record shaped like bland_calls' (strings,
// a time, typed nulls, a float, a metadata object): dedupe_latest encodes
// every record that becomes its key's latest.
func BenchmarkAppendRecord(b *testing.B) {
	meta, _ := etl.ValueFromJSON([]byte(`{"lead_id":123456,"campaign":"spring","tags":["a","b"]}`))
	rec := etl.Record{
		"call_id": cty.StringVal("0f8fad5b-d9cb-469f-a165-70867728950e"), "created_at": etl.TimeVal(time.Unix(1764547200, 5e8)),
		"phone": cty.StringVal("5615550100"), "phone_invalid_reason": cty.NullVal(cty.String), "raw_phone": cty.StringVal("+15615550100"),
		"to": cty.StringVal("+15615550100"), "from": cty.StringVal("+18005550100"), "inbound": cty.False, "batch_id": cty.StringVal("batch-7"),
		"status": cty.StringVal("completed"), "answered_by": cty.StringVal("human"), "call_length": cty.NumberFloatVal(1.75),
		"metadata": meta, "date": cty.StringVal("2025-12-01"),
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = etl.AppendRecord(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
	}
}
