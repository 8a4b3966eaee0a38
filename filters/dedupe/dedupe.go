package dedupe

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Dedupe is the dedupe_latest stage. It is used from the stage's goroutine
// only (Process, EndPartition snapshots, Finish), so it needs no lock.
type Dedupe struct {
	cfg  *Config
	env  etl.Env
	kept map[string]*entry // canonical key → latest record
	seq  uint64            // arrival counter: the later record wins a full tie

	scratch []byte // encoding buffer, reused
}

// entry is the kept record of one key with the values it is ordered by.
// The record is kept in its compact encoded form (etl.AppendRecord): a
// third of the memory of a live record, and the snapshot is then a mere
// concatenation of what is already encoded.
type entry struct {
	key, order, tie cty.Value
	seq             uint64
	enc             []byte
}

// New returns a dedupe_latest stage.
func New(cfg *Config, env etl.Env) *Dedupe {
	return &Dedupe{cfg: cfg, env: env, kept: map[string]*entry{}}
}

// Process keeps rec when it is its key's latest; with emit = "updates" it
// also emits it then.
func (d *Dedupe) Process(_ context.Context, rec etl.Record, out etl.Output) error {
	e, err := d.entryFor(rec)
	if err != nil {
		return err
	}
	if e == nil {
		out.Drop("null key")
		return nil
	}
	d.seq++
	e.seq = d.seq
	ck := canonicalKey(e.key)
	old, seen := d.kept[ck]
	switch {
	case !seen:
		out.Count("distinct keys", 1)
	case newer(e, old):
		out.Count("replaced", 1)
	default:
		out.Drop("not latest")
		return nil
	}
	// Encode into a scratch buffer and keep an exact-size copy: append's
	// spare capacity would otherwise double what 50,000 kept records cost.
	if d.scratch, err = etl.AppendRecord(d.scratch[:0], rec); err != nil {
		return fmt.Errorf("storing record: %w", err)
	}
	e.enc = bytes.Clone(d.scratch)
	d.kept[ck] = e
	if d.cfg.Emit == EmitUpdates {
		return out.Emit(rec)
	}
	return nil
}

// entryFor evaluates rec's key, order and tie-breaker; nil when the key is
// null.
func (d *Dedupe) entryFor(rec etl.Record) (*entry, error) {
	key, err := d.cfg.Key.Eval(rec)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if key.IsNull() || !key.IsKnown() {
		return nil, nil
	}
	order, err := d.cfg.OrderBy.Eval(rec)
	if err != nil {
		return nil, fmt.Errorf("order_by: %w", err)
	}
	var tie cty.Value
	if d.cfg.TieBreaker.IsSet() {
		if tie, err = d.cfg.TieBreaker.Eval(rec); err != nil {
			return nil, fmt.Errorf("tie_breaker: %w", err)
		}
	} else {
		tie = rec.Get("call_id")
	}
	key, _ = key.UnmarkDeep()
	return &entry{key: key, order: order, tie: tie}, nil
}

// newer reports whether a should replace b: greater order_by, then greater
// tie-breaker, then later arrival.
func newer(a, b *entry) bool {
	if c := etl.Compare(a.order, b.order); c != 0 {
		return c > 0
	}
	if c := etl.Compare(a.tie, b.tie); c != 0 {
		return c > 0
	}
	return a.seq > b.seq
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
		rec, err := etl.DecodeRecord(e.enc)
		if err != nil {
			return fmt.Errorf("decoding a kept record: %w", err)
		}
		if err := out.Emit(rec); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns the kept entries ordered by key (etl.Compare, then the
// canonical key so that keys Compare calls equal still have a fixed order).
func (d *Dedupe) sorted() []*entry {
	type kv struct {
		ck string
		e  *entry
	}
	all := make([]kv, 0, len(d.kept))
	for ck, e := range d.kept {
		all = append(all, kv{ck, e})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := etl.Compare(a.e.key, b.e.key); c != 0 {
			return c
		}
		return strings.Compare(a.ck, b.ck)
	})
	es := make([]*entry, len(all))
	for i, x := range all {
		es[i] = x.e
	}
	return es
}

// canonicalKey maps a key value to a map key: equal values, equal strings,
// and values of different types never collide.
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
