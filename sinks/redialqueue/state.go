package redialqueue

import (
	"encoding/json"
	"fmt"
)

// state is the checkpointed form of the sink: the entries waiting for the
// merge, by phone. It holds phone numbers and lead ids.
type state struct {
	Pending map[string]json.RawMessage `json:"pending"`
}

// Snapshot returns the pending entries (JSON object keys are sorted, so
// equal states give equal checkpoints).
func (s *sink) Snapshot() ([]byte, error) {
	return json.Marshal(state{Pending: s.pending})
}

// Restore loads the pending entries of a resumed run.
func (s *sink) Restore(data []byte) error {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("redial_queue state: %w", err)
	}
	s.pending = st.Pending
	if s.pending == nil {
		s.pending = map[string]json.RawMessage{}
	}
	return nil
}
