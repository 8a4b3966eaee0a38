package redialqueue

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
)

// describe renders a merge result as the sink's change: "would add 145
// entries, 12 already queued: data/q.json (would create it)". With
// ShowEntries the details list the added phones, masked to their last four
// digits unless Unmask. What the merge found wrong in the file (phones
// queued under other keys, entries that are not queue entries) is counted
// in the summary and listed in the details whatever ShowEntries says.
func (s *sink) describe(r mergeResult) etl.Change {
	c := etl.Change{
		Changed: len(r.added) > 0,
		Counts:  []etl.Count{{Name: "added", N: int64(len(r.added))}, {Name: "already queued", N: int64(r.already)}},
		Size:    &etl.Size{Unit: "entries", Before: int64(r.total - len(r.added)), After: int64(r.total)},
	}
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
	if w := warningCounts(r); len(w) > 0 {
		c.Summary += "; warnings: " + strings.Join(w, ", ")
		c.Details = append(c.Details, s.findings(r)...)
	}
	if s.env.ShowEntries {
		for _, m := range r.added {
			var e entry
			if raw, _, err := s.pending.Get([]byte(m.key)); err == nil {
				json.Unmarshal(raw, &e)
			}
			lead := "null"
			if e.LeadID != nil {
				lead = *e.LeadID
			}
			c.Details = append(c.Details, fmt.Sprintf("+ %s  lead_id %s  next_attempt %s", s.show(m.key), lead, e.NextAttempt))
		}
	}
	return c
}

// show masks a phone (or key) to its last four digits unless Unmask.
func (s *sink) show(k string) string {
	if s.env.Unmask {
		return k
	}
	return phone.Mask(k)
}

// warningCounts are the summary's counts of what the merge found wrong.
func warningCounts(r mergeResult) []string {
	var w []string
	if r.elsewhereCount > 0 {
		w = append(w, fmt.Sprintf("%d already queued under another key (not added again)", r.elsewhereCount))
	}
	if n := len(r.multi); n > 0 {
		w = append(w, fmt.Sprintf("%d queued under several keys (kept, none added)", n))
	}
	if r.oddCount > 0 {
		w = append(w, fmt.Sprintf("%d entries that are not queue entries (kept as they are)", r.oddCount))
	}
	return w
}

// findings lists, one line each, the phones queued under other keys, the
// phones queued under several keys and the entries that are not queue
// entries, with their lines in the file.
func (s *sink) findings(r mergeResult) []string {
	var lines []string
	more := func(named, all int) {
		if all > named {
			lines = append(lines, fmt.Sprintf("! … and %d more", all-named))
		}
	}
	for _, e := range r.elsewhere {
		lines = append(lines, fmt.Sprintf("! %s already queued under %s: not added again", s.show(e.phone), s.keys(e.keys)))
	}
	more(len(r.elsewhere), r.elsewhereCount)
	for i, m := range r.multi {
		if i == maxNamed {
			more(i, len(r.multi))
			break
		}
		lines = append(lines, fmt.Sprintf("! %s queued under %d keys, %s: all kept, none added", s.show(m.phone.String()), len(m.keys), s.keys(m.keys)))
	}
	for _, o := range r.odd {
		lines = append(lines, fmt.Sprintf("! line %d, key %s: not a queue entry (%s): kept as it is", o.line, s.show(o.key), o.why))
	}
	more(len(r.odd), r.oddCount)
	return lines
}

// keys renders keys with their lines: "key ********1568 (line 9)".
func (s *sink) keys(ks []keyAt) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("key %s (line %d)", s.show(k.key), k.line)
	}
	return strings.Join(parts, " and ")
}

// warn reports what the merge found wrong in the file as warnings, in run
// and plan alike: one per kind, with the count and the fix.
func (s *sink) warn(r mergeResult) {
	if r.elsewhereCount > 0 {
		s.env.Report(etl.EventWarning, "", fmt.Sprintf("queue file %s: %d phone(s) of this run are already queued under another spelling of their key or in another key's phone_number, and are not added again (the details name them)", s.path, r.elsewhereCount), map[string]any{"count": r.elsewhereCount})
	}
	if n := len(r.multi); n > 0 {
		s.env.Report(etl.EventWarning, "", fmt.Sprintf("queue file %s: %d phone(s) are queued under more than one key (a double dial unless the queue processor merges them); the entries are kept as they are and none is added: remove the extra ones by hand (the details name them)", s.path, n), map[string]any{"count": n})
	}
	if r.oddCount > 0 {
		s.env.Report(etl.EventWarning, "", fmt.Sprintf("queue file %s: %d entries are not queue entries (an object with %s, under a phone as key) and are kept as they are (the details name them)", s.path, r.oddCount, strings.Join(requiredFields[:], ", ")), map[string]any{"count": r.oddCount})
	}
}
