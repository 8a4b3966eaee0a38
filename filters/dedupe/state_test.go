package dedupe

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// jsonRoundTrip passes a checkpoint through JSON as a saved file would.
func jsonRoundTrip(cp *etl.Checkpoint) (*etl.Checkpoint, error) {
	b, err := json.Marshal(cp)
	if err != nil {
		return nil, err
	}
	var out etl.Checkpoint
	return &out, json.Unmarshal(b, &out)
}

// TestSnapshotRoundTrip: records of every kind of value come back from a
// snapshot exactly (the codec itself is tested in package etl).
func TestSnapshotRoundTrip(t *testing.T) {
	h := newHarness()
	p := h.load(t, pipeline("key = record.phone\norder_by = record.n"))
	cfg := p.Blocks[1].Config.(*Config)
	d := New(cfg, etl.Env{})
	recs := []etl.Record{
		{"phone": cty.StringVal("5615550001"), "n": cty.NumberIntVal(1), "call_id": cty.StringVal("a"),
			"meta": cty.ObjectVal(map[string]cty.Value{"x": cty.ListVal([]cty.Value{cty.True})}), "none": cty.NullVal(cty.String)},
		{"phone": cty.StringVal("5615550002"), "n": cty.NumberFloatVal(0.1), "call_id": cty.StringVal("b"),
			"meta": cty.TupleVal([]cty.Value{cty.StringVal("☎"), cty.NullVal(cty.Bool)}), "none": cty.NullVal(cty.DynamicPseudoType)},
	}
	var out discardOut
	for _, r := range recs {
		if err := d.Process(nil, r, &out); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(snap) {
		t.Fatalf("snapshot is not JSON: %s", snap)
	}
	d2 := New(cfg, etl.Env{})
	if err := d2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	again, _ := d2.Snapshot()
	if string(again) != string(snap) {
		t.Errorf("snapshot of the restored state differs:\n%s\n%s", again, snap)
	}
	for i, e := range d2.sorted() {
		rec, err := d2.record(e)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range recs[i] {
			if !rec[k].RawEquals(v) {
				t.Errorf("record %d field %s: %#v, want %#v", i, k, rec[k], v)
			}
		}
	}
}

// discardOut is an etl.Output that keeps nothing.
type discardOut struct{}

func (discardOut) Emit(etl.Record) error        { return nil }
func (discardOut) Drop(string)                  {}
func (discardOut) Count(string, int64)          {}
func (discardOut) EndPartition(*etl.Mark) error { return nil }

func TestRestoreRejectsBadState(t *testing.T) {
	for name, data := range map[string]string{
		"not json":      `{`,
		"wrong version": `{"version": 99, "records": []}`,
		"bad field":     `{"version": 2, "records": [{"key": {"$cty": 1}}]}`,
		"not a record":  `{"version": 2, "records": [3]}`,
	} {
		t.Run(name, func(t *testing.T) {
			d := New(&Config{Emit: EmitEnd}, etl.Env{})
			if err := d.Restore([]byte(data)); err == nil {
				t.Errorf("Restore(%s) succeeded", data)
			}
		})
	}
}

// TestRankRoundTrip encodes ranks into fresh and reused buffers (a fresh
// one grows while encoding) and reads them back.
func TestRankRoundTrip(t *testing.T) {
	long := cty.StringVal(strings.Repeat("x", 300))
	cases := [][2]cty.Value{
		{cty.StringVal("2025-12-01T10:00:00.000000000Z"), cty.StringVal("call-1")},
		{cty.NumberIntVal(7), cty.NullVal(cty.DynamicPseudoType)},
		{long, long},
		{cty.NullVal(cty.String), cty.True},
	}
	var reused []byte
	for _, c := range cases {
		for _, buf := range [][]byte{nil, reused[:0]} {
			b, err := appendRank(buf, c[0], c[1])
			if err != nil {
				t.Fatal(err)
			}
			reused = b
			order, tie, err := decodeRank(b)
			if err != nil || !order.RawEquals(c[0]) || !tie.RawEquals(c[1]) {
				t.Errorf("rank %#v %#v came back as %#v %#v (%v)", c[0], c[1], order, tie, err)
			}
		}
	}
}

// TestKeepsLatestLikeCompare holds Process (its time fast path and its
// reads of kept ranks from the spill file) to a plain reference built on
// etl.Compare: over times only (TimeLayout and other offsets naming the
// same instants, so equal times tie), and over times mixed with non-time
// strings, which compare as text.
func TestKeepsLatestLikeCompare(t *testing.T) {
	for _, mixed := range []bool{false, true} {
		t.Run(fmt.Sprintf("mixed=%v", mixed), func(t *testing.T) {
			h := newHarness()
			p := h.load(t, pipeline("key = record.phone\norder_by = record.at\ntie_breaker = record.call_id"))
			cfg := p.Blocks[1].Config.(*Config)
			d := New(cfg, etl.Env{ScratchDir: t.TempDir()})
			defer d.Close()
			r := rand.New(rand.NewPCG(3, 4))
			order := func() cty.Value {
				tm := time.Unix(int64(1764547200+r.IntN(50)), int64(r.IntN(3))*1e8)
				switch {
				case mixed && r.IntN(10) == 0:
					return cty.StringVal([]string{"soon", "later", "2025"}[r.IntN(3)])
				case r.IntN(4) == 0:
					return cty.StringVal(tm.In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano))
				}
				return etl.TimeVal(tm)
			}
			type kept struct {
				order, tie cty.Value
				id         int
			}
			want := map[string]kept{}
			for i := range 5000 {
				ph := fmt.Sprintf("561555%04d", r.IntN(40))
				rec := etl.Record{"phone": cty.StringVal(ph), "at": order(), "call_id": cty.StringVal(fmt.Sprint(r.IntN(3))), "id": cty.NumberIntVal(int64(i))}
				if err := d.Process(nil, rec, discardOut{}); err != nil {
					t.Fatal(err)
				}
				old, seen := want[ph]
				c := etl.Compare(rec["at"], old.order)
				if !seen || c > 0 || (c == 0 && etl.Compare(rec["call_id"], old.tie) > 0) {
					want[ph] = kept{rec["at"], rec["call_id"], i}
				}
				if i%500 == 499 { // check along the way, not only the end state
					checkKept(t, d, func(ph string) int { return want[ph].id })
				}
			}
			if len(d.kept) != len(want) {
				t.Fatalf("%d keys kept, want %d", len(d.kept), len(want))
			}
		})
	}
}

// checkKept compares every kept record's id with want's.
func checkKept(t *testing.T, d *Dedupe, want func(phone string) int) {
	t.Helper()
	for _, e := range d.sorted() {
		rec, err := d.record(e)
		if err != nil {
			t.Fatal(err)
		}
		ph := rec["phone"].AsString()
		if got, _ := rec["id"].AsBigFloat().Int64(); int(got) != want(ph) {
			t.Fatalf("phone %s: kept record %d, want %d", ph, got, want(ph))
		}
	}
}
