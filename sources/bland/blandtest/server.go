package blandtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/etlhq/etl/etl/apifault"
	"github.com/etlhq/etl/etl/retry"
)

// DefaultKey is the API key the fake accepts when Config.APIKey is empty.
const DefaultKey = "test-bland-key"

// Config shapes the fake's data and faults. The zero value serves 20 calls a
// day from a pool of 50 leads.
type Config struct {
	// APIKey is the authorization header value required (DefaultKey when
	// empty).
	APIKey string
	// Seed makes the data; the same seed gives the same calls.
	Seed int64
	// CallsPerDay is the number of calls served per date, the duplicate
	// included (default 20); PerDate overrides it for some dates.
	CallsPerDay int
	PerDate     map[string]int
	// PhonePool is the number of distinct leads calls go to (default 50).
	PhonePool int
	// PayloadBytes is the length of each call's summary, which clients
	// skip (default 200; negative for none).
	PayloadBytes int
	// InvalidEvery makes every nth call's phone invalid (default 7;
	// negative for none).
	InvalidEvery int
	// NoDuplicate turns off the exact duplicate served in the middle of
	// every date of three calls or more.
	NoDuplicate bool
	// Latency delays every response; with LatencyMax above it, each
	// response waits a uniform random time between the two.
	Latency, LatencyMax time.Duration
	// Every500 and Every429, when positive, answer every Nth request 500,
	// or 429 with Retry-After: 1, after its latency (see apifault).
	Every500, Every429 int
	// DefaultLimit is the page size when a request has no limit (default
	// 1000, as the real API).
	DefaultLimit int
	// Broken lists truncated dates with broken paging: for such a date the
	// fake returns at most that many calls, the same ones whatever from/to
	// say, while total_count tells the real number.
	Broken map[string]int
	// MaxPage caps the calls a response holds whatever limit asks for,
	// paging with from/to still working (0: no cap).
	MaxPage int
	// Overcount makes total_count of a date that many more than the calls
	// the listing serves: the last page comes back short or empty.
	Overcount map[string]int
	// Faults are consumed in order by the requests they match.
	Faults []Fault
	// Traffic, when set, shapes the data like a call center's (see
	// Traffic): it then decides each date's volume and invalid phones, and
	// CallsPerDay, PerDate and InvalidEvery are not used. Nil serves the
	// uniform CallsPerDay that tests and benchmarks count on.
	Traffic *Traffic
}

// Fault is an injected failure.
type Fault struct {
	// Date limits the fault to requests for that date ("" for any).
	Date string
	// Status, when non-zero, is answered with a JSON error body instead of
	// the data.
	Status int
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// CutAfter, when positive, serves the data but drops the connection
	// after that many bytes of body: a response cut off mid-JSON.
	CutAfter int
	// Latency delays the response.
	Latency time.Duration
	// Times is how many requests the fault hits: 0 means once, negative
	// means every matching request.
	Times int
}

// Request is one request the fake received.
type Request struct {
	Method, Path string
	// Query holds the query parameters (the key travels in a header and is
	// not recorded).
	Query url.Values
	// Date is the created_at parameter.
	Date string
	// Authorized says whether the authorization header matched.
	Authorized bool
	// Status is the status answered.
	Status int
	// Cut says the body was cut off on purpose.
	Cut  bool
	Time time.Time
}

// Server is a running fake.
type Server struct {
	cfg     Config
	srv     *httptest.Server
	noise   apifault.Faults
	counter apifault.Counter

	mu     sync.Mutex
	faults []Fault // remaining Times per fault in hits
	hits   []int
	log    []Request
}

// NewServer starts a fake on 127.0.0.1. Close it when done.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg.withDefaults(),
		noise: apifault.Faults{Latency: cfg.Latency, LatencyMax: cfg.LatencyMax, Every500: cfg.Every500, Every429: cfg.Every429}}
	s.faults = append([]Fault(nil), cfg.Faults...)
	s.hits = make([]int, len(s.faults))
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (cfg Config) withDefaults() Config {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultKey
	}
	if cfg.CallsPerDay == 0 {
		cfg.CallsPerDay = 20
	}
	if cfg.PhonePool <= 0 {
		cfg.PhonePool = 50
	}
	if cfg.PayloadBytes == 0 {
		cfg.PayloadBytes = 200
	}
	if cfg.InvalidEvery == 0 {
		cfg.InvalidEvery = 7
	}
	if cfg.DefaultLimit <= 0 {
		cfg.DefaultLimit = 1000
	}
	if cfg.Traffic != nil {
		t := *cfg.Traffic
		if t.Start == "" {
			t.Start = DefaultStart
		}
		if t.WeekdayCalls <= 0 {
			t.WeekdayCalls = 300
		}
		cfg.Traffic = &t
	}
	return cfg
}

func (cfg *Config) callsOn(date string) int {
	if n, ok := cfg.PerDate[date]; ok {
		return n
	}
	return max(cfg.CallsPerDay, 0)
}

func (cfg *Config) phonePool() int { return cfg.PhonePool }

// URL is the base URL to give a client, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// Key is the API key the fake accepts.
func (s *Server) Key() string { return s.cfg.APIKey }

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// Requests returns a copy of the request log, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// RequestsFor counts the requests made for a date.
func (s *Server) RequestsFor(date string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Date == date {
			n++
		}
	}
	return n
}

// Calls returns the calls served for date, duplicate included, in order.
// It panics on a malformed date: a test's mistake.
func (s *Server) Calls(date string) []Call {
	calls, err := s.calls(date)
	if err != nil {
		panic(err)
	}
	return calls
}

// Stats returns what a correct client reports for date.
func (s *Server) Stats(date string) DayStats { return stats(s.Calls(date)) }

// StatsOf returns what a correct client reports for a date's calls, as
// Generate returns them.
func StatsOf(calls []Call) DayStats { return stats(calls) }

// Generate returns the calls a fake with cfg serves for date, without a
// server: for benchmarks and expectations computed elsewhere.
func Generate(cfg Config, date string) ([]Call, error) {
	cfg = cfg.withDefaults()
	return cfg.generate(date)
}

// calls generates date's calls afresh each time: generation is
// deterministic, and holding the scale benchmark's 380,000 calls made the
// fake's memory grow to 150 MB, page faults and all, on the cores the
// measured run shares with it.
func (s *Server) calls(date string) ([]Call, error) {
	return s.cfg.generate(date)
}

// fault returns the first fault matching date that has hits left, using
// one of them.
func (s *Server) fault(date string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Date != "" && f.Date != date {
			continue
		}
		if f.Times >= 0 && s.hits[i] >= max(f.Times, 1) {
			continue
		}
		s.hits[i]++
		return f
	}
	return Fault{}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.log = append(s.log, r)
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: q, Date: q.Get("created_at"),
		Authorized: r.Header.Get("authorization") == s.cfg.APIKey, Time: time.Now()}
	status := http.StatusOK
	defer func() {
		entry.Status = status
		s.record(entry)
	}()
	fail := func(code int, msg string) {
		status = code
		writeError(w, code, msg)
	}
	if retry.Sleep(r.Context(), s.noise.Delay()) != nil {
		status = 499
		return
	}
	if st := s.noise.Status(&s.counter); st != 0 {
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", apifault.RetryAfter)
		}
		fail(st, fmt.Sprintf("injected %d", st))
		return
	}
	switch {
	case !entry.Authorized:
		fail(http.StatusUnauthorized, "Invalid API key")
		return
	case r.URL.Path != "/v1/calls":
		fail(http.StatusNotFound, "Not found")
		return
	case r.Method != http.MethodGet:
		fail(http.StatusMethodNotAllowed, "Method not allowed")
		return
	case entry.Date != "" && (q.Has("start_date") || q.Has("end_date")):
		fail(http.StatusBadRequest, "created_at cannot be combined with start_date or end_date")
		return
	case entry.Date == "":
		fail(http.StatusBadRequest, "this fake lists calls by created_at only")
		return
	}
	calls, err := s.calls(entry.Date)
	if err != nil {
		fail(http.StatusBadRequest, "Invalid created_at: "+err.Error())
		return
	}
	limit, from, to, err := window(q, s.cfg.DefaultLimit)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	f := s.fault(entry.Date)
	if retry.Sleep(r.Context(), f.Latency) != nil {
		status = 499
		return
	}
	if f.Status != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		fail(f.Status, fmt.Sprintf("injected %d", f.Status))
		return
	}

	// The window of calls served: [from, to) capped by limit, or for a
	// broken date always the first ones.
	end := min(to, from+limit, len(calls))
	if s.cfg.MaxPage > 0 {
		end = min(end, from+s.cfg.MaxPage)
	}
	if n, broken := s.cfg.Broken[entry.Date]; broken {
		from, end = 0, min(limit, n, len(calls))
	}
	from = min(from, end)
	page := calls[from:end]

	w.Header().Set("Content-Type", "application/json")
	var out interface{ Write([]byte) (int, error) } = w
	if f.CutAfter > 0 {
		entry.Cut = true
		out = &cutter{w: w, left: f.CutAfter}
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	buf := make([]byte, 0, 64<<10)
	buf = fmt.Appendf(buf, `{"status":"success","total_count":%d,"count":%d,"calls":[`, len(calls)+s.cfg.Overcount[entry.Date], len(page))
	for i := range page {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendCall(buf, &page[i], s.cfg.PayloadBytes)
		if len(buf) > 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				status = 499
				return
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}"...)
	bw.Write(buf)
	bw.Flush()
}

// window reads limit, from and to.
func window(q url.Values, def int) (limit, from, to int, err error) {
	limit, from, to = def, 0, int(^uint(0)>>1)
	for name, p := range map[string]*int{"limit": &limit, "from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return 0, 0, 0, fmt.Errorf("invalid %s %q", name, v)
			}
			*p = n
		}
	}
	return limit, from, to, nil
}

// cutter passes the first left bytes, then flushes them to the client and
// drops the connection: the client sees a body cut off mid-JSON.
type cutter struct {
	w    http.ResponseWriter
	left int
}

func (c *cutter) Write(p []byte) (int, error) {
	if len(p) < c.left {
		c.left -= len(p)
		return c.w.Write(p)
	}
	c.w.Write(p[:c.left])
	http.NewResponseController(c.w).Flush()
	panic(http.ErrAbortHandler)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"status": "error", "message": msg})
}
