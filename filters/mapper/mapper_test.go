package mapper_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/filters/mapper"
	"github.com/etlhq/etl/filters/where"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var leads = [][]etl.Record{
	{
		{"phone": cty.StringVal("5615550101"), "x": cty.NumberIntVal(1), "name": cty.StringVal("ada"), "secret": cty.StringVal("s1")},
		{"phone": cty.StringVal("5615550102"), "x": cty.NumberIntVal(2), "name": cty.StringVal("bob"), "secret": cty.StringVal("s2")},
	},
	{
		{"phone": cty.StringVal("5615550103"), "x": cty.NullVal(cty.Number), "name": cty.StringVal("cy"), "secret": cty.StringVal("s3")},
	},
}

var leadFields = []etl.Field{
	{Name: "phone", Type: cty.String}, {Name: "x", Type: cty.Number}, {Name: "name", Type: cty.String}, {Name: "secret", Type: cty.String},
}

type harness struct {
	reg  *etl.Registry
	coll *etltest.Collector
	list *etltest.List
}

// readsConfig is a sink that reads records only through a and b, so that
// the projection is not widened to "any field" by the sink.
type readsConfig struct {
	A etl.Expr `hcl:"a,optional"`
	B etl.Expr `hcl:"b,optional"`
}

type readsSink struct{}

func (readsSink) Write(context.Context, etl.Record) error { return nil }

func newHarness(parts [][]etl.Record) *harness { return newHarnessFields(parts, leadFields) }

// newHarnessFields is newHarness with a list source that declares fields
// (nil: unknown, as a file's columns).
func newHarnessFields(parts [][]etl.Record, fields []etl.Field) *harness {
	h := &harness{reg: etl.NewRegistry(), coll: &etltest.Collector{}, list: &etltest.List{Parts: parts, Fields: fields}}
	etltest.RegisterEnds(h.reg, h.coll, nil)
	h.list.Register(h.reg)
	mapper.Register(h.reg)
	where.Register(h.reg)
	etl.RegisterSink(h.reg, etl.Spec[readsConfig]{Type: "reads", Summary: "Reads a and b.", ReadsDeclaredFields: true},
		func(*readsConfig, etl.Env) (etl.Sink, error) { return readsSink{}, nil })
	return h
}

func (h *harness) load(t *testing.T, src string) (*etl.Pipeline, hcl.Diagnostics) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return etl.Load(path, etl.LoadOptions{Registry: h.reg})
}

func (h *harness) run(t *testing.T, src string, opts etl.RunOptions) (*etl.Result, error) {
	t.Helper()
	p, diags := h.load(t, src)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return p.Run(context.Background(), opts)
}

// pipeline is list → map → collect, body being the map's attributes.
func pipeline(body string) string {
	return `
source "list" "leads" {}
transform "map" "m" {
  input = source.list.leads
` + body + `
}
sink "collect" "out" {
  input = transform.map.m
}
`
}

func TestSetInOrderAndDrop(t *testing.T) {
	parts := [][]etl.Record{leads[0]}
	h := newHarness(parts)
	_, err := h.run(t, pipeline(`
  set = {
    a       = record.x + 1
    b       = record.a * 2
    "name"  = upper(record.name)
    missing = record.x > 1 ? null : "small"
  }
  drop = ["secret", "x"]`), etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := h.coll.Records["default"]
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2", len(got))
	}
	for i, want := range []map[string]string{
		{"phone": `"5615550101"`, "a": "2", "b": "4", "name": `"ADA"`, "missing": `"small"`},
		{"phone": `"5615550102"`, "a": "3", "b": "6", "name": `"BOB"`, "missing": "null"},
	} {
		rec := got[i]
		if len(rec) != len(want) {
			t.Errorf("record %d has fields %v, want %v", i, slices.Sorted(mapsKeys(rec)), slices.Sorted(mapsKeys(want)))
		}
		for k, v := range want {
			if d := etl.Describe(rec.Get(k)); d != v {
				t.Errorf("record %d: %s = %s, want %s", i, k, d, v)
			}
		}
	}
	// Records are shared: the input must be left as it was.
	if leads[0][0].String("name") != "ada" || leads[0][0].Get("secret").IsNull() {
		t.Errorf("the input record was changed: %v", leads[0][0])
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestEntryErrorFailsNamingPartition(t *testing.T) {
	for _, tc := range []struct {
		name, set string
		unmask    bool
		want      []string
	}{
		{"null", `y = record.x + 1`, false,
			[]string{"transform.map.m", "partition p01", "record 1", "x = null", "setting y:", "p.hcl:5,13"}},
		{"bad type", `y = record.name + 1`, false,
			[]string{"transform.map.m", "partition p00", "record 1", `name = "****"`, "setting y:", "a number is required"}},
		{"masked", `y = record.phone * 2 + record.name`, false,
			[]string{"partition p00", "record 1", `phone = "******0101"`, `name = "****"`}},
		{"unmasked", `y = record.phone * 2 + record.name`, true,
			[]string{"partition p00", "record 1", `phone = "5615550101"`, `name = "ada"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(leads)
			_, err := h.run(t, pipeline("set = { "+tc.set+" }"), etl.RunOptions{Unmask: tc.unmask})
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			var se *etl.StageError
			if !errors.As(err, &se) || se.Addr.String() != "transform.map.m" {
				t.Errorf("err = %v, want a StageError of the map", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !tc.unmask && strings.Contains(err.Error(), "5550101") {
				t.Errorf("error %q shows a phone unmasked", err)
			}
		})
	}
}

// A plan maps as a run does and changes nothing: the sink after a map
// and a where that drops everything reports no change.
func TestPlanWritesNothing(t *testing.T) {
	h := newHarness(leads)
	res, err := h.run(t, `
source "list" "leads" {}
transform "map" "m" {
  input = source.list.leads
  set   = { keep = false }
}
filter "where" "w" {
  input     = transform.map.m
  condition = record.keep
}
sink "collect" "out" {
  input = filter.where.w
}
`, etl.RunOptions{Plan: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || len(h.coll.Records["default"]) != 0 {
		t.Errorf("plan changed %v, sink got %d records; want nothing", res.Changes, len(h.coll.Records["default"]))
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"reference to a dropped field", `
source "list" "leads" {}
transform "map" "m" {
  input = source.list.leads
  drop  = ["secret"]
}
sink "reads" "out" {
  input = transform.map.m
  a     = record.secret
}`, `p.hcl:9:11: transform.map.m does not produce a field "secret".`},
		{"reference to an unknown field", `
source "list" "leads" {}
transform "map" "m" {
  input = source.list.leads
  set   = { full = "${record.name} ${record.phone}" }
}
sink "reads" "out" {
  input = transform.map.m
  a     = record.ful
}`, `p.hcl:9:11: transform.map.m does not produce a field "ful". Did you mean record.full?`},
		{"unknown field in set", pipeline(`set = { a = record.nmae }`), `p.hcl:5:13: source.list.leads does not produce a field "nmae". Did you mean record.name?`},
		{"a later entry's field read too early", pipeline(`set = {
    a = record.b
    b = 1
  }`), `p.hcl:6:9: source.list.leads does not produce a field "b".`},
		{"drop unknown", pipeline(`drop = ["secrte"]`), `p.hcl:5:8: source.list.leads does not produce a field "secrte" to drop.`},
		{"set and dropped", pipeline(`set = { a = 1 }
  drop = ["a"]`), `p.hcl:6:10: "a" is set, then dropped`},
		{"set twice", pipeline(`set = {
    a = 1
    a = 2
  }`), `p.hcl:7:5: a is already set at`},
		{"not an object", pipeline(`set = record.x`), `p.hcl:5:7: Expected an object of field = expression`},
		{"computed name", pipeline(`set = { (record.name) = 1 }`), `p.hcl:5:9: A field name is a name or a quoted string`},
		{"nothing", pipeline(``), `p.hcl:3:1: A map sets fields`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := newHarness(leads).load(t, tc.src)
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%s:%d:%d: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column, d.Detail))
			}
			if !diags.HasErrors() || !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, tc.want) }) {
				t.Errorf("diagnostics:\n%s\nwant one starting %q", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// The source builds only the fields the map's entries read from their
// input and those the blocks after the map and a where read, less the
// ones the map sets.
//
// With a source that does not list its fields (a file's columns), the
// fields the map sets are not asked of it either.
func TestProjectionReachesSourceThroughWhereAndMap(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("declared=%v", declared), func(t *testing.T) {
			fields := leadFields
			if !declared {
				fields = nil
			}
			testProjection(t, newHarnessFields(leads, fields))
		})
	}
}

func testProjection(t *testing.T, h *harness) {
	_, err := h.run(t, `
source "list" "leads" {}
filter "where" "w" {
  input     = source.list.leads
  condition = record.x != null
}
transform "map" "m" {
  input = filter.where.w
  set = {
    name  = upper(record.name)   # read from the input, then set
    twice = record.x * 2
    label = "${record.name}-${record.twice}"   # reads the two set above
  }
}
sink "reads" "out" {
  input = transform.map.m
  a     = record.label
  b     = record.phone
}
`, etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.list.Asked(); len(got) != 1 || !slices.Equal(got[0], []string{"name", "phone", "x"}) {
		t.Errorf("source asked for %v, want [name phone x] (not secret, not the fields the map sets)", got)
	}
}
