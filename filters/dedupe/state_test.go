package dedupe

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/zclconf/go-cty/cty"
)

// newWithTable returns a stage that took t as its state, as the engine
// gives it.
func newWithTable(t *testing.T, cfg *Config, table etl.Table) *Dedupe {
	t.Helper()
	d := New(cfg, etl.Env{})
	if err := d.UseState(table); err != nil {
		t.Fatal(err)
	}
	return d
}

// collectOut is an etl.Output that keeps what is emitted.
type collectOut struct {
	discardOut
	recs []etl.Record
}

func (c *collectOut) Emit(r etl.Record) error {
	c.recs = append(c.recs, r)
	return nil
}

// TestStateRoundTrip: records of every kind of value, kept in the table
// by one stage, come back exactly in a stage that takes the same table
// (a resumed run's), which then goes on ranking against them (the codec
// itself is tested in package etl).
func TestStateRoundTrip(t *testing.T) {
	h := newHarness()
	p := h.load(t, pipeline("key = record.phone\norder_by = record.n"))
	cfg := p.Blocks[1].Config.(*Config)
	table := etltest.MemTable{}
	d := newWithTable(t, cfg, table)
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
	d2 := newWithTable(t, cfg, table)
	if len(d2.kept) != len(d.kept) {
		t.Errorf("restored %d orders, want %d", len(d2.kept), len(d.kept))
	}
	for _, r := range recs {
		ck, _, err := d.evaluate(r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := d2.kept[d2.hasher.String(ck)]
		if want := d.kept[d.hasher.String(ck)]; !ok || got != want {
			t.Errorf("key %q: restored order %v, want %v", ck, got, want)
		}
	}
	var got collectOut
	if err := d2.Finish(nil, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.recs) != len(recs) {
		t.Fatalf("restored %d records, want %d", len(got.recs), len(recs))
	}
	for i, rec := range got.recs {
		for k, v := range recs[i] {
			if !rec[k].RawEquals(v) {
				t.Errorf("record %d field %s: %#v, want %#v", i, k, rec[k], v)
			}
		}
	}
	// The restored ranks decide: an older record of a restored key is
	// dropped, a later one replaces it.
	older, later := maps.Clone(recs[1]), maps.Clone(recs[0])
	older["n"], later["n"] = cty.NumberFloatVal(0.05), cty.NumberIntVal(2)
	var counts countOut
	for _, r := range []etl.Record{older, later} {
		if err := d2.Process(nil, r, &counts); err != nil {
			t.Fatal(err)
		}
	}
	if counts.dropped["not latest"] != 1 || counts.counts["replaced"] != 1 {
		t.Errorf("after restoring: dropped %v, counted %v; want the older record dropped and the later kept", counts.dropped, counts.counts)
	}
}

// discardOut is an etl.Output that keeps nothing.
type discardOut struct{}

func (discardOut) Emit(etl.Record) error        { return nil }
func (discardOut) Drop(string)                  {}
func (discardOut) Count(string, int64)          {}
func (discardOut) EndPartition(*etl.Mark) error { return nil }

// countOut is an etl.Output that keeps the drops and counts.
type countOut struct {
	discardOut
	dropped, counts map[string]int64
}

func (c *countOut) Drop(reason string) {
	if c.dropped == nil {
		c.dropped = map[string]int64{}
	}
	c.dropped[reason]++
}

func (c *countOut) Count(name string, n int64) {
	if c.counts == nil {
		c.counts = map[string]int64{}
	}
	c.counts[name] += n
}

// TestUseStateRejectsBadState: a kept record whose rank cannot be read is
// refused when the stage takes its table; one whose record cannot be
// decoded, when it is emitted.
func TestUseStateRejectsBadState(t *testing.T) {
	value := func(rank, rec []byte) []byte {
		return append(append(binary.AppendUvarint(nil, uint64(len(rank))), rank...), rec...)
	}
	rank, err := appendRank(nil, cty.NumberIntVal(1), cty.NullVal(cty.DynamicPseudoType))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := etl.AppendRecord(nil, etl.Record{"key": cty.StringVal("a")})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{
		"empty value":          {},
		"rank beyond value":    append(binary.AppendUvarint(nil, 50), 1, 2, 3),
		"rank length too long": value(append(binary.AppendUvarint(nil, 40), '1'), rec),
		"order not a value":    value(append(binary.AppendUvarint(nil, 3), "{{{null"...), rec),
		"tie not a value":      value(append(binary.AppendUvarint(nil, 1), "1]"...), rec),
	} {
		t.Run(name, func(t *testing.T) {
			d := New(&Config{Emit: EmitEnd}, etl.Env{})
			if err := d.UseState(etltest.MemTable{"sa": v}); err == nil || !strings.Contains(err.Error(), `key "sa"`) {
				t.Errorf("UseState(%q) = %v, want an error naming the key", v, err)
			}
		})
	}
	for name, rec := range map[string]string{
		"bad field":    `{"key": {"$cty": 1}}`,
		"not a record": `3`,
	} {
		t.Run(name, func(t *testing.T) {
			d := New(&Config{Emit: EmitEnd}, etl.Env{})
			if err := d.UseState(etltest.MemTable{"sa": value(rank, []byte(rec))}); err != nil {
				t.Fatal(err)
			}
			if err := d.Finish(nil, discardOut{}); err == nil {
				t.Errorf("record %s was emitted", rec)
			}
		})
	}
	d := New(&Config{Emit: EmitEnd}, etl.Env{})
	if err := d.UseState(etltest.MemTable{"sa": value(rank, rec)}); err != nil {
		t.Errorf("a sound kept record was refused: %v", err)
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
			d := newWithTable(t, cfg, etltest.MemTable{})
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

// checkKept compares every kept record's id with want's, reading the
// records back from the stage's table.
func checkKept(t *testing.T, d *Dedupe, want func(phone string) int) {
	t.Helper()
	err := d.state.Scan(func(_, v []byte) error {
		_, _, data, err := d.splitValue(v)
		if err != nil {
			return err
		}
		rec, err := etl.DecodeRecord(data)
		if err != nil {
			return err
		}
		ph := rec["phone"].AsString()
		if got, _ := rec["id"].AsBigFloat().Int64(); int(got) != want(ph) {
			t.Fatalf("phone %s: kept record %d, want %d", ph, got, want(ph))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// When order_by and tie_breaker are fields, a kept record is stored as its
// own rank: a zero byte, then the record. Other expressions keep the rank
// beside the record.
func TestValueForms(t *testing.T) {
	rec := etl.Record{"phone": cty.StringVal("5615550001"), "n": cty.NumberIntVal(7), "call_id": cty.StringVal("c1")}
	encoded, err := etl.AppendRecord(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	for settings, fieldRank := range map[string]bool{
		"key = record.phone\norder_by = record.n\ntie_breaker = record.call_id":        true,
		"key = record.phone\norder_by = record.n":                                      true,
		"key = record.phone\norder_by = record.n + 0":                                  false,
		"key = record.phone\norder_by = record.n\ntie_breaker = upper(record.call_id)": false,
	} {
		h := newHarness()
		cfg := h.load(t, pipeline(settings)).Blocks[1].Config.(*Config)
		table := etltest.MemTable{}
		d := newWithTable(t, cfg, table)
		if err := d.Process(nil, rec, discardOut{}); err != nil {
			t.Fatal(err)
		}
		v := table["s5615550001"]
		if fieldRank {
			if string(v) != "\x00"+string(encoded) {
				t.Errorf("%q: stored %q, want a zero byte and the record", settings, v)
			}
		} else if len(v) == 0 || v[0] == fieldRanked || len(v) <= len(encoded)+1 {
			t.Errorf("%q: stored %q, want the rank beside the record", settings, v)
		}
		order, _, data, err := d.splitValue(v)
		if err != nil || !order.RawEquals(cty.NumberIntVal(7)) || string(data) != string(encoded) {
			t.Errorf("%q: read back order %#v, record %q, %v", settings, order, data, err)
		}
	}
}

// A state holding both forms (a checkpoint written before the record was
// its own rank, resumed by this version) restores, ranks and replays.
func TestStateOfEitherFormResumes(t *testing.T) {
	h := newHarness()
	cfg := h.load(t, pipeline("key = record.phone\norder_by = record.n\ntie_breaker = record.call_id")).Blocks[1].Config.(*Config)
	rec := func(ph string, n int64, id string) etl.Record {
		return etl.Record{"phone": cty.StringVal(ph), "n": cty.NumberIntVal(n), "call_id": cty.StringVal(id)}
	}
	oldA, err := etl.AppendRecord(nil, rec("5615550001", 5, "a5"))
	if err != nil {
		t.Fatal(err)
	}
	rank, err := appendRank(nil, cty.NumberIntVal(5), cty.StringVal("a5"))
	if err != nil {
		t.Fatal(err)
	}
	newB, err := etl.AppendRecord(nil, rec("5615550002", 5, "b5"))
	if err != nil {
		t.Fatal(err)
	}
	table := etltest.MemTable{
		"s5615550001": append(append(binary.AppendUvarint(nil, uint64(len(rank))), rank...), oldA...),
		"s5615550002": append([]byte{fieldRanked}, newB...),
	}
	d := newWithTable(t, cfg, table)
	var counts countOut
	for _, r := range []etl.Record{
		rec("5615550001", 5, "a4"), // a tie on n, a smaller call id: dropped
		rec("5615550002", 5, "b4"), // the same against the new form
		rec("5615550001", 5, "a6"), // a greater call id: replaces
		rec("5615550002", 4, "b9"), // an older n: dropped
	} {
		if err := d.Process(nil, r, &counts); err != nil {
			t.Fatal(err)
		}
	}
	if counts.dropped["not latest"] != 3 || counts.counts["replaced"] != 1 {
		t.Fatalf("dropped %v, counted %v; want 3 dropped and 1 replaced", counts.dropped, counts.counts)
	}
	var got collectOut
	if err := New(cfg, etl.Env{}).useAndFinish(t, table, &got); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, r := range got.recs {
		ids = append(ids, r["call_id"].AsString())
	}
	if strings.Join(ids, ",") != "a6,b5" {
		t.Errorf("replayed %v, want a6,b5", ids)
	}
}

// useAndFinish restores d from table and emits its records as emit = "end".
func (d *Dedupe) useAndFinish(t *testing.T, table etl.Table, out etl.Output) error {
	t.Helper()
	if err := d.UseState(table); err != nil {
		return err
	}
	return d.emitSorted(out)
}
