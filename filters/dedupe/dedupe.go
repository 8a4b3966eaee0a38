package dedupe

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/spill"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Dedupe is the dedupe_latest stage. It is used from the stage's goroutine
// only (Process, EndPartition snapshots, Finish), so it needs no lock.
//
// The kept records live in a spill file (etl/spill), each after its rank
// (order_by and tie-breaker, encoded); memory holds per key where its
// record is and, when order_by is a time, that time as an integer: about
// 60 bytes a key instead of the record's 1-2 KB. Comparing a new record
// with its key's kept one reads the kept rank back from the file only when
// the times are equal or order_by is not a time.
type Dedupe struct {
	cfg  *Config
	env  etl.Env
	kept map[string]entry // canonical key → its latest record
	// spill holds the kept records and the ones they replaced; nil until
	// the first record.
	spill *spill.File

	scratch, rankBuf []byte // encoding buffers, reused
}

// entry is the kept record of one key: its place in the spill file (the
// rank, then the record) and, when timed, its order_by as Unix nanoseconds.
type entry struct {
	at    int64
	off   int64
	n     uint32 // rank and record
	rank  uint16 // bytes of the rank, its length prefix included
	timed bool
}

// New returns a dedupe_latest stage.
func New(cfg *Config, env etl.Env) *Dedupe {
	return &Dedupe{cfg: cfg, env: env, kept: map[string]entry{}}
}

// Process keeps rec when it is its key's latest; with emit = "updates" it
// also emits it then.
func (d *Dedupe) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	ck, r, err := d.evaluate(rec)
	if err != nil {
		return err
	}
	if ck == "" {
		out.Drop("null key")
		return nil
	}
	old, seen := d.kept[ck]
	if seen {
		later, err := d.laterThan(r, old)
		if err != nil {
			return err
		}
		if !later {
			out.Drop("not latest")
			return nil
		}
		out.Count("replaced", 1)
	} else {
		out.Count("distinct keys", 1)
	}
	if err := d.keep(ck, rec, r, nil); err != nil {
		return err
	}
	if d.cfg.Emit == EmitUpdates {
		return out.Emit(rec)
	}
	return nil
}

// keep stores rec as ck's record: enc when it is already encoded.
func (d *Dedupe) keep(ck string, rec etl.Record, r rank, enc []byte) error {
	if d.spill == nil {
		s, err := spill.New(d.env.ScratchDir)
		if err != nil {
			return err
		}
		d.spill = s
	}
	var err error
	if enc == nil {
		if d.scratch, err = etl.AppendRecord(d.scratch[:0], rec); err != nil {
			return fmt.Errorf("storing record: %w", err)
		}
		enc = d.scratch
	}
	if d.rankBuf, err = appendRank(d.rankBuf[:0], r.order, r.tie); err != nil {
		return fmt.Errorf("storing record: %w", err)
	}
	if len(d.rankBuf) > math.MaxUint16 {
		return fmt.Errorf("storing record: order_by and tie_breaker take %d bytes, more than %d", len(d.rankBuf), math.MaxUint16)
	}
	off, err := d.spill.Append(d.rankBuf)
	if err == nil {
		_, err = d.spill.Append(enc)
	}
	if err != nil {
		return err
	}
	d.kept[ck] = entry{at: r.at, timed: r.timed, off: off, n: uint32(len(d.rankBuf) + len(enc)), rank: uint16(len(d.rankBuf))}
	return nil
}

// timeKey returns order as Unix nanoseconds when it is a string that
// etl.Compare orders as a time (RFC 3339, years 1678 to 2261). A time in
// etl.TimeLayout, as sources stamp records, is read without parsing.
func timeKey(order cty.Value) (int64, bool) {
	if !order.IsKnown() || order.IsNull() || order.Type() != cty.String {
		return 0, false
	}
	order, _ = order.Unmark()
	s := order.AsString()
	t, ok := etl.TimeOf(s)
	if !ok {
		if len(s) < 20 || s[4] != '-' {
			return 0, false
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return 0, false
		}
	}
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

// rank is what a record is ordered by: order_by, then the tie-breaker;
// at is order_by as Unix nanoseconds when timed (see timeKey).
type rank struct {
	order, tie cty.Value
	at         int64
	timed      bool
}

// evaluate returns rec's canonical key ("" when the key is null) and rank.
func (d *Dedupe) evaluate(rec etl.Record) (ck string, r rank, err error) {
	key, err := d.cfg.Key.Eval(rec)
	if err != nil {
		return "", r, fmt.Errorf("key: %w", err)
	}
	if key.IsNull() || !key.IsKnown() {
		return "", r, nil
	}
	if r.order, err = d.cfg.OrderBy.Eval(rec); err != nil {
		return "", r, fmt.Errorf("order_by: %w", err)
	}
	r.tie = cty.NullVal(cty.DynamicPseudoType)
	if d.cfg.TieBreaker.IsSet() {
		if r.tie, err = d.cfg.TieBreaker.Eval(rec); err != nil {
			return "", r, fmt.Errorf("tie_breaker: %w", err)
		}
	}
	r.at, r.timed = timeKey(r.order)
	key, _ = key.UnmarkDeep()
	return canonicalKey(key), r, nil
}

// appendRank encodes order and tie: the length of order's encoding as a
// uvarint, then each value as etl.AppendValue writes it.
func appendRank(dst []byte, order, tie cty.Value) ([]byte, error) {
	order, _ = order.UnmarkDeep()
	tie, _ = tie.UnmarkDeep()
	// Room for the length, then order's encoding, then the length written
	// and the room it did not need closed up.
	start := len(dst)
	valueAt := start + binary.MaxVarintLen32
	o, err := etl.AppendValue(append(dst, make([]byte, binary.MaxVarintLen32)...), order)
	if err != nil {
		return nil, fmt.Errorf("order_by: %w", err)
	}
	n := binary.PutUvarint(o[start:], uint64(len(o)-valueAt))
	o = append(o[:start+n], o[valueAt:]...)
	t, err := etl.AppendValue(o, tie)
	if err != nil {
		return nil, fmt.Errorf("tie_breaker: %w", err)
	}
	return t, nil
}

// decodeRank reverses appendRank.
func decodeRank(b []byte) (order, tie cty.Value, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return order, tie, fmt.Errorf("corrupt rank")
	}
	if order, err = etl.DecodeValue(b[w : w+int(n)]); err != nil {
		return order, tie, err
	}
	tie, err = etl.DecodeValue(b[w+int(n):])
	return order, tie, err
}

// laterThan reports whether a record ranked r replaces old: greater
// order_by, then greater tie-breaker; on a full tie the kept record, the
// first seen, stays. Two different times decide without reading old's
// rank: etl.Compare orders such strings by time.
func (d *Dedupe) laterThan(r rank, old entry) (bool, error) {
	if r.timed && old.timed && r.at != old.at {
		return r.at > old.at, nil
	}
	rank := make([]byte, old.rank)
	if err := d.spill.ReadAt(rank, old.off); err != nil {
		return false, err
	}
	oldOrder, oldTie, err := decodeRank(rank)
	if err != nil {
		return false, fmt.Errorf("dedupe: %w", err)
	}
	if c := etl.Compare(r.order, oldOrder); c != 0 {
		return c > 0, nil
	}
	return etl.Compare(r.tie, oldTie) > 0, nil
}

// record reads back a kept record.
func (d *Dedupe) record(e entry) (etl.Record, error) {
	buf := make([]byte, e.n-uint32(e.rank))
	if err := d.spill.ReadAt(buf, e.off+int64(e.rank)); err != nil {
		return nil, err
	}
	rec, err := etl.DecodeRecord(buf)
	if err != nil {
		return nil, fmt.Errorf("decoding a kept record: %w", err)
	}
	return rec, nil
}

// Finish emits the kept records sorted by key when emit = "end".
func (d *Dedupe) Finish(_ context.Context, out etl.Output) error {
	if d.cfg.Emit != EmitEnd {
		return nil
	}
	return d.emitSorted(out)
}

// Restored re-emits the restored records when emit = "updates": the
// resumed run's downstream must see every key's latest.
func (d *Dedupe) Restored(_ context.Context, out etl.Output) error {
	if len(d.kept) == 0 {
		return nil
	}
	out.Count("distinct keys", int64(len(d.kept)))
	out.Count("restored keys", int64(len(d.kept)))
	if d.cfg.Emit != EmitUpdates {
		return nil
	}
	return d.emitSorted(out)
}

func (d *Dedupe) emitSorted(out etl.Output) error {
	for _, e := range d.sorted() {
		rec, err := d.record(e)
		if err != nil {
			return err
		}
		if err := out.Emit(rec); err != nil {
			return err
		}
	}
	return nil
}

// Close lets the spill file go (snapshots still being saved keep it open).
func (d *Dedupe) Close() error {
	if d.spill == nil {
		return nil
	}
	s := d.spill
	d.spill = nil
	return s.Release()
}

// sorted returns the kept entries ordered by key (etl.Compare, then the
// canonical key so that keys Compare calls equal still have a fixed order).
func (d *Dedupe) sorted() []entry {
	type kv struct {
		ck  string
		key cty.Value
		e   entry
	}
	all := make([]kv, 0, len(d.kept))
	for ck, e := range d.kept {
		all = append(all, kv{ck, keyValue(ck), e})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := etl.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.ck, b.ck)
	})
	es := make([]entry, len(all))
	for i, x := range all {
		es[i] = x.e
	}
	return es
}

// canonicalKey maps a key value to a map key: equal values, equal strings,
// and values of different types never collide. keyValue reverses it.
func canonicalKey(v cty.Value) string {
	switch v.Type() {
	case cty.String:
		return "s" + v.AsString()
	case cty.Number:
		return "n" + v.AsBigFloat().Text('g', -1)
	case cty.Bool:
		if v.True() {
			return "btrue"
		}
		return "bfalse"
	}
	b, err := ctyjson.Marshal(v, cty.DynamicPseudoType)
	if err != nil {
		return "?" + v.GoString()
	}
	return "j" + string(b)
}

// keyValue returns the key value a canonical key was made from (a string
// for the rare key that could not be encoded).
func keyValue(ck string) cty.Value {
	switch ck[0] {
	case 's':
		return cty.StringVal(ck[1:])
	case 'n':
		if f, _, err := big.ParseFloat(ck[1:], 10, 512, big.ToNearestEven); err == nil {
			return cty.NumberVal(f)
		}
	case 'b':
		return cty.BoolVal(ck == "btrue")
	case 'j':
		if v, err := ctyjson.Unmarshal([]byte(ck[1:]), cty.DynamicPseudoType); err == nil {
			return v
		}
	}
	return cty.StringVal(ck)
}
