package mapper_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/filters/mapper"
	"github.com/etlhq/etl/filters/where"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkWhereMap pushes records shaped like a queue export (six
// fields) through where → map → a sink that discards them, and reports
// records/s: the per-record cost of the two blocks and the engine.
func BenchmarkWhereMap(b *testing.B) {
	const n = 200_000
	statuses := []cty.Value{cty.StringVal("pending"), cty.StringVal("called"), cty.StringVal("done")}
	recs := make([]etl.Record, n)
	for i := range recs {
		recs[i] = etl.Record{
			"phone_number": cty.StringVal(fmt.Sprintf("561555%04d", i%10000)),
			"lead_id":      cty.StringVal(strconv.Itoa(i)),
			"status":       statuses[i%3],
			"attempts":     cty.NumberIntVal(int64(i % 5)),
			"next_attempt": cty.StringVal("2026-01-02T16:00:00.000Z"),
			"created_at":   cty.StringVal("2026-01-01T10:00:00.000Z"),
		}
	}
	reg := etl.NewRegistry()
	mapper.Register(reg)
	where.Register(reg)
	etl.RegisterSource(reg, etl.Spec[struct{}]{Type: "mem", Summary: "Emits the records."},
		func(*struct{}, etl.Env) (etl.Source, error) { return memSource(recs), nil })
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "discard", Summary: "Drops records."},
		func(*struct{}, etl.Env) (etl.Sink, error) { return discard{}, nil })
	path := filepath.Join(b.TempDir(), "p.hcl")
	os.WriteFile(path, []byte(`
source "mem" "m" {}
filter "where" "pending" {
  input     = source.mem.m
  condition = record.status == "pending" && record.attempts < 4
}
transform "map" "shape" {
  input = filter.where.pending
  set = {
    attempts = record.attempts + 1
    label    = "${record.lead_id}-${record.phone_number}"
  }
  drop = ["created_at"]
}
sink "discard" "d" {
  input = transform.map.shape
}
`), 0o644)
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "records/s")
}

type memSource []etl.Record

func (s memSource) Read(_ context.Context, out etl.Output) error {
	for i, r := range s {
		if err := out.Emit(r); err != nil {
			return err
		}
		if (i+1)%50_000 == 0 {
			if err := out.EndPartition(&etl.Mark{Partition: strconv.Itoa(i / 50_000)}); err != nil {
				return err
			}
		}
	}
	return nil
}

type discard struct{}

func (discard) Write(context.Context, etl.Record) error { return nil }
