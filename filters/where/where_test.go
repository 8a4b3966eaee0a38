package where_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/filters/where"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// calls are two partitions of call-like records.
var calls = [][]etl.Record{
	{
		{"phone": cty.StringVal("5615550101"), "answered_by": cty.StringVal("human"), "call_length": cty.NumberFloatVal(2.5)},
		{"phone": cty.StringVal("5615550102"), "answered_by": cty.StringVal("voicemail"), "call_length": cty.NumberFloatVal(0.4)},
	},
	{
		{"phone": cty.StringVal("5615550103"), "answered_by": cty.StringVal("human"), "call_length": cty.NumberFloatVal(0.2)},
		{"phone": cty.StringVal("5615550104"), "answered_by": cty.NullVal(cty.String), "call_length": cty.NullVal(cty.Number)},
		{"phone": cty.StringVal("5615550105"), "answered_by": cty.StringVal("human"), "call_length": cty.NumberIntVal(3)},
	},
}

var callFields = []etl.Field{
	{Name: "phone", Type: cty.String}, {Name: "answered_by", Type: cty.String}, {Name: "call_length", Type: cty.Number}, {Name: "call_id", Type: cty.String},
}

type harness struct {
	reg  *etl.Registry
	coll *etltest.Collector
	list *etltest.List
}

func newHarness(parts [][]etl.Record) *harness {
	h := &harness{reg: etl.NewRegistry(), coll: &etltest.Collector{}, list: &etltest.List{Parts: parts, Fields: callFields}}
	etltest.RegisterEnds(h.reg, h.coll, nil)
	h.list.Register(h.reg)
	where.Register(h.reg)
	etl.RegisterSink(h.reg, etl.Spec[keysConfig]{Type: "keys", Summary: "Reads one field.", ReadsDeclaredFields: true},
		func(*keysConfig, etl.Env) (etl.Sink, error) { return keysSink{}, nil })
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

// keysConfig is a sink that reads records only through key, so that the
// projection is not widened to "any field" by the sink.
type keysConfig struct {
	Key etl.Expr `hcl:"key"`
}

type keysSink struct{}

func (keysSink) Write(context.Context, etl.Record) error { return nil }

func pipeline(body string) string {
	return `
source "list" "calls" {}
filter "where" "keep" {
  input = source.list.calls
` + body + `
}
sink "collect" "out" {
  input = filter.where.keep
}
`
}

func phones(recs []etl.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.String("phone"))
	}
	return out
}

func dropped(res *etl.Result, addr string) map[string]int64 {
	for _, b := range res.Blocks {
		if b.Addr.String() == addr {
			return b.Dropped
		}
	}
	return nil
}

func TestKeepsAndDropsUnderReason(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
	}{
		{"default reason", ""},
		{"named reason", `reason = "answered by a person"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(calls)
			res, err := h.run(t, pipeline(`condition = coalesce(record.answered_by, "") != "human" || coalesce(record.call_length, 0) < 1
`+tc.reason), etl.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"5615550102", "5615550103", "5615550104"}
			if got := phones(h.coll.Records["default"]); !slices.Equal(got, want) {
				t.Errorf("kept %v, want %v", got, want)
			}
			reason := where.DefaultReason
			if tc.reason != "" {
				reason = "answered by a person"
			}
			if got := dropped(res, "filter.where.keep"); len(got) != 1 || got[reason] != 2 {
				t.Errorf("dropped = %v, want 2 under %q", got, reason)
			}
			if got := h.coll.Marks["default"]; !slices.Equal(got, []string{"p00", "p01"}) {
				t.Errorf("marks = %v, want both partitions forwarded", got)
			}
		})
	}
}

func TestBadConditionFails(t *testing.T) {
	for _, tc := range []struct {
		name, cond string
		unmask     bool
		want       []string
	}{
		{"null", `record.answered_by == null ? null : record.answered_by == "human"`, false,
			[]string{"filter.where.keep", "partition p01", "record 2", `answered_by = null`, "p.hcl:5:13", "is null, not a bool", `on_error = "drop"`}},
		{"not a bool", `record.answered_by`, false,
			[]string{"filter.where.keep", "partition p00", "record 1", `answered_by = "*uman"`, "is string, not a bool"}},
		{"evaluation error", `record.call_length > 1`, false,
			[]string{"filter.where.keep", "partition p01", "record 2", "call_length = null", "failed:", "p.hcl:5:13"}},
		{"phone masked", `record.phone == "5615550105" ? "yes" : false`, false,
			[]string{"partition p00", "record 1", `phone = "******0101"`, "is string, not a bool"}},
		{"phone unmasked", `record.phone == "5615550105" ? "yes" : false`, true,
			[]string{"partition p00", "record 1", `phone = "5615550101"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(calls)
			_, err := h.run(t, pipeline("condition = "+tc.cond), etl.RunOptions{Unmask: tc.unmask})
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			var se *etl.StageError
			if !errors.As(err, &se) || se.Addr.String() != "filter.where.keep" {
				t.Errorf("err = %v, want a StageError of the where block", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !tc.unmask && strings.Contains(err.Error(), "55501") {
				t.Errorf("error %q shows a phone unmasked", err)
			}
			if got := h.coll.Marks["default"]; slices.Contains(got, partitionOf(err)) {
				t.Errorf("the failing partition's mark reached the sink: %v", got)
			}
		})
	}
}

// partitionOf reads "partition NAME" from an error.
func partitionOf(err error) string {
	_, after, _ := strings.Cut(err.Error(), "partition ")
	name, _, _ := strings.Cut(after, ",")
	return name
}

func TestOnErrorDrop(t *testing.T) {
	for _, tc := range []struct {
		cond string
		kept []string
		want map[string]int64
	}{
		{`record.call_length == null ? null : record.call_length < 1`, []string{"5615550102", "5615550103"},
			map[string]int64{"condition null": 1, where.DefaultReason: 2}},
		{`record.answered_by`, nil, map[string]int64{"condition not a bool": 4, "condition null": 1}},
		{`record.call_length > 1`, []string{"5615550101", "5615550105"},
			map[string]int64{"condition error": 1, where.DefaultReason: 2}},
	} {
		t.Run(tc.cond, func(t *testing.T) {
			h := newHarness(calls)
			res, err := h.run(t, pipeline("condition = "+tc.cond+"\n  on_error = \"drop\""), etl.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := phones(h.coll.Records["default"]); !slices.Equal(got, tc.kept) {
				t.Errorf("kept %v, want %v", got, tc.kept)
			}
			if got := dropped(res, "filter.where.keep"); !maps.Equal(got, tc.want) {
				t.Errorf("dropped = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"on_error", `condition = true
  on_error = "skip"`, `p.hcl:6:14: on_error must be "fail" or "drop", not "skip"`},
		{"constant string", `condition = "yes"`, `p.hcl:5:13: The condition is "yes", not true or false`},
		{"constant null", `condition = null`, `p.hcl:5:13: The condition is null, not true or false`},
		{"empty reason", `condition = true
  reason = ""`, `p.hcl:6:12: reason names what`},
		{"unknown field", `condition = record.answerd_by == "human"`, `p.hcl:5:13: source.list.calls does not produce a field "answerd_by". Did you mean record.answered_by?`},
		{"missing condition", ``, `p.hcl:3:23: The argument "condition" is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := newHarness(calls).load(t, pipeline(tc.body))
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%s:%d:%d: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column, d.Detail))
			}
			if !diags.HasErrors() || !strings.HasPrefix(strings.Join(got, "\n"), tc.want) {
				t.Errorf("diagnostics:\n%s\nwant one starting %q", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// A plan runs the condition as a run does and changes nothing: with every
// record dropped, the sink reports no change.
func TestPlanWritesNothing(t *testing.T) {
	h := newHarness(calls)
	res, err := h.run(t, pipeline(`condition = false`), etl.RunOptions{Plan: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || len(h.coll.Records["default"]) != 0 {
		t.Errorf("plan changed %v, sink got %d records; want nothing", res.Changes, len(h.coll.Records["default"]))
	}
	if got := dropped(res, "filter.where.keep"); got[where.DefaultReason] != 5 {
		t.Errorf("dropped = %v, want all 5 records counted as in a run", got)
	}
}

// The source builds only what the condition and the blocks after the
// filter read.
func TestProjectionReachesSource(t *testing.T) {
	h := newHarness(calls)
	_, err := h.run(t, `
source "list" "calls" {}
filter "where" "keep" {
  input     = source.list.calls
  condition = record.call_length == null
}
filter "where" "again" {
  input     = filter.where.keep
  condition = record.phone != null
}
sink "keys" "out" {
  input = filter.where.again
  key   = record.call_id
}
`, etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.list.Asked(); len(got) != 1 || !slices.Equal(got[0], []string{"call_id", "call_length", "phone"}) {
		t.Errorf("source asked for %v, want [call_id call_length phone]", got)
	}
}
