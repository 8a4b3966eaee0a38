package etl_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
)

// fieldsProbe is a source that records the Env.Fields it was given.
type fieldsProbe struct{ got *map[string]bool }

func (p fieldsProbe) Read(context.Context, etl.Output) error { return nil }

// readsConfig is a sink config with two per-record attributes.
type readsConfig struct {
	A etl.Expr `hcl:"a,optional" doc:"Read per record."`
	B etl.Expr `hcl:"b,optional" doc:"Read per record."`
}

type readsSink struct{}

func (readsSink) Write(context.Context, etl.Record) error { return nil }

// TestSourceFields checks what a source is told downstream reads: the
// union of declared reads along every path, and nil (everything) as soon
// as one block may read any field.
func TestSourceFields(t *testing.T) {
	tests := []struct {
		name, blocks string
		want         string // sorted, comma-separated; "all" for nil
	}{
		{"one declared sink", `sink "reads" "s" {
  input = source.probe.p
  a     = record.x
  b     = "${record.y}-${upper(record.z)}"
}`, "x,y,z"},
		{"through a filter and a transform", `filter "where" "w" {
  input     = source.probe.p
  condition = record.keep
}
transform "map" "m" {
  input = filter.where.w
  field = "n"
  value = record.id
}
sink "reads" "s" {
  input = transform.map.m
  a     = record.n
  b     = record.key
}`, "id,keep,key"}, // n is the map's own: not asked of the source
		{"fan-out unions", `sink "reads" "s1" {
  input = source.probe.p
  a     = record.x
}
sink "reads" "s2" {
  input = source.probe.p
  a     = record.y.nested
}`, "x,y"},
		{"the whole record", `sink "reads" "s" {
  input = source.probe.p
  a     = jsonencode(record)
}`, "all"},
		{"an indexed read", `sink "reads" "s" {
  input = source.probe.p
  a     = record["x"]
}`, "all"},
		{"an undeclared sink", `sink "reads" "s" {
  input = source.probe.p
  a     = record.x
}
sink "collect" "c" {
  input = source.probe.p
}`, "all"},
		{"no reader", `sink "reads" "s" {
  input = source.probe.p
}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, _ := testRegistry(t)
			var got map[string]bool
			etl.RegisterSource(reg, etl.Spec[struct{}]{Type: "probe", Summary: "Records Env.Fields."},
				func(_ *struct{}, env etl.Env) (etl.Source, error) { got = env.Fields; return fieldsProbe{}, nil })
			etl.RegisterSink(reg, etl.Spec[readsConfig]{Type: "reads", Summary: "Reads a and b.", ReadsDeclaredFields: true},
				func(*readsConfig, etl.Env) (etl.Sink, error) { return readsSink{}, nil })
			p := load(t, reg, "source \"probe\" \"p\" {}\n"+tt.blocks)
			if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			s := "all"
			if got != nil {
				s = strings.Join(slices.Sorted(maps.Keys(got)), ",")
			}
			if s != tt.want {
				t.Errorf("Env.Fields = %s, want %s", s, tt.want)
			}
			fp := etl.Fingerprint(p)["source.probe.p"]["(fields)"]
			if want := map[bool]string{true: "", false: tt.want}[tt.want == "all"]; fp != want {
				t.Errorf("fingerprint (fields) = %q, want %q", fp, want)
			}
		})
	}
}
