package stats

import (
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
)

// Change compares the rows with the file as it was when the run started:
// "would create <path>, 38 rows", "would update <path>: +3 rows", or up to
// date. The file is replaced whole, so dates of an earlier run that this
// run did not produce are counted as removed.
func (s *sink) Change() etl.Change {
	verb := func(plan, apply string) string {
		if s.env.Plan {
			return plan
		}
		return apply
	}
	if !s.beforeExists {
		return etl.Change{Changed: true, Summary: fmt.Sprintf("%s %s, %d rows", verb("would create", "created"), s.path, len(s.rows))}
	}
	old := make(map[string]Row, len(s.before))
	for _, r := range s.before {
		old[r.Date] = r
	}
	var added, changed int
	for _, r := range s.rows {
		prev, ok := old[r.Date]
		switch {
		case !ok:
			added++
		case prev != r:
			changed++
		}
		delete(old, r.Date)
	}
	removed := len(old)
	if added+changed+removed == 0 && len(s.rows) == len(s.before) {
		return etl.Change{Summary: fmt.Sprintf("%s up to date, %d rows", s.path, len(s.rows))}
	}
	var parts []string
	if added > 0 {
		parts = append(parts, fmt.Sprintf("+%d rows", added))
	}
	if changed > 0 {
		parts = append(parts, fmt.Sprintf("%d changed", changed))
	}
	if removed > 0 {
		parts = append(parts, fmt.Sprintf("%d removed", removed))
	}
	if len(parts) == 0 {
		parts = append(parts, "rows reordered")
	}
	return etl.Change{Changed: true, Summary: fmt.Sprintf("%s %s: %s (%d rows)", verb("would update", "updated"), s.path, strings.Join(parts, ", "), len(s.rows))}
}
