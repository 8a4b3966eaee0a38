package blandtest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/etlhq/etl/etl/phone"
)

// demoDay is what a client sees of one date of the demo's data.
type demoDay struct {
	date                          time.Time
	calls, newPhones, invalid, in int
}

// demoDays generates the demo's 38 dates (the shipped backfill's default
// range) and counts them as the stats sink does.
func demoDays(t *testing.T, cfg Config) []demoDay {
	t.Helper()
	seen := map[string]bool{}
	var days []demoDay
	start, _ := time.Parse(time.DateOnly, DefaultStart)
	for d := start; d.Before(start.AddDate(0, 0, 38)); d = d.AddDate(0, 0, 1) {
		calls, err := Generate(cfg, d.Format(time.DateOnly))
		if err != nil {
			t.Fatal(err)
		}
		day := demoDay{date: d}
		for _, c := range calls {
			if c.Duplicate {
				continue
			}
			day.calls++
			p, _, ok := phone.Normalize(c.LeadPhone())
			switch {
			case !ok:
				day.invalid++
			case !seen[p]:
				seen[p] = true
				day.newPhones++
			}
			if c.Inbound {
				day.in++
			}
		}
		days = append(days, day)
	}
	return days
}

func weekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

func median(xs []int) int {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// TestTrafficLooksLikeACallCenter checks the patterns a report's charts
// are meant to show in the demo's data.
func TestTrafficLooksLikeACallCenter(t *testing.T) {
	cfg := Config{Seed: 2025, PhonePool: 2000, Traffic: &Traffic{}}
	days := demoDays(t, cfg)

	var weekdays, weekends, news []int
	for _, d := range days {
		news = append(news, d.newPhones)
		if weekend(d.date) {
			weekends = append(weekends, d.calls)
		} else if d.calls > 0 {
			weekdays = append(weekdays, d.calls)
		}
	}
	if mw, me := median(weekdays), median(weekends); me*2 > mw || mw < 250 || mw > 350 {
		t.Errorf("median calls: weekdays %d, weekends %d; want about 300 on weekdays and under half that at weekends", mw, me)
	}

	// Batch days: a burst of new leads, the first date's included.
	var batches []string
	for _, d := range days {
		if d.newPhones > 5*median(news) {
			batches = append(batches, d.date.Format(time.DateOnly))
		}
	}
	if len(batches) < 3 || len(batches) > 5 || batches[0] != DefaultStart {
		t.Errorf("batch days %v: want the first date and two to four more", batches)
	}

	// Quiet days: at least one date without a call, and weekdays well
	// below the usual volume.
	var closed, quiet []string
	for _, d := range days {
		switch {
		case d.calls == 0:
			closed = append(closed, d.date.Format(time.DateOnly))
		case !weekend(d.date) && d.calls*2 < median(weekdays):
			quiet = append(quiet, d.date.Format(time.DateOnly))
		}
	}
	if !slices.Contains(closed, "2025-12-25") || len(quiet) < 2 {
		t.Errorf("closed %v, quiet weekdays %v: want Christmas closed and two quiet weekdays or more", closed, quiet)
	}

	// The shares of invalid phones and inbound calls vary.
	lo, hi := map[string]float64{"invalid": 1, "inbound": 1}, map[string]float64{}
	for _, d := range days {
		if d.calls < 100 {
			continue
		}
		for name, n := range map[string]int{"invalid": d.invalid, "inbound": d.in} {
			share := float64(n) / float64(d.calls)
			lo[name], hi[name] = min(lo[name], share), max(hi[name], share)
		}
	}
	for name := range lo {
		if hi[name]-lo[name] < 0.08 {
			t.Errorf("%s share from %.2f to %.2f: want it to vary by 8 points or more", name, lo[name], hi[name])
		}
	}

	// Deterministic, and a date's calls do not depend on the dates asked
	// before it.
	if again := demoDays(t, cfg); !slices.Equal(days, again) {
		t.Error("same config, different data")
	}
	s := NewServer(cfg)
	defer s.Close()
	late := s.Calls("2026-01-07")
	want, _ := Generate(cfg, "2026-01-07")
	if !slices.EqualFunc(late, want, func(a, b Call) bool { return a.ID == b.ID && a.LeadPhone() == b.LeadPhone() }) {
		t.Error("2026-01-07 asked first differs from 2026-01-07 generated after the dates before it")
	}
	// Another seed, other data.
	other := demoDays(t, Config{Seed: 7, PhonePool: 2000, Traffic: &Traffic{}})
	if slices.Equal(days, other) {
		t.Error("seeds 2025 and 7 give the same data")
	}
}

// TestTrafficServesEmptyDates checks that a closed date and a date before
// the campaign answer an empty listing.
func TestTrafficServesEmptyDates(t *testing.T) {
	s := NewServer(Config{Seed: 2025, Traffic: &Traffic{WeekdayCalls: 40}})
	defer s.Close()
	for _, date := range []string{"2025-12-25", "2025-11-30"} {
		_, b := get(t, s, "created_at="+date, DefaultKey)
		var got body
		if err := json.Unmarshal(b, &got); err != nil || got.TotalCount != 0 || len(got.Calls) != 0 {
			t.Errorf("%s: total_count %d, %d calls (%v); want no call", date, got.TotalCount, len(got.Calls), err)
		}
	}
	if n := len(s.Calls("2025-12-01")); n < 40 {
		t.Errorf("2025-12-01, the initial batch: %d calls, want more than a weekday's 40", n)
	}
}

// TestTrafficNewLeadsComeFromThePool checks that a small pool runs out:
// new leads stop once every lead has arrived, and the redials go on.
func TestTrafficNewLeadsComeFromThePool(t *testing.T) {
	days := demoDays(t, Config{Seed: 1, PhonePool: 60, Traffic: &Traffic{WeekdayCalls: 30}})
	total, last := 0, days[len(days)-1]
	for _, d := range days {
		total += d.newPhones
	}
	if total > 60 || total < 50 || last.newPhones != 0 || last.calls == 0 {
		t.Errorf("%d new phones in all, %d on the last date of %d calls; want at most the pool's 60, none new at the end, calls still made", total, last.newPhones, last.calls)
	}
}
