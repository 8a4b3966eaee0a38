package stats

import (
	"encoding/json"
	"fmt"
)

// state is the checkpointed form of the sink. Seen holds every key counted
// so far (phone numbers, with key = record.phone): the cumulative and "new"
// counts of later dates depend on it.
type state struct {
	Rows  []Row            `json:"rows"`
	Bytes map[string]int64 `json:"bytes,omitempty"`
	Seen  []string         `json:"seen"`
}

// Snapshot returns the rows so far and the keys seen, sorted so that equal
// states give equal checkpoints.
func (s *sink) Snapshot() ([]byte, error) {
	return json.Marshal(state{Rows: s.rows, Bytes: s.bytes, Seen: s.seen.sorted()})
}

// Restore loads a snapshot before a resumed run.
func (s *sink) Restore(data []byte) error {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("stats state: %w", err)
	}
	if n := len(st.Rows); n > 0 && st.Rows[n-1].CumulativeUniquePhones != int64(len(st.Seen)) {
		return fmt.Errorf("stats state: last row counts %d unique keys but %d are saved", st.Rows[n-1].CumulativeUniquePhones, len(st.Seen))
	}
	s.rows = st.Rows
	s.bytes = st.Bytes
	if s.bytes == nil {
		s.bytes = map[string]int64{}
	}
	s.seen = newKeySet()
	for _, k := range st.Seen {
		s.seen.add(k)
	}
	return nil
}
