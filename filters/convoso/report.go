package convoso

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
)

// reportOutcomes prints the Convoso results per phone of this run, as the
// original script did: "Convoso: 2000 phones checked | excluded SALE 25,
// DNC 8 | on DNC list 3 | not found 100 | kept 1864".
func (f *Filter) reportOutcomes() {
	outcomes := f.outcomeCounts()
	var total int64
	var excluded, others []string
	data := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(outcomes)) {
		n := outcomes[k]
		total += n
		data[k] = n
		if status, ok := strings.CutPrefix(k, "excluded: "); ok {
			excluded = append(excluded, fmt.Sprintf("%s %d", status, n))
		} else if k != "kept" && k != "not found" && k != "on dnc list" {
			others = append(others, fmt.Sprintf("%s %d", k, n)) // e.g. "lead without status"
		}
	}
	parts := []string{fmt.Sprintf("Convoso: %d phones checked", total)}
	if len(excluded) > 0 {
		parts = append(parts, "excluded "+strings.Join(excluded, ", "))
	}
	if n := outcomes["on dnc list"]; n > 0 {
		parts = append(parts, fmt.Sprintf("on DNC list %d", n))
	}
	parts = append(parts, others...)
	parts = append(parts, fmt.Sprintf("not found %d", outcomes["not found"]), fmt.Sprintf("kept %d", outcomes["kept"]))
	data["phones_checked"] = total
	f.env.Report(etl.EventInfo, "", strings.Join(parts, " | "), map[string]any{"phones": data})
}

// outcomeCounts counts this run's phones by outcome: "kept", or the reason
// a phone was dropped ("excluded: SALE", "on dnc list", "not found").
func (f *Filter) outcomeCounts() map[string]int64 {
	outcomes := map[string]int64{}
	f.lookups.Range(func(_ phone.Number, v verdict, used bool) {
		switch {
		case !used:
		case v.keep:
			outcomes["kept"]++
		default:
			outcomes[f.syms.str(v.reason)]++
		}
	})
	return outcomes
}

// Outcomes are the phones of this run by outcome, for the run report:
// kept, then excluded by each status, on the DNC list, not found, and any
// other reason.
func (f *Filter) Outcomes() *etl.Outcomes {
	counts := f.outcomeCounts()
	rank := func(k string) int {
		switch {
		case k == "kept":
			return 0
		case strings.HasPrefix(k, "excluded: "):
			return 1
		case k == "on dnc list":
			return 2
		case k == "not found":
			return 3
		}
		return 4
	}
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	o := &etl.Outcomes{Of: "phones", Counts: []etl.Count{}}
	for _, k := range keys {
		o.Counts = append(o.Counts, etl.Count{Name: k, N: counts[k]})
	}
	return o
}

// reportProgress sends a progress event at most every half second, and
// always at the end.
func (f *Filter) reportProgress(final bool) {
	f.progress.Lock()
	defer f.progress.Unlock()
	now := time.Now()
	if !final && now.Sub(f.lastSent) < 500*time.Millisecond {
		return
	}
	f.lastSent = now
	n := f.checked.Load()
	f.env.Report(etl.EventProgress, "", fmt.Sprintf("convoso: %d phones checked", n), map[string]any{"phones_checked": n, etl.FinalProgress: final})
}
