package stats

import (
	"encoding/json"
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/lenprefix"
)

// The sink's table (checkpointed by the engine with each date) holds two
// entries per date, so that a date's commit writes its row and the keys
// new that day, not everything seen so far:
//
//	"r" DATE → the date's stored row (Row, plus the bytes the source reported)
//	"n" DATE → the keys first seen that date, each a uvarint length and its
//	           bytes (cumulative and "new" counts)
//
// One entry for a date's new keys, not one per key: 50,000 phones are 38
// entries in the store's index, not 50,000. A state written before holds
// "k" KEY → nothing, one per key seen, and still restores.
const (
	rowPrefix    = 'r'
	newKeyPrefix = 'n'
	keyPrefix    = 'k' // the earlier layout's, read only
)

// storedRow is a row as the table keeps it.
type storedRow struct {
	Row
	Bytes *int64 `json:"bytes,omitempty"`
}

// UseState takes the sink's table; on a resumed run it holds the rows and
// the keys of the dates done, in date order.
func (s *sink) UseState(t etl.Table) error {
	s.state = t
	s.rows, s.seen = nil, newKeySet()
	clear(s.bytes)
	err := t.Scan(func(k, v []byte) error {
		switch {
		case len(k) > 0 && k[0] == rowPrefix:
			var r storedRow
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("stats state: row %s: %w", k[1:], err)
			}
			s.rows = append(s.rows, r.Row)
			if r.Bytes != nil {
				s.bytes[r.Date] = *r.Bytes
			}
		case len(k) > 0 && k[0] == newKeyPrefix:
			for rest := v; len(rest) > 0; {
				key, r, ok := lenprefix.Cut(rest)
				if !ok {
					return fmt.Errorf("stats state: new keys of %s: corrupt", k[1:])
				}
				s.seen.add(string(key))
				rest = r
			}
		case len(k) > 0 && k[0] == keyPrefix:
			s.seen.add(string(k[1:]))
		default:
			return fmt.Errorf("stats state: unknown key %q", k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n := len(s.rows); n > 0 && s.rows[n-1].CumulativeUniquePhones != int64(s.seen.len()) {
		return fmt.Errorf("stats state: last row counts %d unique keys but %d are saved", s.rows[n-1].CumulativeUniquePhones, s.seen.len())
	}
	return nil
}

// storeRow records a finished date and the keys it saw first.
func (s *sink) storeRow(r Row, bytes int64, hasBytes bool, fresh []string) error {
	sr := storedRow{Row: r}
	if hasBytes {
		sr.Bytes = &bytes
	}
	data, err := json.Marshal(sr)
	if err != nil {
		return err
	}
	if err := s.state.Set(append([]byte{rowPrefix}, r.Date...), data); err != nil {
		return err
	}
	if len(fresh) == 0 {
		return nil
	}
	// A date that ends twice in a run (the engine's "again") adds to the
	// keys its first end saved.
	key := append([]byte{newKeyPrefix}, r.Date...)
	packed, _, err := s.state.Get(key)
	if err != nil {
		return err
	}
	for _, k := range fresh {
		packed = lenprefix.Append(packed, k)
	}
	return s.state.Set(key, packed)
}
