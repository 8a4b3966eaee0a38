package dedupe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/etlhq/etl/etl"
)

// stateVersion is the format of Snapshot's JSON.
const stateVersion = 2

// Snapshot returns the kept records as {"version": 2, "records": [...]},
// each record in etl.AppendRecord's compact form, ordered by canonical key
// so that equal states give equal bytes. The records are already encoded:
// a snapshot costs a copy, not an encoding, however many dates it follows.
func (d *Dedupe) Snapshot() ([]byte, error) {
	keys := make([]string, 0, len(d.kept))
	size := 32
	for ck, e := range d.kept {
		keys = append(keys, ck)
		size += len(e.enc) + 1
	}
	slices.Sort(keys)
	buf := make([]byte, 0, size)
	buf = append(buf, `{"version":`...)
	buf = strconv.AppendInt(buf, stateVersion, 10)
	buf = append(buf, `,"records":[`...)
	for i, ck := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, d.kept[ck].enc...)
	}
	return append(buf, "]}"...), nil
}

// Restore replaces the kept records with a snapshot's. Key, order and
// tie-breaker are recomputed from the records (the fingerprint guarantees
// the expressions are unchanged).
func (d *Dedupe) Restore(data []byte) error {
	var st struct {
		Version int               `json:"version"`
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("dedupe state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("dedupe state: version %d, want %d (start over with --fresh)", st.Version, stateVersion)
	}
	kept := make(map[string]*entry, len(st.Records))
	for i, raw := range st.Records {
		rec, err := etl.DecodeRecord(raw)
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
		e.enc = bytes.Clone(raw) // do not pin the whole checkpoint
		kept[canonicalKey(e.key)] = e
	}
	d.kept = kept
	return nil
}
