package dedupe

import (
	"encoding/json"
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// stateVersion is the format of Snapshot's JSON.
const stateVersion = 1

// state is the snapshot: the kept records in key order. Each field is
// encoded by cty's JSON encoding with its type ({"value": …, "type": …}),
// so a restored record equals the saved one, types included. Key, order
// and tie-breaker are recomputed from the records on restore (the
// fingerprint guarantees the expressions are unchanged).
type state struct {
	Version int                          `json:"version"`
	Records []map[string]json.RawMessage `json:"records"`
}

// Snapshot returns the kept records as JSON.
func (d *Dedupe) Snapshot() ([]byte, error) {
	st := state{Version: stateVersion, Records: make([]map[string]json.RawMessage, 0, len(d.kept))}
	for _, e := range d.sorted() {
		r, err := encodeRecord(e.rec)
		if err != nil {
			return nil, err
		}
		st.Records = append(st.Records, r)
	}
	return json.Marshal(st)
}

// Restore replaces the kept records with a snapshot's.
func (d *Dedupe) Restore(data []byte) error {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("dedupe state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("dedupe state: version %d, want %d", st.Version, stateVersion)
	}
	kept := make(map[string]*entry, len(st.Records))
	for i, raw := range st.Records {
		rec, err := decodeRecord(raw)
		if err != nil {
			return fmt.Errorf("dedupe state: record %d: %w", i, err)
		}
		e, err := d.entryFor(rec)
		if err != nil {
			return fmt.Errorf("dedupe state: record %d: %w", i, err)
		}
		if e == nil {
			return fmt.Errorf("dedupe state: record %d has a null key", i)
		}
		d.seq++
		e.seq = d.seq
		kept[canonicalKey(e.key)] = e
	}
	d.kept = kept
	return nil
}

// encodeRecord encodes each field with its type. Sensitive marks are
// dropped: state is written only by stages that already hold the values.
func encodeRecord(rec etl.Record) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(rec))
	for name, v := range rec {
		v, _ = v.UnmarkDeep()
		b, err := ctyjson.Marshal(v, cty.DynamicPseudoType)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

func decodeRecord(raw map[string]json.RawMessage) (etl.Record, error) {
	rec := make(etl.Record, len(raw))
	for name, b := range raw {
		v, err := ctyjson.Unmarshal(b, cty.DynamicPseudoType)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		rec[name] = v
	}
	return rec, nil
}
