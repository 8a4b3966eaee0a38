package cli

import (
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
)

// The closing summary's figures, drawn in text from what events offer
// whatever the block: a one-line sparkline per etl.Series (the stats
// sink's new phones per date) and a bar per outcome of an etl.Outcomes
// (convoso_status: kept, excluded by status, on the DNC list, not found).

// sparkWidth is the most columns a sparkline takes: a longer series is
// summed into buckets of consecutive partitions.
const sparkWidth = 60

// barWidth is the length of the longest outcome bar.
const barWidth = 40

var sparks = []rune("▁▂▃▄▅▆▇█")

// figureLines returns the lines drawing the figures e offers, if any.
func figureLines(e etl.Event) []string {
	var lines []string
	for _, s := range etl.SeriesOf(e) {
		if len(s.Values) > 0 {
			lines = append(lines, sparkline(s))
		}
	}
	if o, ok := outcomesOf(e); ok {
		lines = append(lines, outcomeBars(e.Block, o)...)
	}
	return lines
}

// outcomesOf returns the outcomes of a block event (etl.Outcomer).
func outcomesOf(e etl.Event) (*etl.Outcomes, bool) {
	if e.Type != etl.EventBlock {
		return nil, false
	}
	o, ok := e.Data["outcomes"].(*etl.Outcomes)
	return o, ok && o != nil && len(o.Counts) > 0
}

// sparkline is "new phones per date  ▁▃█▂▁  2025-12-01 to 2026-01-07,
// most 234 on 2025-12-01".
func sparkline(s etl.Series) string {
	vals, labels := s.Values, s.Labels
	per := (len(vals) + sparkWidth - 1) / sparkWidth
	var buckets []int64
	for i := 0; i < len(vals); i += per {
		var sum int64
		for _, v := range vals[i:min(i+per, len(vals))] {
			sum += v
		}
		buckets = append(buckets, sum)
	}
	var top int64
	for _, b := range buckets {
		top = max(top, b)
	}
	var b strings.Builder
	for _, v := range buckets {
		// The lowest mark is for nothing at all, so that a quiet day
		// stands out from a slow one.
		i := 0
		if top > 0 && v > 0 {
			i = 1 + int(v*int64(len(sparks)-2)/top)
		}
		b.WriteRune(sparks[i])
	}
	line := fmt.Sprintf("%s  %s", s.Title, b.String())
	if len(labels) == len(vals) && len(vals) > 0 {
		most := 0
		for i, v := range vals {
			if v > vals[most] {
				most = i
			}
		}
		line += fmt.Sprintf("  %s to %s, most %d on %s", labels[0], labels[len(labels)-1], vals[most], labels[most])
	}
	if per > 1 {
		line += fmt.Sprintf(" (a mark per %d)", per)
	}
	return line
}

// outcomeBars draws a bar per outcome, scaled to the largest:
//
//	filter.convoso_status.redialable: 1984 phones by outcome
//	  kept            ████████████████████████████▌  1275  64%
//	  excluded: SALE  ██████████                      445  22%
func outcomeBars(block string, o *etl.Outcomes) []string {
	var total, top int64
	width := 0
	for _, c := range o.Counts {
		total += c.N
		top = max(top, c.N)
		width = max(width, len([]rune(c.Name)))
	}
	lines := []string{fmt.Sprintf("%s: %d %s by outcome", block, total, o.Of)}
	digits := len(fmt.Sprint(top))
	for _, c := range o.Counts {
		bar := ""
		if top > 0 {
			bar = blocks(float64(c.N) * barWidth / float64(top))
		}
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(c.N) / float64(total)
		}
		lines = append(lines, fmt.Sprintf("  %-*s  %-*s  %*d  %3.0f%%", width, c.Name, barWidth, bar, digits, c.N, pct))
	}
	return lines
}

var eighths = []rune(" ▏▎▍▌▋▊▉")

// blocks is a bar n characters long, to the eighth.
func blocks(n float64) string {
	whole := int(n)
	s := strings.Repeat("█", whole)
	if e := int((n - float64(whole)) * 8); e > 0 {
		s += string(eighths[e])
	}
	return s
}
