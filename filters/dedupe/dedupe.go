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
	"github.com/etlhq/etl/etl/keyhash"
	"github.com/etlhq/etl/etl/lenprefix"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Dedupe is the dedupe_latest stage. It is used from the stage's goroutine
// only (UseState, Process, Finish), so it needs no lock.
//
// The kept records live in the stage's table (etl.Table, checkpointed by
// the engine), keyed by canonical key. When order_by and the tie-breaker
// are fields of the record (record.created_at), the record is its own
// rank: the value is a zero byte, then the record. Otherwise the value is
// the rank (order_by and tie-breaker, encoded; its length first, never
// zero), then the record. Memory holds per key only its order_by as an
// integer when it is a time (about 40 bytes a key): comparing a new record
// with its key's kept one reads the kept rank back from the table only
// when the times are equal or order_by is not a time.
type Dedupe struct {
	cfg   *Config
	env   etl.Env
	state etl.Table
	// kept holds each canonical key's kept record's order, by the key's
	// hash: no pointer, so 50,000 keys are a map the collector skips.
	kept   map[keyhash.Hash]entry
	hasher keyhash.Hasher

	// orderField and tieField name the fields order_by and tie_breaker
	// are, when fieldRank ("" for no tie_breaker): the rank is then read
	// from the kept record, not stored beside it (a third of a backfill
	// state's bytes).
	fieldRank            bool
	orderField, tieField string

	scratch, rankBuf, keyBuf []byte // encoding buffers, reused
}

// fieldRanked marks a value whose rank is its record's fields.
const fieldRanked = 0

// entry is what memory holds of a key's kept record: its order_by as Unix
// nanoseconds, when timed; untimed otherwise (a time before 1678, which
// timeKey never gives). Eight bytes a key: 50,000 keys' map is about 1.2 MB.
type entry int64

// untimed is the entry of a record whose order_by is not a time.
const untimed = entry(math.MinInt64)

func newEntry(at int64, timed bool) entry {
	if !timed {
		return untimed
	}
	return entry(at)
}

func (e entry) timed() bool { return e != untimed }

// New returns a dedupe_latest stage.
func New(cfg *Config, env etl.Env) *Dedupe {
	d := &Dedupe{cfg: cfg, env: env, kept: map[keyhash.Hash]entry{}, hasher: keyhash.New()}
	d.orderField, d.fieldRank = cfg.OrderBy.Field()
	if d.fieldRank && cfg.TieBreaker.IsSet() {
		d.tieField, d.fieldRank = cfg.TieBreaker.Field()
	}
	return d
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
	old, seen := d.kept[d.hasher.String(ck)]
	if seen {
		later, err := d.laterThan(ck, r, old)
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
	if err := d.keep(ck, rec, r); err != nil {
		return err
	}
	if d.cfg.Emit == EmitUpdates {
		return out.Emit(rec)
	}
	return nil
}

// keep stores rec as ck's record.
func (d *Dedupe) keep(ck string, rec etl.Record, r rank) error {
	var err error
	if d.fieldRank {
		d.scratch = append(d.scratch[:0], fieldRanked)
	} else {
		if d.rankBuf, err = appendRank(d.rankBuf[:0], r.order, r.tie); err != nil {
			return fmt.Errorf("storing record: %w", err)
		}
		d.scratch = lenprefix.Append(d.scratch[:0], d.rankBuf)
	}
	if d.scratch, err = etl.AppendRecord(d.scratch, rec); err != nil {
		return fmt.Errorf("storing record: %w", err)
	}
	d.keyBuf = append(d.keyBuf[:0], ck...) // the table copies it
	if err := d.state.Set(d.keyBuf, d.scratch); err != nil {
		return err
	}
	d.kept[d.hasher.String(ck)] = newEntry(r.at, r.timed)
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
	key = etl.Unmarked(key)
	return canonicalKey(key), r, nil
}

// appendRank encodes order and tie: the length of order's encoding as a
// uvarint, then each value as etl.AppendValue writes it.
func appendRank(dst []byte, order, tie cty.Value) ([]byte, error) {
	order, tie = etl.Unmarked(order), etl.Unmarked(tie)
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

// splitValue splits a stored value into the kept record's rank and its
// encoded record (see Dedupe for the two forms). A value of either form
// is read whatever the settings, so a state written before the record
// was its own rank resumes; one whose rank is its fields needs order_by
// to be a field (the fingerprint holds order_by, so a state never meets
// other settings).
func (d *Dedupe) splitValue(v []byte) (order, tie cty.Value, rec []byte, err error) {
	if len(v) > 0 && v[0] == fieldRanked {
		rec = v[1:]
		if !d.fieldRank {
			return order, tie, nil, fmt.Errorf("a kept record without its rank, but order_by is not a field of the record")
		}
		r, err := etl.DecodeRecord(rec)
		if err != nil {
			return order, tie, nil, fmt.Errorf("decoding a kept record: %w", err)
		}
		order, tie = r.Get(d.orderField), cty.NullVal(cty.DynamicPseudoType)
		if d.tieField != "" {
			tie = r.Get(d.tieField)
		}
		return etl.Unmarked(order), etl.Unmarked(tie), rec, nil
	}
	rank, rec, ok := lenprefix.Cut(v)
	if !ok || len(rank) == 0 {
		return order, tie, nil, fmt.Errorf("corrupt kept record")
	}
	order, tie, err = decodeRank(rank)
	return order, tie, rec, err
}

// recordOf returns a stored value's encoded record, without its rank.
func recordOf(v []byte) ([]byte, error) {
	if len(v) > 0 && v[0] == fieldRanked {
		return v[1:], nil
	}
	rank, rec, ok := lenprefix.Cut(v)
	if !ok || len(rank) == 0 {
		return nil, fmt.Errorf("corrupt kept record")
	}
	return rec, nil
}

// decodeRank reverses appendRank.
func decodeRank(b []byte) (order, tie cty.Value, err error) {
	o, t, ok := lenprefix.Cut(b)
	if !ok {
		return order, tie, fmt.Errorf("corrupt rank")
	}
	if order, err = etl.DecodeValue(o); err != nil {
		return order, tie, err
	}
	tie, err = etl.DecodeValue(t)
	return order, tie, err
}

// laterThan reports whether a record ranked r replaces ck's kept one:
// greater order_by, then greater tie-breaker; on a full tie the kept
// record, the first seen, stays. Two different times decide without
// reading the kept rank: etl.Compare orders such strings by time.
func (d *Dedupe) laterThan(ck string, r rank, old entry) (bool, error) {
	if r.timed && old.timed() && r.at != int64(old) {
		return r.at > int64(old), nil
	}
	v, ok, err := d.state.Get([]byte(ck))
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("dedupe: the kept record of a key is missing from its state")
	}
	oldOrder, oldTie, _, err := d.splitValue(v)
	if err != nil {
		return false, fmt.Errorf("dedupe: %w", err)
	}
	if c := etl.Compare(r.order, oldOrder); c != 0 {
		return c > 0, nil
	}
	return etl.Compare(r.tie, oldTie) > 0, nil
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

// emitSorted emits the kept records ordered by key (etl.Compare, then the
// canonical key, so that keys Compare calls equal still have a fixed
// order): the same state gives the same output.
func (d *Dedupe) emitSorted(out etl.Output) error {
	type kept struct {
		ck  string
		key cty.Value
		rec []byte
	}
	all := make([]kept, 0, len(d.kept))
	err := d.state.Scan(func(k, v []byte) error {
		rec, err := recordOf(v)
		if err != nil {
			return fmt.Errorf("dedupe: %w", err)
		}
		ck := string(k)
		all = append(all, kept{ck, keyValue(ck), slices.Clone(rec)})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b kept) int {
		if c := etl.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.ck, b.ck)
	})
	for i := range all {
		rec, err := etl.DecodeRecord(all[i].rec)
		if err != nil {
			return fmt.Errorf("decoding a kept record: %w", err)
		}
		all[i].rec = nil // let it go as soon as it is emitted
		if err := out.Emit(rec); err != nil {
			return err
		}
	}
	return nil
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
