package stats

import (
	"fmt"
	"math"
	"strings"

	"github.com/etlhq/etl/etl"
)

// megabytes renders a byte count the way the original script did: whole
// mebibytes.
func megabytes(n int64) string {
	return fmt.Sprintf("%.0f MB", math.Round(float64(n)/(1<<20)))
}

// dateLine is the per-date console line of the original script:
// "2025-12-02  650 calls | 15 unique today | 12 new | 57 total unique | 11 MB".
// Invalid phones and an incomplete date are appended only when they occur.
func dateLine(r Row, bytes int64, hasBytes bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %4d calls | %d unique today | %d new | %d total unique",
		r.Date, r.TotalCalls, r.UniquePhonesToday, r.NewPhonesToday, r.CumulativeUniquePhones)
	if hasBytes {
		fmt.Fprintf(&b, " | %s", megabytes(bytes))
	}
	if r.InvalidPhones > 0 {
		fmt.Fprintf(&b, " | %d invalid phones", r.InvalidPhones)
	}
	if r.Incomplete {
		b.WriteString(" | INCOMPLETE")
	}
	return b.String()
}

// newPhonesSeries is the new phones per date, which the closing summary
// draws as a sparkline: the lead acquisition pattern at a glance.
func newPhonesSeries(rows []Row) etl.Series {
	s := etl.Series{Title: "new phones per date", Labels: make([]string, len(rows)), Values: make([]int64, len(rows))}
	for i, r := range rows {
		s.Labels[i], s.Values[i] = r.Date, r.NewPhonesToday
	}
	return s
}

// summaryTable is the end-of-run table by date and the totals line
// "TOTALS: 22000 calls | 178 unique phones".
func summaryTable(rows []Row, bytes map[string]int64) string {
	var b strings.Builder
	b.WriteString("Summary by date:\n")
	fmt.Fprintf(&b, "%-11s %7s  %6s  %6s  %12s  %7s  %8s\n", "DATE", "CALLS", "UNIQUE", "NEW", "TOTAL UNIQUE", "INVALID", "SIZE")
	var calls, unique int64
	for _, r := range rows {
		size := "-"
		if n, ok := bytes[r.Date]; ok {
			size = megabytes(n)
		}
		date := r.Date
		if r.Incomplete {
			date += "*"
		}
		fmt.Fprintf(&b, "%-11s %7d  %6d  %6d  %12d  %7d  %8s\n", date, r.TotalCalls, r.UniquePhonesToday,
			r.NewPhonesToday, r.CumulativeUniquePhones, r.InvalidPhones, size)
		calls += r.TotalCalls
		unique = r.CumulativeUniquePhones
	}
	for _, r := range rows {
		if r.Incomplete {
			b.WriteString("* incomplete: the source could not read the whole date\n")
			break
		}
	}
	fmt.Fprintf(&b, "TOTALS: %d calls | %d unique phones", calls, unique)
	return b.String()
}
