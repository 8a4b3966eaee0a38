package blandtest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/etlhq/etl/etl/phone"
)

// Call is one generated call, as the fake serves it.
type Call struct {
	// ID is the call's id; IDField names the JSON field that carries it
	// ("call_id" or "c_id").
	ID, IDField string
	// CreatedAtRaw is created_at as served (variable fraction, Z or
	// +00:00); CreatedAt is the instant it denotes.
	CreatedAtRaw string
	CreatedAt    time.Time
	To, From     string
	Inbound      bool
	// BatchID and AnsweredBy are "" when served as null.
	BatchID, Status, AnsweredBy string
	CallLength                  float64
	// Metadata is the metadata object as served, JSON.
	Metadata string
	// Duplicate is true for the exact repeat of the call before it.
	Duplicate bool

	index int // position in the day, for the payload
}

// LeadPhone is the lead's phone as served: From for an inbound call, To
// otherwise.
func (c Call) LeadPhone() string {
	if c.Inbound {
		return c.From
	}
	return c.To
}

// DayStats are the facts about one generated date that a correct client
// reports.
type DayStats struct {
	// Served counts the calls served, the duplicate included (total_count).
	Served int
	// Unique counts distinct call ids: the records a source emits.
	Unique int
	// Duplicates counts exact repeats of a call id.
	Duplicates int
	// InvalidPhones counts unique calls whose lead phone is not NANP.
	InvalidPhones int
	// Inbound counts unique inbound calls.
	Inbound int
}

// OurNumber is the business's own number in generated calls: "from" of
// outbound calls and "to" of inbound ones.
const OurNumber = "+18005550100"

// invalidPhones are served in turn where a call's phone is to be invalid.
var invalidPhones = []string{"unknown", "555-0100", "+44 20 7946 0958", "0619565858", "", "25619565858"}

var (
	statuses  = []string{"completed", "completed", "no-answer", "busy", "failed"}
	answerers = []string{"human", "voicemail", "unknown", "", "no-answer"}
)

// generate returns the calls served for date, in created_at order.
func (cfg *Config) generate(date string) ([]Call, error) {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, fmt.Errorf("date %q is not YYYY-MM-DD", date)
	}
	n := cfg.callsOn(date)
	var shape dayShape
	if cfg.Traffic != nil {
		if shape, err = cfg.Traffic.shape(cfg.Seed, cfg.phonePool(), day); err != nil {
			return nil, err
		}
		n = shape.calls
	}
	h := fnv.New64a()
	h.Write([]byte(date))
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64()))
	dup := -1
	if !cfg.NoDuplicate && n >= 3 {
		dup = n / 2 // calls[dup] repeats calls[dup-1]
	}
	var roles []role
	if cfg.Traffic != nil {
		roles = shape.roles(cfg.Seed, day, n, dup)
	}
	calls := make([]Call, 0, n)
	slot := 24 * time.Hour / time.Duration(max(n, 1))
	for i := 0; i < n; i++ {
		if i == dup {
			c := calls[i-1]
			c.Duplicate = true
			calls = append(calls, c)
			continue
		}
		c := Call{index: i}
		a, b, cc, d := rng.Uint32(), rng.Uint32(), rng.Uint32(), rng.Uint32()
		c.ID = callID(a, b, cc, d, rng.Uint64())
		c.IDField = "call_id"
		if i%3 == 1 {
			c.IDField = "c_id"
		}
		t := day.Add(time.Duration(i)*slot + time.Duration(rng.Int64N(int64(slot))))
		switch i % 4 {
		case 0:
			t = t.Truncate(time.Millisecond)
			c.CreatedAtRaw = t.Format("2006-01-02T15:04:05.000Z")
		case 1:
			t = t.Truncate(time.Microsecond)
			c.CreatedAtRaw = t.Format("2006-01-02T15:04:05.000000") + "+00:00"
		case 2:
			t = t.Truncate(time.Second)
			c.CreatedAtRaw = t.Format("2006-01-02T15:04:05Z")
		case 3:
			t = t.Truncate(100 * time.Millisecond)
			c.CreatedAtRaw = t.Format("2006-01-02T15:04:05.0") + "+00:00"
		}
		c.CreatedAt = t
		var lead int
		var raw string
		if roles != nil {
			lead, c.Inbound = roles[i].lead, roles[i].inbound
			if lead >= 0 {
				raw = formatPhone(lead, i)
			} else {
				raw = invalidPhones[i%len(invalidPhones)]
			}
		} else {
			lead = rng.IntN(cfg.phonePool())
			raw = formatPhone(lead, i)
			if cfg.InvalidEvery > 0 && i%cfg.InvalidEvery == cfg.InvalidEvery-1 {
				raw = invalidPhones[(i/cfg.InvalidEvery)%len(invalidPhones)]
			}
			c.Inbound = rng.IntN(5) == 0
		}
		if c.Inbound {
			c.From, c.To = raw, OurNumber
		} else {
			c.From, c.To = OurNumber, raw
		}
		if i%5 != 4 {
			c.BatchID = "batch-" + date + "-" + strconv.Itoa(i/100)
		}
		c.Status = statuses[rng.IntN(len(statuses))]
		c.AnsweredBy = answerers[rng.IntN(len(answerers))]
		c.CallLength = float64(rng.IntN(600)) / 100
		if lead >= 0 {
			c.Metadata = `{"lead_id":` + strconv.Itoa(lead) + `,"campaign":"spring","tags":["a","b"]}`
		} else { // a junk number no lead goes with
			c.Metadata = `{"lead_id":null,"campaign":"spring","tags":["a","b"]}`
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// Phone returns the 10-digit phone of lead k of the pool: area code and
// exchange never start with 0 or 1.
func Phone(k int) string {
	var b [10]byte
	putDecimal(b[0:3], 200+(k*37)%800)
	putDecimal(b[3:6], 200+(k/10000)%800)
	putDecimal(b[6:10], k%10000)
	return string(b[:])
}

// The fake formats its ids, phones and metadata by hand, not with
// fmt.Sprintf: generating a benchmark's 380,000 calls took a second of the
// two cores the measured run shares with it (TestFormatting holds the two
// to the same output).

// callID formats five random numbers as a version-4 UUID, as
// "%08x-%04x-4%03x-8%03x-%012x" would with b, c and d cut to 16, 12 and
// 12 bits and e to 48.
func callID(a, b, c, d uint32, e uint64) string {
	var s [36]byte
	putHex(s[0:8], uint64(a))
	s[8] = '-'
	putHex(s[9:13], uint64(b))
	s[13], s[14] = '-', '4'
	putHex(s[15:18], uint64(c))
	s[18], s[19] = '-', '8'
	putHex(s[20:23], uint64(d))
	s[23] = '-'
	putHex(s[24:36], e)
	return string(s[:])
}

// putHex writes the low len(dst) hex digits of v into dst.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
}

// putDecimal writes the low len(dst) decimal digits of v (v >= 0) into
// dst, zero-padded.
func putDecimal(dst []byte, v int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// formatPhone writes lead k's phone in one of the formats seen in the wild.
func formatPhone(k, i int) string {
	p := Phone(k)
	switch i % 4 {
	case 0:
		return "+1" + p
	case 1:
		return p
	case 2:
		return "1" + p
	default:
		return "(" + p[:3] + ") " + p[3:6] + "-" + p[6:]
	}
}

// stats computes DayStats for calls.
func stats(calls []Call) DayStats {
	s := DayStats{Served: len(calls)}
	seen := map[string]bool{}
	for _, c := range calls {
		if seen[c.ID] {
			s.Duplicates++
			continue
		}
		seen[c.ID] = true
		s.Unique++
		if _, _, ok := phone.Normalize(c.LeadPhone()); !ok {
			s.InvalidPhones++
		}
		if c.Inbound {
			s.Inbound++
		}
	}
	return s
}
