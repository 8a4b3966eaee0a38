package blandtest

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Traffic shapes the generated data like a real call center's, where
// Config.CallsPerDay alone serves the same volume every date:
//
//   - volume follows the week (Saturday about a third of a weekday, Sunday
//     less), varies ±15% from date to date, and drops on quiet days: the
//     days around holidays, and now and then a weekday when the dialer was
//     down half the day; the center is closed, with no call at all, on
//     New Year's Day, the Fourth of July, Thanksgiving and Christmas;
//   - leads arrive in a steady stream (a tenth of a weekday's calls go to
//     new leads), and in batches: the campaign's first date brings the
//     initial batch from Zapier (1.5 weekdays' worth of new leads), and a
//     new batch comes about every two weeks, each a burst of calls to
//     leads never called before;
//   - redials favour recent leads, as a dialer's lists do;
//   - the share of invalid phones varies from 3% to 15% (more on batch
//     days: imports bring junk), and the share of inbound calls from 8% to
//     28% (more at weekends, when leads call back).
//
// Lead k of the pool (Phone(k)) arrives before lead k+1: the new leads of
// a date are the next ones of the pool, until the pool is used up.
// Everything derives from Config.Seed and the date, so a date's calls do
// not depend on which other dates are asked for.
type Traffic struct {
	// Start is the campaign's first date, YYYY-MM-DD, the day of the
	// initial batch; earlier dates have no calls. Default DefaultStart.
	Start string
	// WeekdayCalls is the volume of a typical weekday, around which the
	// dates vary (default 300).
	WeekdayCalls int
}

// DefaultStart is Traffic's default first date: the shipped backfill's
// default start_date.
const DefaultStart = "2025-12-01"

// dayShape is what Traffic makes of one date.
type dayShape struct {
	calls     int // served, the duplicate included
	firstLead int // the date's new leads are firstLead, firstLead+1, ...
	newLeads  int
	invalid   int     // calls with an invalid phone
	inbound   float64 // share of inbound calls
	batch     bool
}

// shape computes the date's shape, walking from Start since the leads
// that arrived before it depend on every earlier date.
func (t Traffic) shape(seed int64, pool int, day time.Time) (dayShape, error) {
	start, err := time.Parse(time.DateOnly, t.Start)
	if err != nil {
		return dayShape{}, fmt.Errorf("traffic start %q is not YYYY-MM-DD", t.Start)
	}
	w := float64(t.WeekdayCalls)
	arrived := 0
	nextBatch := batchOffset(seed, 1)
	for i, d := 0, start; !d.After(day); i, d = i+1, d.AddDate(0, 0, 1) {
		r := dayRand(seed, d, 0x7261666669)
		factor := volume(d)
		if factor > 0 && d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && r.IntN(20) == 0 {
			factor *= 0.35 // the dialer was down half the day
		}
		factor *= 0.85 + 0.3*r.Float64()
		var s dayShape
		burst := 0
		if factor > 0 {
			switch {
			case i == 0:
				burst = int(1.5 * w)
			case i >= nextBatch && isWeekday(d):
				burst = int(w * (0.8 + 0.6*r.Float64()))
			}
		}
		if i >= nextBatch && burst > 0 {
			nextBatch = i + batchOffset(seed, i)
		}
		s.batch = burst > 0
		s.calls = int(math.Round(w*factor)) + burst
		s.firstLead = arrived
		s.newLeads = min(int(math.Round(0.1*w*factor))+burst, pool-arrived, s.calls)
		arrived += s.newLeads
		invalidShare := 0.03 + 0.12*r.Float64()
		if s.batch {
			invalidShare += 0.05
		}
		s.invalid = min(int(math.Round(float64(s.calls)*invalidShare)), s.calls-s.newLeads)
		s.inbound = 0.08 + 0.2*r.Float64()
		if !isWeekday(d) {
			s.inbound += 0.1
		}
		if d.Equal(day) {
			return s, nil
		}
	}
	return dayShape{}, nil // before Start: no calls
}

// batchOffset is how many days after a batch (or the start) the next one
// is due: 12 to 16.
func batchOffset(seed int64, after int) int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(after)^0x6261746368))
	return 12 + r.IntN(5)
}

// dayRand is a random source for one date and one purpose.
func dayRand(seed int64, d time.Time, purpose uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(d.Format(time.DateOnly)))
	return rand.New(rand.NewPCG(uint64(seed)^purpose, h.Sum64()))
}

func isWeekday(d time.Time) bool {
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && volume(d) >= 1
}

// volume is the date's volume relative to a weekday's, before noise:
// weekends, holidays and the quiet days around them.
func volume(d time.Time) float64 {
	m, day := d.Month(), d.Day()
	thanksgiving := m == time.November && d.Weekday() == time.Thursday && day >= 22 && day <= 28
	switch {
	case m == time.January && day == 1, m == time.July && day == 4, m == time.December && day == 25, thanksgiving:
		return 0
	case m == time.December && (day == 24 || day == 31), m == time.November && d.Weekday() == time.Friday && day >= 23 && day <= 29:
		return 0.3
	case d.Weekday() == time.Saturday:
		return 0.35
	case d.Weekday() == time.Sunday:
		return 0.15
	}
	return 1
}

// role is what a generated call is, under Traffic.
type role struct {
	lead    int // pool index; -1 for an invalid phone
	inbound bool
}

// roles deals the date's roles out over n call slots in a random order,
// skipping the duplicate's slot dup: the new leads, then invalid phones,
// then redials of leads that arrived before (recent ones more often).
func (s dayShape) roles(seed int64, day time.Time, n, dup int) []role {
	r := dayRand(seed, day, 0x726f6c6573)
	slots := make([]role, 0, n)
	for k := range s.newLeads {
		slots = append(slots, role{lead: s.firstLead + k})
	}
	for range s.invalid {
		slots = append(slots, role{lead: -1})
	}
	known := s.firstLead + s.newLeads
	for len(slots) < n {
		old := s.firstLead
		if old == 0 { // the first date: redial today's leads
			old = known
		}
		f := r.Float64()
		slots = append(slots, role{lead: old - 1 - int(float64(old)*f*f)})
	}
	r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	for i := range slots {
		slots[i].inbound = r.Float64() < s.inbound
	}
	if dup >= 0 { // the duplicate repeats the call before it: its slot takes no role
		slots = append(slots[:dup], append([]role{{}}, slots[dup:n-1]...)...)
	}
	return slots
}

// Demo is the data set of `etl demo` and of pipelines/internal/fakeapis
// run without -calls-per-day: seed 2025, calls shaped by Traffic around
// weekdayCalls a weekday to a pool of phones, and summaries of 2,000
// bytes. The same numbers give the same calls in both.
func Demo(weekdayCalls, phones int) Config {
	return Config{
		Seed:         2025,
		PhonePool:    phones,
		PayloadBytes: 2000,
		Traffic:      &Traffic{WeekdayCalls: weekdayCalls},
	}
}

// Pool returns the phones of leads 0 to n-1: the phones a Convoso fake is
// seeded with for calls to a pool of n.
func Pool(n int) []string {
	pool := make([]string, n)
	for k := range pool {
		pool[k] = Phone(k)
	}
	return pool
}
