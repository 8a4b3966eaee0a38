package redialqueue

import (
	"encoding/json"
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
)

// describe renders a merge result as the sink's change: "would add 145
// entries, 12 already queued: data/q.json (would create it)". With
// ShowEntries the details list the added phones, masked to their last four
// digits unless Unmask.
func (s *sink) describe(r mergeResult) etl.Change {
	c := etl.Change{Changed: len(r.added) > 0}
	verb, create := "added", "created"
	if s.env.Plan {
		verb, create = "would add", "would create it"
	}
	c.Summary = fmt.Sprintf("%s %d entries, %d already queued: %s", verb, len(r.added), r.already, s.path)
	switch {
	case r.created && len(r.added) > 0:
		c.Summary += fmt.Sprintf(" (%s)", create)
	case r.created:
		c.Summary += " (no file; nothing to write)"
	default:
		c.Summary += fmt.Sprintf(" (%d entries after the merge)", r.total)
	}
	if s.env.ShowEntries {
		for _, m := range r.added {
			var e entry
			if raw, err := s.pending.get(m.key); err == nil {
				json.Unmarshal(raw, &e)
			}
			p := m.key
			if !s.env.Unmask {
				p = phone.Mask(p)
			}
			lead := "null"
			if e.LeadID != nil {
				lead = *e.LeadID
			}
			c.Details = append(c.Details, fmt.Sprintf("+ %s  lead_id %s  next_attempt %s", p, lead, e.NextAttempt))
		}
	}
	return c
}
