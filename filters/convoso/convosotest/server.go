package convosotest

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/etlhq/etl/etl/apifault"
	"github.com/etlhq/etl/etl/retry"
	"golang.org/x/time/rate"
)

// DefaultToken is the auth_token the fake accepts when Config.Token is
// empty.
const DefaultToken = "test-convoso-token"

// The API's answers to a bad token and to a bad phone number.
const (
	AuthFailedCode = 5001
	AuthFailedText = "Auth token is invalid"
	BadPhoneCode   = 6002
	BadPhoneText   = "Invalid phone_number"
	BadParamCode   = 6001
	MaxLimit       = 2000 // largest page of leads
	DefaultLimit   = 10
	leadsPath      = "/v1/leads/search"
	dncPath        = "/v1/dnc/search"
	statusPath     = "/v1/status/search"
)

// Paths of the endpoints, for Requests filters.
const (
	LeadsPath  = leadsPath
	DNCPath    = dncPath
	StatusPath = statusPath
)

// Config shapes the fake's behaviour. The zero value answers at once, with
// no limit, and the default status catalogue.
type Config struct {
	// Token is the auth_token required (DefaultToken when empty).
	Token string
	// Latency delays every answer but a rate limit's 429; with LatencyMax
	// above it, each answer waits a uniform random time between the two.
	// LatencyFor, when set, replaces them for requests about a phone
	// (catalogue requests keep Latency).
	Latency, LatencyMax time.Duration
	LatencyFor          func(phone string) time.Duration
	// Every500 and Every429, when positive, answer every Nth request 500,
	// or 429 with Retry-After: 1, after its latency (see apifault).
	Every500, Every429 int
	// RequestsPerSecond, when positive, is the rate above which requests
	// are answered 429 with Retry-After: 1. Burst is how many may arrive
	// at once (default RequestsPerSecond/10, at least 1): a client that
	// spaces its requests at the rate never trips it.
	RequestsPerSecond float64
	Burst             int
	// Fail500Once picks phones whose first lead search is answered 500.
	Fail500Once func(phone string) bool
	// Fail500, when set, picks the lead searches answered 500: attempt
	// counts the searches for that phone, from 1. A flaky API is
	// attempt%3 == 0; a phone that exhausts every retry, always true for
	// it. It is called for every search, so it may change its mind, with
	// the fake's lock held: it must not call the Server.
	Fail500 func(phone string, attempt int) bool
	// Statuses is the catalogue (DefaultStatuses when nil).
	Statuses []Status
	// NumericFields sends ids, totals and counts as JSON numbers instead
	// of the strings Convoso usually sends.
	NumericFields bool
}

// EveryNth returns a Fail500Once picker choosing the phones whose number
// is a multiple of n: one phone in n among consecutive numbers.
func EveryNth(n int) func(phone string) bool {
	return func(phone string) bool {
		v, err := strconv.ParseUint(phone, 10, 64)
		return err == nil && n > 0 && v%uint64(n) == 0
	}
}

// APIError is a success:false answer.
type APIError struct {
	Code int
	Text string
}

// Request is one request the fake received.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	Phone  string // phone_number, "" when absent
	// Status is the HTTP status answered; Code the success:false code (0
	// when success was true or the status was not 200).
	Status int
	Code   int
}

// Server is a running fake. Its methods are safe for concurrent use, also
// while requests are served.
type Server struct {
	cfg     Config
	srv     *httptest.Server
	limiter *rate.Limiter
	faults  apifault.Faults
	counter apifault.Counter

	mu        sync.Mutex
	leads     map[string][]Lead
	dnc       map[string]bool
	errs      map[string]APIError
	failed500 map[string]bool
	searches  map[string]int
	statuses  []Status
	log       []Request
	inFlight  int
	maxFlight int
}

// NewServer starts a fake on 127.0.0.1. Close it when done.
func NewServer(cfg Config) *Server {
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	s := &Server{
		cfg:       cfg,
		leads:     map[string][]Lead{},
		dnc:       map[string]bool{},
		errs:      map[string]APIError{},
		failed500: map[string]bool{},
		searches:  map[string]int{},
		statuses:  slices.Clone(cfg.Statuses),
		faults:    apifault.Faults{Latency: cfg.Latency, LatencyMax: cfg.LatencyMax, Every500: cfg.Every500, Every429: cfg.Every429},
	}
	if s.statuses == nil {
		s.statuses = slices.Clone(DefaultStatuses)
	}
	if cfg.RequestsPerSecond > 0 {
		burst := cfg.Burst
		if burst <= 0 {
			burst = max(1, int(math.Ceil(cfg.RequestsPerSecond/10)))
		}
		s.limiter = rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), burst)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL, for base_url.
func (s *Server) URL() string { return s.srv.URL }

// Token is the auth_token the fake accepts.
func (s *Server) Token() string { return s.cfg.Token }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// SetLeads replaces phone's leads (none: the phone is not found).
func (s *Server) SetLeads(phone string, leads ...Lead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leads[phone] = slices.Clone(leads)
}

// AddDNC puts phones on the global DNC list.
func (s *Server) AddDNC(phones ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range phones {
		s.dnc[p] = true
	}
}

// SetError makes every lead search for phone answer success:false with e.
func (s *Server) SetError(phone string, e APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[phone] = e
}

// Seed gives each phone the leads and DNC entry of its profile (see
// ProfileOf), replacing what it had.
func (s *Server) Seed(phones []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range phones {
		leads, onDNC := leadsFor(p, ProfileOf(p))
		s.leads[p] = leads
		if onDNC {
			s.dnc[p] = true
		} else {
			delete(s.dnc, p)
		}
	}
}

// Leads returns phone's leads.
func (s *Server) Leads(phone string) []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.leads[phone])
}

// Requests returns the requests received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Count returns how many requests to path were answered with HTTP status
// (any path when path is ""; any status when status is 0).
func (s *Server) Count(path string, status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if (path == "" || r.Path == path) && (status == 0 || r.Status == status) {
			n++
		}
	}
	return n
}

// MaxInFlight returns the most requests the fake was answering at once
// (429s aside).
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxFlight
}

// Answered returns, per phone, how many lead searches were answered with
// success:true.
func (s *Server) Answered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, r := range s.log {
		if r.Path == leadsPath && r.Status == http.StatusOK && r.Code == 0 {
			m[r.Phone]++
		}
	}
	return m
}

func (s *Server) record(r *http.Request, phone string, status, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Phone: phone, Status: status, Code: code})
}

// serve answers one request: rate limit, latency, auth, then the endpoint.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil { // query and POST form alike
		s.record(r, "", http.StatusBadRequest, 0)
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	phone := r.Form.Get("phone_number")
	if s.limiter != nil && !s.limiter.Allow() {
		s.record(r, phone, http.StatusTooManyRequests, 0)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"success": false, "code": 429, "text": "Too many requests"})
		return
	}
	s.mu.Lock()
	s.inFlight++
	s.maxFlight = max(s.maxFlight, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	latency := s.faults.Delay()
	if s.cfg.LatencyFor != nil && phone != "" {
		latency = s.cfg.LatencyFor(phone)
	}
	if retry.Sleep(r.Context(), latency) != nil {
		return
	}
	switch status := s.faults.Status(&s.counter); status {
	case http.StatusTooManyRequests:
		s.record(r, phone, status, 0)
		w.Header().Set("Retry-After", apifault.RetryAfter)
		writeJSON(w, status, map[string]any{"success": false, "code": status, "text": "Too many requests"})
		return
	case http.StatusInternalServerError:
		s.record(r, phone, status, 0)
		writeJSON(w, status, map[string]any{"success": false, "text": "Internal server error"})
		return
	}
	if r.Form.Get("auth_token") != s.cfg.Token {
		s.fail(w, r, phone, APIError{AuthFailedCode, AuthFailedText})
		return
	}
	switch r.URL.Path {
	case leadsPath:
		s.searchLeads(w, r, phone)
	case dncPath:
		s.searchDNC(w, r, phone)
	case statusPath:
		s.mu.Lock()
		entries := make([]map[string]any, len(s.statuses))
		for i, st := range s.statuses {
			entries[i] = map[string]any{"status": st.Code, "name": st.Name, "final": yn(st.Final), "success": yn(st.Success), "dnc": yn(st.DNC), "hex_color": "#cccccc"}
		}
		s.mu.Unlock()
		s.record(r, "", http.StatusOK, 0)
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": entries})
	default:
		s.record(r, phone, http.StatusNotFound, 0)
		writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "code": 404, "text": "Not found"})
	}
}

func (s *Server) searchLeads(w http.ResponseWriter, r *http.Request, phone string) {
	offset, limit, ok := s.searchArgs(w, r, phone)
	if !ok {
		return
	}
	s.mu.Lock()
	e, hasErr := s.errs[phone]
	fail := s.cfg.Fail500Once != nil && !s.failed500[phone] && s.cfg.Fail500Once(phone)
	if fail {
		s.failed500[phone] = true
	}
	s.searches[phone]++
	if s.cfg.Fail500 != nil && s.cfg.Fail500(phone, s.searches[phone]) {
		fail = true
	}
	leads := slices.Clone(s.leads[phone])
	s.mu.Unlock()
	switch {
	case hasErr:
		s.fail(w, r, phone, e)
		return
	case fail:
		s.record(r, phone, http.StatusInternalServerError, 0)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "text": "Internal server error"})
		return
	}
	total := len(leads)
	page := leads[min(offset, total):min(offset+limit, total)]
	entries := make([]leadEntry, len(page))
	for i, l := range page {
		entries[i] = leadEntry{
			ID: s.num(l.ID), LeadID: s.num(l.ID), ListID: s.num(l.ListID),
			Status: l.Status, StatusName: s.statusName(l.Status),
			PhoneNumber: phone, PhoneCode: "1",
			FirstName: "Test", LastName: "Lead" + l.ID,
			CreatedAt: l.CreatedAt, ModifiedAt: l.ModifiedAt,
			CalledCount: s.num(strconv.Itoa(l.CalledCount)),
		}
	}
	s.record(r, phone, http.StatusOK, 0)
	writeJSON(w, http.StatusOK, leadsAnswer{Success: true, Data: leadsPage{
		Offset: offset, Limit: limit, Total: s.num(strconv.Itoa(total)), Entries: entries,
	}})
}

// leadsAnswer, leadsPage and leadEntry are a lead search's answer. They
// are structs, not maps, because the benchmarks' 50,000 searches spent a
// second of the cores they share with the measured run sorting map keys;
// their fields are in the order the maps encoded, by name, so the bytes
// served are the same.
type leadsAnswer struct {
	Data    leadsPage `json:"data"`
	Success bool      `json:"success"`
}

type leadsPage struct {
	Entries []leadEntry `json:"entries"`
	Limit   int         `json:"limit"`
	Offset  int         `json:"offset"`
	Total   any         `json:"total"`
}

type leadEntry struct {
	CalledCount any    `json:"called_count"`
	CreatedAt   string `json:"created_at"`
	FirstName   string `json:"first_name"`
	ID          any    `json:"id"`
	LastName    string `json:"last_name"`
	LeadID      any    `json:"lead_id"`
	ListID      any    `json:"list_id"`
	ModifiedAt  string `json:"modified_at"`
	PhoneCode   string `json:"phone_code"`
	PhoneNumber string `json:"phone_number"`
	Status      string `json:"status"`
	StatusName  string `json:"status_name"`
}

func (s *Server) searchDNC(w http.ResponseWriter, r *http.Request, phone string) {
	offset, limit, ok := s.searchArgs(w, r, phone)
	if !ok {
		return
	}
	s.mu.Lock()
	on := s.dnc[phone]
	s.mu.Unlock()
	var entries []map[string]any
	if on && offset == 0 && limit > 0 {
		// The fake's entries are global (campaign 0), which match any
		// campaign_id asked for.
		entries = append(entries, map[string]any{
			"id": s.num("77" + phone[6:]), "phone_number": phone, "phone_code": "1",
			"campaign_id": s.num("0"), "insert_date": "2025-10-01 08:00:00",
		})
	}
	total := 0
	if on {
		total = 1
	}
	s.record(r, phone, http.StatusOK, 0)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
		"offset": offset, "limit": limit, "total": s.num(strconv.Itoa(total)), "entries": entries,
	}})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, phone string, e APIError) {
	s.record(r, phone, http.StatusOK, e.Code)
	writeJSON(w, http.StatusOK, map[string]any{"success": false, "code": e.Code, "text": e.Text})
}

func (s *Server) statusName(code string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.statuses {
		if st.Code == code {
			return st.Name
		}
	}
	return code
}

// num renders a numeric field the way Convoso mostly does, as a string,
// or as a JSON number with NumericFields.
func (s *Server) num(v string) any {
	if s.cfg.NumericFields {
		return json.Number(v)
	}
	return v
}

func window(r *http.Request) (offset, limit int, ok bool) {
	offset, limit = 0, DefaultLimit
	var err error
	if v := r.Form.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, false
		}
	}
	if v := r.Form.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return 0, 0, false
		}
	}
	return offset, min(limit, MaxLimit), true
}

// searchArgs checks a search's phone_number and offset/limit, answering
// Convoso's error itself when one is wrong.
func (s *Server) searchArgs(w http.ResponseWriter, r *http.Request, phone string) (offset, limit int, ok bool) {
	if !validPhone(phone) {
		s.fail(w, r, phone, APIError{BadPhoneCode, BadPhoneText})
		return 0, 0, false
	}
	if offset, limit, ok = window(r); !ok {
		s.fail(w, r, phone, APIError{BadParamCode, "Invalid offset or limit"})
	}
	return offset, limit, ok
}

func validPhone(p string) bool {
	if len(p) != 10 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The values are the fake's own maps: encoding cannot fail, and a
	// client gone away is not the fake's concern.
	_ = json.NewEncoder(w).Encode(v)
}
