package bland

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/etlhq/etl/sources/bland/blandtest"
	"github.com/zclconf/go-cty/cty"
)

const addr = "source.bland_calls.calls"

// run is one run of testdata/calls.hcl against srv.
type run struct {
	res    *etl.Result
	err    error
	c      *etltest.Collector
	events []etl.Event
	// saved is what the state holds after the run.
	saved *etl.Checkpoint
}

func (r *run) block() etl.BlockResult {
	for _, b := range r.res.Blocks {
		if b.Addr.String() == addr {
			return b
		}
	}
	return etl.BlockResult{}
}

func (r *run) eventsOf(typ string) []etl.Event {
	var out []etl.Event
	for _, e := range r.events {
		if e.Type == typ && e.Block == addr {
			out = append(out, e)
		}
	}
	return out
}

// runPipeline loads testdata/calls.hcl with vars and runs it with state
// st (a new one in memory when nil): a run with the state of an earlier
// one resumes it.
func runPipeline(t *testing.T, ctx context.Context, srv *blandtest.Server, st *store.Store, vars ...string) *run {
	t.Helper()
	t.Setenv("BLAND_API_KEY", srv.Key())
	reg := etl.NewRegistry()
	Register(reg)
	r := &run{c: &etltest.Collector{}}
	etltest.Register(reg, r.c, nil)
	p, diags := etl.Load("testdata/calls.hcl", etl.LoadOptions{Registry: reg, Vars: append([]string{"bland_url=" + srv.URL()}, vars...)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var mu sync.Mutex
	opts := etl.RunOptions{
		Logger: slog.New(slog.DiscardHandler),
		Events: etl.ReporterFunc(func(e etl.Event) {
			mu.Lock()
			r.events = append(r.events, e)
			mu.Unlock()
		}),
		State: st,
	}
	if st == nil {
		opts.State = store.OpenMem()
		defer opts.State.Close()
	}
	r.res, r.err = p.Run(ctx, opts)
	saved, err := etl.ReadCheckpoint(opts.State)
	if err != nil {
		t.Fatal(err)
	}
	r.saved = saved
	return r
}

func dateVars(start, end string) []string {
	return []string{"start_date=" + start, "end_date=" + end}
}

// wantRecords checks the collected records against the fake's calls for
// dates, in order.
func wantRecords(t *testing.T, srv *blandtest.Server, r *run, dates ...string) {
	t.Helper()
	recs := r.c.Records["default"]
	i := 0
	for _, d := range dates {
		for _, c := range srv.Calls(d) {
			if c.Duplicate {
				continue
			}
			if i >= len(recs) {
				t.Fatalf("only %d records", len(recs))
			}
			rec := recs[i]
			i++
			if rec.String("call_id") != c.ID || rec.String("date") != d {
				t.Fatalf("record %d: %s on %s, want %s on %s", i-1, rec.String("call_id"), rec.String("date"), c.ID, d)
			}
			at, err := etl.ParseTime(rec["created_at"])
			if err != nil || !at.Equal(c.CreatedAt) {
				t.Fatalf("record %s: created_at %v (%v), want %v", c.ID, rec["created_at"], err, c.CreatedAt)
			}
		}
	}
	if i != len(recs) {
		t.Fatalf("%d records, want %d", len(recs), i)
	}
	if got, want := strings.Join(r.c.Marks["default"], ","), strings.Join(dates, ","); got != want {
		t.Errorf("partitions %s, want %s", got, want)
	}
}

func TestSourceRun(t *testing.T) {
	// The first date is slow, so that with concurrency 3 the later dates
	// arrive first: records must still come out in date order.
	srv := blandtest.NewServer(blandtest.Config{Seed: 7, CallsPerDay: 25,
		Faults: []blandtest.Fault{{Date: "2025-12-01", Latency: 300 * time.Millisecond}}})
	defer srv.Close()
	r := runPipeline(t, context.Background(), srv, nil, append(dateVars("2025-12-01", "2025-12-03"), "concurrency=3")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	dates := []string{"2025-12-01", "2025-12-02", "2025-12-03"}
	wantRecords(t, srv, r, dates...)
	wantDatesEvent(t, r, "source.bland_calls.calls: 3 dates to fetch, 2025-12-01 to 2025-12-03: at least 3 requests (one per date", 3, 0)
	for _, d := range dates {
		if n := srv.RequestsFor(d); n != 1 {
			t.Errorf("%s: %d requests, want exactly one", d, n)
		}
	}
	if q := srv.Requests()[0].Query; q.Get("inbound") != "false" || q.Get("limit") != "10000" {
		t.Errorf("query %v", q)
	}

	// Counts: per block and per date.
	b := r.block()
	var invalid, dups int64
	for _, d := range dates {
		st := srv.Stats(d)
		invalid += int64(st.InvalidPhones)
		dups += int64(st.Duplicates)
	}
	if b.Dropped["duplicate call_id"] != dups || b.Counts["invalid phones"] != invalid || b.Counts["requests"] != 3 || b.Counts["bytes"] <= 0 {
		t.Errorf("block counts %+v dropped %+v; want %d duplicates, %d invalid", b.Counts, b.Dropped, dups, invalid)
	}
	done := r.saved.Sources[addr]
	if len(done) != 3 {
		t.Fatalf("checkpoint %+v", r.saved.Sources)
	}
	for i, pd := range done {
		st := srv.Stats(dates[i])
		want := map[string]int64{"calls": int64(st.Unique), "duplicates": int64(st.Duplicates), "invalid_phones": int64(st.InvalidPhones), "requests": 1}
		for k, v := range want {
			if pd.Info[k] != v {
				t.Errorf("%s: info %s = %d, want %d", pd.Name, k, pd.Info[k], v)
			}
		}
		if pd.Info["bytes"] <= 0 || pd.Incomplete {
			t.Errorf("%s: %+v", pd.Name, pd)
		}
	}
	if ev := r.eventsOf(etl.EventProgress); len(ev) != 3 || ev[0].Partition != "2025-12-01" || !strings.Contains(ev[0].Message, "calls") {
		t.Errorf("progress events %+v", ev)
	}
}

func TestSourceRecordFields(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 8, CallsPerDay: 60})
	defer srv.Close()
	r := runPipeline(t, context.Background(), srv, nil, dateVars("2025-12-01", "2025-12-01")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	byID := map[string]etl.Record{}
	for _, rec := range r.c.Records["default"] {
		for _, f := range Fields {
			if _, ok := rec[f.Name]; !ok {
				t.Fatalf("record lacks declared field %s", f.Name)
			}
		}
		if len(rec) != len(Fields) {
			t.Fatalf("record has %d fields, %d declared", len(rec), len(Fields))
		}
		byID[rec.String("call_id")] = rec
	}
	seenInbound, seenInvalid := false, false
	for _, c := range srv.Calls("2025-12-01") {
		rec := byID[c.ID]
		raw := c.LeadPhone()
		if c.Inbound {
			seenInbound = true
			if rec.String("raw_phone") != c.From {
				t.Errorf("inbound %s: raw_phone %q, want from %q", c.ID, rec.String("raw_phone"), c.From)
			}
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, raw)
		valid := len(digits) == 10 && digits[0] >= '2' || len(digits) == 11 && digits[0] == '1' && digits[1] >= '2'
		switch {
		case valid:
			if p := rec.String("phone"); p != digits[len(digits)-10:] || !rec["phone_invalid_reason"].IsNull() {
				t.Errorf("%s: raw %q gave phone %q reason %v", c.ID, raw, p, rec["phone_invalid_reason"])
			}
		default:
			seenInvalid = true
			if !rec["phone"].IsNull() || rec.String("phone_invalid_reason") == "" {
				t.Errorf("%s: invalid raw %q gave phone %v reason %v", c.ID, raw, rec["phone"], rec["phone_invalid_reason"])
			}
		}
		if rec["inbound"] != cty.BoolVal(c.Inbound) || rec.String("status") != c.Status || rec.String("batch_id") != c.BatchID {
			t.Errorf("%s: fields %v", c.ID, rec)
		}
		if c.BatchID == "" && !rec["batch_id"].IsNull() {
			t.Errorf("%s: null batch_id became %v", c.ID, rec["batch_id"])
		}
		if l, _ := rec["call_length"].AsBigFloat().Float64(); l != c.CallLength {
			t.Errorf("%s: call_length %v, want %v", c.ID, l, c.CallLength)
		}
		if !rec["metadata"].Type().IsObjectType() || rec["metadata"].GetAttr("campaign") != cty.StringVal("spring") {
			t.Errorf("%s: metadata %#v", c.ID, rec["metadata"])
		}
	}
	if !seenInbound || !seenInvalid {
		t.Error("the fake served no inbound call or no invalid phone: the test proves nothing")
	}
}

func TestSourceFaults(t *testing.T) {
	tests := []struct {
		name     string
		faults   []blandtest.Fault
		vars     []string
		wantErr  []string // nil: success
		wantReqs int      // for 2025-12-02
		dates    []string // partitions that must come through, in order
	}{
		{name: "500 429 200 yields the data once",
			faults:   []blandtest.Fault{{Date: "2025-12-02", Status: 500}, {Date: "2025-12-02", Status: 429, RetryAfter: "1"}},
			wantReqs: 3, dates: []string{"2025-12-01", "2025-12-02", "2025-12-03"}},
		{name: "cut body retried",
			faults:   []blandtest.Fault{{Date: "2025-12-02", CutAfter: 900}},
			wantReqs: 2, dates: []string{"2025-12-01", "2025-12-02", "2025-12-03"}},
		{name: "cut body every time is an error, never a short date",
			faults:   []blandtest.Fault{{Date: "2025-12-02", CutAfter: 900, Times: -1}},
			wantErr:  []string{addr, "date 2025-12-02", "GET /v1/calls", "reading the response", "gave up after 4 attempts"},
			wantReqs: 4, dates: []string{"2025-12-01"}},
		{name: "404 fails at once",
			faults:   []blandtest.Fault{{Date: "2025-12-02", Status: 404}},
			wantErr:  []string{"date 2025-12-02", "GET /v1/calls: 404 Not Found"},
			wantReqs: 1, dates: []string{"2025-12-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := blandtest.NewServer(blandtest.Config{Seed: 11, CallsPerDay: 30, Faults: tt.faults})
			defer srv.Close()
			r := runPipeline(t, context.Background(), srv, nil, append(dateVars("2025-12-01", "2025-12-03"), "concurrency=1")...)
			if n := srv.RequestsFor("2025-12-02"); n != tt.wantReqs {
				t.Errorf("%d requests for 2025-12-02, want %d", n, tt.wantReqs)
			}
			if tt.wantErr == nil {
				if r.err != nil {
					t.Fatal(r.err)
				}
				wantRecords(t, srv, r, tt.dates...)
				if got := r.block().Counts["requests"]; got != int64(tt.wantReqs+2) {
					t.Errorf("requests counter %d, want %d", got, tt.wantReqs+2)
				}
				retries, n429 := int64(tt.wantReqs-1), int64(0)
				for _, f := range tt.faults {
					if f.Status == 429 {
						n429++
					}
				}
				if c := r.block().Counts; c["retries"] != retries || c["429s"] != n429 {
					t.Errorf("retries %d, 429s %d; want %d, %d", c["retries"], c["429s"], retries, n429)
				}
				return
			}
			if r.err == nil {
				t.Fatal("run succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("error %q lacks %q", r.err, w)
				}
			}
			wantRecords(t, srv, r, tt.dates...)
		})
	}
}

func TestSourceUnauthorized(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{APIKey: "the-right-key"})
	defer srv.Close()
	t.Setenv("BLAND_API_KEY", "sk-live-WRONG")
	reg := etl.NewRegistry()
	Register(reg)
	c := &etltest.Collector{}
	etltest.Register(reg, c, nil)
	p, diags := etl.Load("testdata/calls.hcl", etl.LoadOptions{Registry: reg, Vars: append(dateVars("2025-12-01", "2025-12-05"), "bland_url="+srv.URL(), "backoff=1h")})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	start := time.Now()
	_, err := p.Run(context.Background(), etl.RunOptions{Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("no error")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s: a 401 must fail at once", time.Since(start))
	}
	if strings.Contains(err.Error(), "WRONG") || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "GET /v1/calls") {
		t.Errorf("error %q", err)
	}
	if n := srv.RequestsFor("2025-12-01"); n != 1 {
		t.Errorf("%d requests for the first date, want 1 (no retry)", n)
	}
}

func TestSourceCancelDuringBackoff(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Faults: []blandtest.Fault{{Status: 503, Times: -1}}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	r := runPipeline(t, ctx, srv, nil, append(dateVars("2025-12-01", "2025-12-04"), "backoff=1h")...)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("run returned %s after the start; want promptly after the cancel", el)
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", r.err)
	}
}

func TestSourcePaging(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 12, CallsPerDay: 23})
	defer srv.Close()
	r := runPipeline(t, context.Background(), srv, nil, append(dateVars("2025-12-01", "2025-12-02"), "limit=10")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantRecords(t, srv, r, "2025-12-01", "2025-12-02")
	if n := srv.RequestsFor("2025-12-01"); n != 3 {
		t.Errorf("%d requests, want 3 pages", n)
	}
}

func TestSourceBrokenPaging(t *testing.T) {
	for _, mode := range []string{"fail", "warn"} {
		t.Run(mode, func(t *testing.T) {
			srv := blandtest.NewServer(blandtest.Config{Seed: 13, CallsPerDay: 30, NoDuplicate: true,
				Broken: map[string]int{"2025-12-02": 10}})
			defer srv.Close()
			r := runPipeline(t, context.Background(), srv, nil,
				append(dateVars("2025-12-01", "2025-12-03"), "limit=10", "on_incomplete="+mode)...)
			if mode == "fail" {
				if r.err == nil {
					t.Fatal("run succeeded on a truncated date")
				}
				for _, w := range []string{"date 2025-12-02", "reports 30 calls", "returned 10 distinct", "raise limit"} {
					if !strings.Contains(r.err.Error(), w) {
						t.Errorf("error %q lacks %q", r.err, w)
					}
				}
				if got := r.c.Marks["default"]; len(got) != 1 || got[0] != "2025-12-01" {
					t.Errorf("partitions %v, want only 2025-12-01", got)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if got := strings.Join(r.c.Marks["default"], ","); got != "2025-12-01,2025-12-02,2025-12-03" {
				t.Errorf("partitions %s", got)
			}
			if n := len(r.c.Records["default"]); n != 30+10+30 {
				t.Errorf("%d records, want 70", n)
			}
			done := r.saved.Sources[addr]
			if len(done) != 3 || !done[1].Incomplete || done[0].Incomplete || done[1].Info["calls"] != 10 || done[1].Info["total_count"] != 30 {
				t.Errorf("checkpoint %+v", done)
			}
			if w := r.eventsOf(etl.EventWarning); len(w) != 1 || w[0].Partition != "2025-12-02" || !strings.Contains(w[0].Message, "raise limit") {
				t.Errorf("warnings %+v", w)
			}
		})
	}
}

// doneTwoDates returns a state in which 2025-12-01 and 2025-12-02 are
// done: that of a run of those two dates.
func doneTwoDates(t *testing.T, srv *blandtest.Server) *store.Store {
	t.Helper()
	st := store.OpenMem()
	t.Cleanup(func() { st.Close() })
	r := runPipeline(t, context.Background(), srv, st, dateVars("2025-12-01", "2025-12-02")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if done := r.saved.Sources[addr]; len(done) != 2 {
		t.Fatalf("checkpoint %+v, want 2 dates done", r.saved.Sources)
	}
	return st
}

func TestSourceResume(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 14, CallsPerDay: 5})
	defer srv.Close()
	st := doneTwoDates(t, srv)
	r := runPipeline(t, context.Background(), srv, st, dateVars("2025-12-01", "2025-12-04")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantRecords(t, srv, r, "2025-12-03", "2025-12-04")
	// One request per date in all: the first run's, for the dates it did.
	for d, want := range map[string]int{"2025-12-01": 1, "2025-12-02": 1, "2025-12-03": 1, "2025-12-04": 1} {
		if n := srv.RequestsFor(d); n != want {
			t.Errorf("%s: %d requests, want %d", d, n, want)
		}
	}
	wantDatesEvent(t, r, "source.bland_calls.calls: 2 dates to fetch of 2025-12-01 to 2025-12-04 (2 done in the checkpoint): at least 2 requests", 2, 2)
}

// wantDatesEvent checks the info event that says, before any request, how
// many dates the run fetches and how many requests that takes at least.
func wantDatesEvent(t *testing.T, r *run, msg string, dates, done int) {
	t.Helper()
	infos := r.eventsOf(etl.EventInfo)
	if len(infos) != 1 {
		t.Fatalf("info events %+v, want one", infos)
	}
	e := infos[0]
	if !strings.HasPrefix(e.Message, msg) || e.Data["dates"] != dates || e.Data["done"] != done || e.Data["requests_at_least"] != dates {
		t.Errorf("info event %q %v, want %q... with %d dates, %d done", e.Message, e.Data, msg, dates, done)
	}
}

func TestSourceReportsDatesAllDone(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 14, CallsPerDay: 5})
	defer srv.Close()
	st := doneTwoDates(t, srv)
	before := len(srv.Requests())
	r := runPipeline(t, context.Background(), srv, st, dateVars("2025-12-01", "2025-12-02")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantDatesEvent(t, r, "source.bland_calls.calls: all 2 dates from 2025-12-01 to 2025-12-02 are done in the checkpoint: no request", 0, 2)
	if n := len(srv.Requests()) - before; n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestConfigValidate(t *testing.T) {
	reg := etl.NewRegistry()
	Register(reg)
	etltest.Register(reg, &etltest.Collector{}, nil)
	_, diags := etl.Load("testdata/invalid.hcl", etl.LoadOptions{Registry: reg})
	want := map[string]int{ // summary -> line it points at
		"Empty API key":                  2,
		"start_date is after end_date":   3,
		"Invalid on_incomplete":          5,
		"Invalid concurrency":            6,
		"Reserved query parameter":       7,
		`Invalid value for "start_date"`: 12,
	}
	got := map[string]int{}
	for _, d := range diags {
		if d.Subject != nil {
			got[d.Summary] = d.Subject.Start.Line
		}
	}
	for s, line := range want {
		if got[s] != line {
			t.Errorf("diagnostic %q at line %d, want line %d (all: %v)", s, got[s], line, diags)
		}
	}
	if len(diags.Errs()) != len(want) {
		t.Errorf("%d errors, want %d: %v", len(diags.Errs()), len(want), diags)
	}
}

func TestFingerprint(t *testing.T) {
	mk := func(end string, q map[string]string, key string) map[string]string {
		c := defaultConfig()
		c.APIKey = key
		c.StartDate.DecodeValue(cty.StringVal("2025-12-01"))
		c.EndDate.DecodeValue(cty.StringVal(end))
		c.Query = q
		return c.Fingerprint()
	}
	a := mk("2025-12-05", map[string]string{"inbound": "false", "batch_id": "b"}, "sk-1")
	b := mk("2025-12-31", map[string]string{"batch_id": "b", "inbound": "false"}, "sk-2")
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("widening end_date or changing the key changed the fingerprint: %v vs %v", a, b)
	}
	if c := mk("2025-12-05", map[string]string{"inbound": "true"}, "sk-1"); fmt.Sprint(c) == fmt.Sprint(a) {
		t.Error("changing a filter kept the fingerprint")
	}
	if strings.Contains(fmt.Sprint(a), "sk-") {
		t.Errorf("fingerprint holds the key: %v", a)
	}
}

// Each date's mark states its bytes and invalid phones under etl's keys,
// which the stats sink reads without knowing this source; the checkpoint
// keeps them under the same names.
func TestMarkStatesCountsUnderEtlKeys(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 7, CallsPerDay: 25, InvalidEvery: 5})
	defer srv.Close()
	r := runPipeline(t, context.Background(), srv, nil, dateVars("2025-12-01", "2025-12-02")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var bytes, invalid int64
	for _, p := range r.saved.Sources[addr] {
		m := &etl.Mark{Info: p.Info}
		b, okB := etl.InfoBytes.Get(m)
		n, okN := etl.InfoInvalidPhones.Get(m)
		if !okB || !okN || b <= 0 {
			t.Errorf("%s: info %v lacks bytes or invalid_phones", p.Name, p.Info)
		}
		bytes += b
		invalid += n
	}
	if c := r.block().Counts; bytes != c["bytes"] || invalid != c["invalid phones"] || invalid == 0 {
		t.Errorf("marks state %d bytes and %d invalid phones; the block counted %d and %d", bytes, invalid, c["bytes"], c["invalid phones"])
	}
}

// Today's date (UTC) is not over: its calls go through, but it is not
// checkpointed, so that the next run lists it again, whole; the dates
// before it are checkpointed as usual.
func TestSourceTodayIsReadAgain(t *testing.T) {
	setNow(t, time.Date(2025, 12, 2, 15, 0, 0, 0, time.UTC))
	srv := blandtest.NewServer(blandtest.Config{Seed: 3, CallsPerDay: 20, PhonePool: 30})
	defer srv.Close()
	st := store.OpenMem()
	defer st.Close()
	r := runPipeline(t, context.Background(), srv, st, dateVars("2025-12-01", "2025-12-02")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantRecords(t, srv, r, "2025-12-01", "2025-12-02")
	if done := r.saved.Sources[addr]; len(done) != 1 || done[0].Name != "2025-12-01" {
		t.Fatalf("checkpoint holds %+v, want 2025-12-01 only", done)
	}
	var open bool
	for _, e := range r.eventsOf(etl.EventProgress) {
		if e.Partition == "2025-12-02" && strings.Contains(e.Message, "not over: not checkpointed") {
			open = true
		}
	}
	if !open {
		t.Error("the report does not say today is not checkpointed")
	}
	before := srv.RequestsFor("2025-12-02")
	r = runPipeline(t, context.Background(), srv, st, dateVars("2025-12-01", "2025-12-02")...)
	if r.err != nil || srv.RequestsFor("2025-12-02") != before+1 || srv.RequestsFor("2025-12-01") != 1 {
		t.Errorf("second run: %v; requests for today %d (was %d), for yesterday %d", r.err, srv.RequestsFor("2025-12-02"), before, srv.RequestsFor("2025-12-01"))
	}
}
