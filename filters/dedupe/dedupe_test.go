package dedupe

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/zclconf/go-cty/cty"
)

// listSource emits fixed partitions of records, skipping those a resumed
// checkpoint holds; with failAfter > 0 it fails, as a crash would, once
// it has ended that many partitions.
type listSource struct {
	parts     [][]etl.Record
	failAfter int
	env       etl.Env
}

func (s *listSource) Read(_ context.Context, out etl.Output) error {
	for i, part := range s.parts {
		name := fmt.Sprintf("p%02d", i)
		if s.env.Done(name) {
			continue
		}
		for _, r := range part {
			if err := out.Emit(r); err != nil {
				return err
			}
		}
		if err := out.EndPartition(&etl.Mark{Source: s.env.Addr, Partition: name}); err != nil {
			return err
		}
		if i+1 == s.failAfter {
			return fmt.Errorf("list: failing after %s", name)
		}
	}
	return nil
}

type listConfig struct{}

// harness is a registry with etltest's plugins, dedupe_latest and a "list"
// source emitting parts.
type harness struct {
	reg       *etl.Registry
	coll      *etltest.Collector
	parts     [][]etl.Record
	failAfter int // see listSource
}

func newHarness(parts ...[]etl.Record) *harness {
	h := &harness{reg: etl.NewRegistry(), coll: &etltest.Collector{}, parts: parts}
	etltest.Register(h.reg, h.coll, nil)
	Register(h.reg)
	etl.RegisterSource(h.reg, etl.Spec[listConfig]{Type: "list", Summary: "Emits the test's records."},
		func(_ *listConfig, env etl.Env) (etl.Source, error) {
			return &listSource{parts: h.parts, failAfter: h.failAfter, env: env}, nil
		})
	return h
}

func (h *harness) load(t *testing.T, src string) *etl.Pipeline {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.etl.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := etl.Load(path, etl.LoadOptions{Registry: h.reg})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return p
}

func (h *harness) run(t *testing.T, src string, opts etl.RunOptions) ([]etl.Record, *etl.Result) {
	t.Helper()
	recs, res, err := h.runErr(t, src, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return recs, res
}

// runErr is run for a run that may fail.
func (h *harness) runErr(t *testing.T, src string, opts etl.RunOptions) ([]etl.Record, *etl.Result, error) {
	t.Helper()
	h.coll.Records, h.coll.Marks = map[string][]etl.Record{}, map[string][]string{}
	res, err := h.load(t, src).Run(context.Background(), opts)
	return h.coll.Records["out"], res, err
}

// pipeline returns a list → dedupe_latest → collect pipeline with the
// given dedupe attributes.
func pipeline(attrs string) string {
	return `
source "list" "in" {}
transform "dedupe_latest" "d" {
  input = source.list.in
` + attrs + `
}
sink "collect" "c" {
  input = transform.dedupe_latest.d
  name  = "out"
}
`
}

func rec(kv ...any) etl.Record {
	r := etl.Record{}
	for i := 0; i < len(kv); i += 2 {
		var v cty.Value
		switch x := kv[i+1].(type) {
		case string:
			v = cty.StringVal(x)
		case int:
			v = cty.NumberIntVal(int64(x))
		case nil:
			v = cty.NullVal(cty.String)
		case cty.Value:
			v = x
		}
		r[kv[i].(string)] = v
	}
	return r
}

// ids lists the "id" field of records, for compact comparison.
func ids(recs []etl.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.String("id"))
	}
	return strings.Join(s, ",")
}

func block(res *etl.Result, typ string) etl.BlockResult {
	for _, b := range res.Blocks {
		if b.Addr.Type == typ {
			return b
		}
	}
	return etl.BlockResult{}
}

func TestDedupeLatestRules(t *testing.T) {
	tests := []struct {
		name  string
		attrs string
		recs  []etl.Record
		want  string // ids of the emitted records, in order
	}{
		{
			name:  "greatest order_by wins whatever the arrival order",
			attrs: `key = record.phone` + "\n" + `order_by = record.created_at`,
			recs: []etl.Record{
				rec("id", "a2", "phone", "a", "created_at", "2025-12-02T00:00:00Z"),
				rec("id", "a3", "phone", "a", "created_at", "2025-12-03T00:00:00Z"),
				rec("id", "a1", "phone", "a", "created_at", "2025-12-01T00:00:00Z"),
			},
			want: "a3",
		},
		{
			name:  "times compare as times, not text",
			attrs: `key = record.phone` + "\n" + `order_by = record.created_at`,
			recs: []etl.Record{
				// 09:00-05:00 is 14:00Z: later than 12:00Z though it sorts first as text.
				rec("id", "x1", "phone", "a", "created_at", "2025-12-01T09:00:00-05:00"),
				rec("id", "x2", "phone", "a", "created_at", "2025-12-01T12:00:00Z"),
			},
			want: "x1",
		},
		{
			name:  "tie broken by the greatest tie_breaker, whatever the arrival order",
			attrs: `key = record.phone` + "\n" + `order_by = record.created_at` + "\n" + `tie_breaker = record.call_id`,
			recs: []etl.Record{
				rec("id", "c1", "phone", "a", "created_at", "t", "call_id", "c1"),
				rec("id", "c9", "phone", "a", "created_at", "t", "call_id", "c9"),
				rec("id", "c5", "phone", "a", "created_at", "t", "call_id", "c5"),
			},
			want: "c9",
		},
		{
			// No plugin's field names are assumed: call_id is just a field.
			name:  "no tie_breaker: the first record seen is kept",
			attrs: `key = record.phone` + "\n" + `order_by = record.n`,
			recs: []etl.Record{
				rec("id", "first", "phone", "a", "n", 5, "call_id", "a"),
				rec("id", "second", "phone", "a", "n", 5, "call_id", "z"),
				rec("id", "older", "phone", "a", "n", 4),
			},
			want: "first",
		},
		{
			name:  "tie_breaker ties too: the first record seen is kept",
			attrs: `key = record.phone` + "\n" + `order_by = record.n` + "\n" + `tie_breaker = record.seq`,
			recs: []etl.Record{
				rec("id", "first", "phone", "a", "n", 5, "seq", 1),
				rec("id", "second", "phone", "a", "n", 5, "seq", 1),
			},
			want: "first",
		},
		{
			name:  "tie_breaker reads any field",
			attrs: `key = record.phone` + "\n" + `order_by = record.n` + "\n" + `tie_breaker = record.seq`,
			recs: []etl.Record{
				rec("id", "hi", "phone", "a", "n", 1, "seq", 10, "call_id", "a"),
				rec("id", "lo", "phone", "a", "n", 1, "seq", 9, "call_id", "z"),
			},
			want: "hi",
		},
		{
			name:  "numbers order numerically",
			attrs: `key = record.phone` + "\n" + `order_by = record.n`,
			recs: []etl.Record{
				rec("id", "ten", "phone", "a", "n", 10),
				rec("id", "nine", "phone", "a", "n", 9),
			},
			want: "ten",
		},
		{
			name:  "null order_by loses to any value",
			attrs: `key = record.phone` + "\n" + `order_by = record.n`,
			recs: []etl.Record{
				rec("id", "v", "phone", "a", "n", 0),
				rec("id", "null", "phone", "a", "n", nil),
			},
			want: "v",
		},
		{
			name:  "output sorted by key; number keys numerically",
			attrs: `key = record.k` + "\n" + `order_by = record.n`,
			recs: []etl.Record{
				rec("id", "k10", "k", 10, "n", 1),
				rec("id", "k9", "k", 9, "n", 1),
				rec("id", "k100", "k", 100, "n", 1),
			},
			want: "k9,k10,k100",
		},
		{
			name:  "computed key",
			attrs: `key = lower(record.phone)` + "\n" + `order_by = record.n`,
			recs: []etl.Record{
				rec("id", "A1", "phone", "A", "n", 1),
				rec("id", "a2", "phone", "a", "n", 2),
				rec("id", "b1", "phone", "b", "n", 1),
			},
			want: "a2,b1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(tt.recs)
			got, _ := h.run(t, pipeline(tt.attrs), etl.RunOptions{})
			if ids(got) != tt.want {
				t.Errorf("emitted %s, want %s", ids(got), tt.want)
			}
		})
	}
}

func TestDedupeLatestCounts(t *testing.T) {
	h := newHarness([]etl.Record{
		rec("id", "1", "phone", "a", "n", 1),
		rec("id", "2", "phone", nil, "n", 1),
		rec("id", "3", "phone", "a", "n", 3), // replaces 1
		rec("id", "4", "phone", "b", "n", 1),
		rec("id", "5", "phone", "a", "n", 2), // older than 3
		rec("id", "6", "n", 9),               // no phone field: null key
	})
	got, res := h.run(t, pipeline(`key = record.phone`+"\n"+`order_by = record.n`), etl.RunOptions{})
	if ids(got) != "3,4" {
		t.Fatalf("emitted %s, want 3,4", ids(got))
	}
	b := block(res, "dedupe_latest")
	if b.In != 6 || b.Out != 2 {
		t.Errorf("in %d out %d, want 6 and 2", b.In, b.Out)
	}
	if b.Counts["distinct keys"] != 2 || b.Counts["replaced"] != 1 {
		t.Errorf("counts %v, want distinct keys 2, replaced 1", b.Counts)
	}
	if b.Dropped["null key"] != 2 || b.Dropped["not latest"] != 1 {
		t.Errorf("dropped %v, want null key 2, not latest 1", b.Dropped)
	}
}

func TestDedupeLatestEmitInvalid(t *testing.T) {
	h := newHarness()
	path := filepath.Join(t.TempDir(), "p.etl.hcl")
	os.WriteFile(path, []byte(pipeline(`key = record.k`+"\n"+`order_by = record.n`+"\n"+`emit = "sometimes"`)), 0o644)
	_, diags := etl.Load(path, etl.LoadOptions{Registry: h.reg})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "emit must be") {
		t.Fatalf("want an emit diagnostic, got %v", diags)
	}
}

// genPipeline runs gen (3 partitions of 40 records over 13 keys) through
// a map giving ties (ts = floor(id/3)) and a call_id, then dedupe_latest.
func genPipeline(emit string) string {
	return fmt.Sprintf(`
source "gen" "g" {
  partitions    = 3
  per_partition = 40
  keys          = 13
}
transform "map" "ts" {
  input = source.gen.g
  field = "ts"
  value = floor(record.id / 3)
}
transform "map" "cid" {
  input = transform.map.ts
  field = "call_id"
  value = format("c%%03d", (record.id * 7) %% 120)
}
transform "dedupe_latest" "d" {
  input    = transform.map.cid
  key      = record.key
  order_by = record.ts
  emit     = %q
}
sink "collect" "c" {
  input = transform.dedupe_latest.d
  name  = "out"
}
`, emit)
}

// lastPerKey returns, per key, the last record of recs carrying it.
func lastPerKey(recs []etl.Record) map[string]etl.Record {
	m := map[string]etl.Record{}
	for _, r := range recs {
		m[r.String("key")] = r
	}
	return m
}

func sameRecords(t *testing.T, got, want map[string]etl.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || !g.Value().RawEquals(w.Value()) {
			t.Errorf("key %s: got %#v, want %#v", k, g, w)
		}
	}
}

func TestDedupeLatestEmitModesAgree(t *testing.T) {
	h := newHarness()
	end, _ := h.run(t, genPipeline(EmitEnd), etl.RunOptions{BatchSize: 7})
	if len(end) != 13 {
		t.Fatalf("end emitted %d records, want one per key (13)", len(end))
	}
	for i := 1; i < len(end); i++ {
		if etl.Compare(end[i-1]["key"], end[i]["key"]) >= 0 {
			t.Fatalf("end output not sorted by key at %d: %s, %s", i, end[i-1].String("key"), end[i].String("key"))
		}
	}
	upd, res := h.run(t, genPipeline(EmitUpdates), etl.RunOptions{BatchSize: 7})
	if len(upd) <= len(end) {
		t.Errorf("updates emitted %d records; want more than the %d final ones", len(upd), len(end))
	}
	b := block(res, "dedupe_latest")
	if int64(len(upd)) != b.Counts["distinct keys"]+b.Counts["replaced"] {
		t.Errorf("updates emitted %d, want distinct keys + replaced = %v", len(upd), b.Counts)
	}
	sameRecords(t, lastPerKey(upd), lastPerKey(end))
}

// TestDedupeLatestResume crashes a run after some partitions, resumes it
// from the saved checkpoint, and compares with an uninterrupted run, in
// both emit modes.
func TestDedupeLatestResume(t *testing.T) {
	var parts [][]etl.Record
	for p := 0; p < 4; p++ {
		var part []etl.Record
		for i := 0; i < 6; i++ {
			n := p*6 + i
			part = append(part, rec("id", fmt.Sprint(n), "key", fmt.Sprintf("k%d", n%5), "n", (n*7)%11,
				"extra", cty.ObjectVal(map[string]cty.Value{"l": cty.ListVal([]cty.Value{cty.NumberFloatVal(1.5)}), "b": cty.True})))
		}
		parts = append(parts, part)
	}
	for _, emit := range []string{EmitEnd, EmitUpdates} {
		t.Run(emit, func(t *testing.T) {
			attrs := fmt.Sprintf("key = record.key\norder_by = record.n\nemit = %q", emit)
			h := newHarness(parts...)
			full, _ := h.run(t, pipeline(attrs), etl.RunOptions{})

			// The first run fails after the first two partitions, as a
			// crashed one would; the state holds what it committed.
			st := store.OpenMem()
			defer st.Close()
			h.failAfter = 2
			if _, _, err := h.runErr(t, pipeline(attrs), etl.RunOptions{State: st, BatchSize: 4}); err == nil {
				t.Fatal("the first run did not fail")
			}
			h.failAfter = 0
			cp, err := etl.ReadCheckpoint(st)
			if err != nil || cp == nil || len(cp.Sources["source.list.in"]) != 2 {
				t.Fatalf("the first run committed %+v (%v), want 2 partitions", cp, err)
			}
			usage, err := etl.Usage(st)
			if err != nil || usage["transform.dedupe_latest.d"].Keys != 5 {
				t.Fatalf("dedupe state saved: %+v (%v), want its 5 keys", usage, err)
			}
			h.parts = parts
			resumed, res := h.run(t, pipeline(attrs), etl.RunOptions{State: st})
			if src := block(res, "list"); src.Out != 12 {
				t.Errorf("resumed source emitted %d records, want the last 2 partitions' 12", src.Out)
			}
			sameRecords(t, lastPerKey(resumed), lastPerKey(full))
			if emit == EmitEnd && ids(resumed) != ids(full) {
				t.Errorf("resumed emitted %s, uninterrupted %s", ids(resumed), ids(full))
			}
		})
	}
}

func TestDedupeLatestFingerprint(t *testing.T) {
	h := newHarness()
	fp := func(attrs string) map[string]string {
		return etl.Fingerprint(h.load(t, pipeline(attrs)))["transform.dedupe_latest.d"]
	}
	base := fp("key = lower(record.phone)\norder_by = record.created_at")
	want := map[string]string{"key": "lower(record.phone)", "order_by": "record.created_at", "tie_breaker": noTieBreaker}
	for k, v := range want {
		if base[k] != v {
			t.Errorf("fingerprint %s = %q, want %q", k, base[k], v)
		}
	}
	for _, changed := range []string{
		"key = record.phone\norder_by = record.created_at",
		"key = lower(record.phone)\norder_by = record.n",
		"key = lower(record.phone)\norder_by = record.created_at\ntie_breaker = record.n",
		"key = lower(record.phone)\norder_by = record.created_at\ntie_breaker = record.call_id",
	} {
		if got := fp(changed); fmt.Sprint(got) == fmt.Sprint(base) {
			t.Errorf("fingerprint of %q equals the base one: %v", changed, got)
		}
	}
	// The emit mode does not change what the saved state means.
	if got := fp("key = lower(record.phone)\norder_by = record.created_at\nemit = \"updates\""); fmt.Sprint(got) != fmt.Sprint(base) {
		t.Errorf("emit changed the fingerprint: %v vs %v", got, base)
	}
}

// discardSink reads no field of what it is given.
type discardSink struct{}

func (discardSink) Write(context.Context, etl.Record) error { return nil }

// dedupe_latest reads exactly the fields its expressions name: no other
// plugin's field (Bland's call_id) unless tie_breaker names it, so that
// the source builds only those.
func TestDedupeLatestReadsOnlyItsExpressions(t *testing.T) {
	for attrs, want := range map[string]string{
		"key = record.phone\norder_by = record.created_at":                               "created_at,phone",
		"key = record.phone\norder_by = record.created_at\ntie_breaker = record.call_id": "call_id,created_at,phone",
	} {
		reg := etl.NewRegistry()
		Register(reg)
		var got map[string]bool
		etl.RegisterSource(reg, etl.Spec[struct{}]{Type: "probe"}, func(_ *struct{}, env etl.Env) (etl.Source, error) {
			got = env.Fields
			return &listSource{env: env}, nil
		})
		etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "none", ReadsDeclaredFields: true},
			func(*struct{}, etl.Env) (etl.Sink, error) { return discardSink{}, nil })
		path := filepath.Join(t.TempDir(), "p.etl.hcl")
		os.WriteFile(path, []byte("source \"probe\" \"in\" {}\ntransform \"dedupe_latest\" \"d\" {\n  input = source.probe.in\n"+
			attrs+"\n}\nsink \"none\" \"n\" {\n  input = transform.dedupe_latest.d\n}\n"), 0o644)
		p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(slices.Sorted(maps.Keys(got)), ","); s != want {
			t.Errorf("%q: the source builds %s, want %s", attrs, s, want)
		}
	}
}
