package bland

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl/retry"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

const day1 = "2025-12-01"

func testClient(srv *blandtest.Server) *Client {
	return &Client{
		BaseURL: srv.URL(), Key: srv.Key(), Limit: 1000, MaxPages: 10,
		HTTP: &retry.Client{MaxRetries: 3, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
			Timeout: 5 * time.Second, Secrets: []string{srv.Key()}},
	}
}

// fetch lists a date, collecting the calls delivered.
func fetch(ctx context.Context, c *Client, date string) (*Day, []Call, error) {
	var calls []Call
	day, err := c.FetchDate(ctx, date, func(batch []Call) error {
		calls = append(calls, batch...)
		return nil
	})
	return day, calls, err
}

// checkDay compares a listed day with what the fake served.
func checkDay(t *testing.T, srv *blandtest.Server, day *Day, calls []Call) {
	t.Helper()
	st := srv.Stats(day.Date)
	if len(calls) != st.Unique || day.Calls != len(calls) || day.Duplicates != st.Duplicates || day.TotalCount != st.Served {
		t.Fatalf("%s: %d calls delivered (day says %d), %d duplicates, total %d; fake has %+v", day.Date, len(calls), day.Calls, day.Duplicates, day.TotalCount, st)
	}
	var want []blandtest.Call
	for _, c := range srv.Calls(day.Date) {
		if !c.Duplicate {
			want = append(want, c)
		}
	}
	for i, c := range calls {
		w := want[i]
		if c.ID != w.ID || !c.CreatedAt.Equal(w.CreatedAt) || c.To != w.To || c.From != w.From || c.Inbound != w.Inbound ||
			c.BatchID != w.BatchID || c.Status != w.Status || c.AnsweredBy != w.AnsweredBy || c.CallLength != w.CallLength || string(c.Metadata) != w.Metadata {
			t.Fatalf("call %d:\n got %+v\nwant %+v", i, c, w)
		}
	}
}

func TestFetchDateOneRequest(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 1, CallsPerDay: 40})
	defer srv.Close()
	c := testClient(srv)
	c.Query = map[string]string{"inbound": "false"}
	day, calls, err := fetch(context.Background(), c, day1)
	if err != nil {
		t.Fatal(err)
	}
	checkDay(t, srv, day, calls)
	if day.Requests != 1 || srv.RequestsFor(day1) != 1 || day.Pages != 1 {
		t.Errorf("requests %d (fake saw %d), pages %d; want one request", day.Requests, srv.RequestsFor(day1), day.Pages)
	}
	q := srv.Requests()[0].Query
	if q.Get("limit") != "1000" || q.Get("inbound") != "false" || q.Has("from") || q.Has("start_date") {
		t.Errorf("query %v", q)
	}
	if day.Bytes <= 0 {
		t.Errorf("bytes %d", day.Bytes)
	}
}

func TestFetchDateFaults(t *testing.T) {
	tests := []struct {
		name     string
		faults   []blandtest.Fault
		wantReqs int
		wantErr  []string // substrings; nil means success
		noRetry  bool
	}{
		{name: "500 429 200", faults: []blandtest.Fault{{Date: day1, Status: 500}, {Date: day1, Status: 429, RetryAfter: "1"}}, wantReqs: 3},
		{name: "cut body once", faults: []blandtest.Fault{{Date: day1, CutAfter: 700}}, wantReqs: 2},
		{name: "cut body always", faults: []blandtest.Fault{{Date: day1, CutAfter: 700, Times: -1}}, wantReqs: 4,
			wantErr: []string{"date 2025-12-01", "GET /v1/calls", "reading the response", "gave up after 4 attempts"}},
		{name: "500 always", faults: []blandtest.Fault{{Date: day1, Status: 500, Times: -1}}, wantReqs: 4,
			wantErr: []string{"date 2025-12-01", "GET /v1/calls: 500 Internal Server Error: injected 500"}},
		{name: "403 at once", faults: []blandtest.Fault{{Date: day1, Status: 403}}, wantReqs: 1,
			wantErr: []string{"date 2025-12-01", "GET /v1/calls: 403 Forbidden: injected 403"}},
		{name: "fault on another date", faults: []blandtest.Fault{{Date: "2025-12-02", Status: 500, Times: -1}}, wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := blandtest.NewServer(blandtest.Config{Seed: 2, CallsPerDay: 30, Faults: tt.faults})
			defer srv.Close()
			day, calls, err := fetch(context.Background(), testClient(srv), day1)
			if got := srv.RequestsFor(day1); got != tt.wantReqs {
				t.Errorf("fake saw %d requests, want %d", got, tt.wantReqs)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkDay(t, srv, day, calls)
				if day.Requests != tt.wantReqs {
					t.Errorf("day.Requests = %d, want %d", day.Requests, tt.wantReqs)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %d calls and no error", len(calls))
			}
			if day != nil {
				t.Errorf("a failed date must bring no Day, got %+v", day)
			}
			// Calls delivered before the failure (a cut-off body streams
			// its first calls) are each delivered once, retries or not.
			ids := map[string]bool{}
			for _, c := range calls {
				if ids[c.ID] {
					t.Errorf("call %s delivered twice", c.ID)
				}
				ids[c.ID] = true
			}
			if len(calls) >= srv.Stats(day1).Unique {
				t.Errorf("%d calls delivered by a failed date of %d", len(calls), srv.Stats(day1).Unique)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFetchDateUnauthorized(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{})
	defer srv.Close()
	c := testClient(srv)
	c.Key = "sk-wrong-key-123"
	c.HTTP.Secrets = []string{c.Key}
	_, _, err := fetch(context.Background(), c, day1)
	if err == nil {
		t.Fatal("no error")
	}
	if n := srv.RequestsFor(day1); n != 1 {
		t.Errorf("%d requests; a 401 must not be retried", n)
	}
	for _, w := range []string{"date 2025-12-01", "GET /v1/calls", "401 Unauthorized", "Invalid API key", "check the API key"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "sk-wrong") {
		t.Errorf("error leaks the key: %q", err)
	}
}

func TestFetchDatePaging(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 3, CallsPerDay: 23})
	defer srv.Close()
	c := testClient(srv)
	c.Limit = 10
	day, calls, err := fetch(context.Background(), c, day1)
	if err != nil {
		t.Fatal(err)
	}
	checkDay(t, srv, day, calls)
	if day.Pages != 3 || day.Requests != 3 {
		t.Errorf("pages %d requests %d, want 3", day.Pages, day.Requests)
	}
	var windows []string
	for _, r := range srv.Requests() {
		windows = append(windows, r.Query.Get("from")+"-"+r.Query.Get("to"))
	}
	if got := strings.Join(windows, ","); got != "-,10-20,20-30" {
		t.Errorf("windows %s", got)
	}
}

// TestFetchDateIncomplete checks that a date listed short says what
// happened and what would help, which differs with the way the API fell
// short: raising limit is advised only when limit is what held the date
// back.
func TestFetchDateIncomplete(t *testing.T) {
	tests := []struct {
		name                     string
		calls, limit, maxPages   int
		broken, maxPage, overcnt int
		pageCap                  bool
		got, requests            int
		want, not                []string
	}{
		{name: "the issue's case: the API serves 1000 of 2500, the same ones again", calls: 2500, limit: 10000, maxPages: 20, broken: 1000,
			got: 1000, requests: 2,
			want: []string{"date 2025-12-01: GET /v1/calls: the API reports 2500 calls (total_count) but listing returned 1000 distinct ones in 2 pages",
				"the page from=1000 to=11000 returned 1000 calls all listed already", "paging serves the same calls again",
				"the API returned at most 1000 calls to requests asking for limit = 10000, so raising limit or max_pages will not help",
				`; set on_incomplete = "warn" to keep the 1000 calls listed and mark the date incomplete`, "no setting of bland_calls lists this date whole"},
			not: []string{"raise limit", "raise max_pages"}},
		{name: "broken paging, limit below the count", calls: 30, limit: 10, maxPages: 10, broken: 10, got: 10, requests: 2,
			want: []string{"returned 10 distinct ones in 2 pages", "the page from=10 to=20 returned 10 calls all listed already",
				"raise limit (now 10) to at least 30 so that one request returns the whole date", `on_incomplete = "warn"`},
			not: []string{"will not help"}},
		{name: "page cap, limit below the count", calls: 30, limit: 10, maxPages: 2, pageCap: true, got: 20, requests: 2,
			want: []string{"returned 20 distinct ones in 2 pages", "paging stopped at max_pages (2), every page bringing new calls (at most 10 a page)",
				"raise limit (now 10) to at least 30 so that one request returns the whole date, or max_pages to at least 3"}},
		{name: "page cap, the API serves fewer than limit", calls: 30, limit: 10000, maxPages: 2, maxPage: 7, pageCap: true, got: 14, requests: 2,
			want: []string{"paging stopped at max_pages (2), every page bringing new calls (at most 7 a page)",
				"the API returned at most 7 calls to requests asking for limit = 10000, so raising limit will not help: raise max_pages to at least 5"},
			not: []string{"raise limit"}},
		{name: "total_count above what the listing holds", calls: 30, limit: 1000, maxPages: 10, overcnt: 4, got: 30, requests: 2,
			want: []string{"the API reports 34 calls (total_count) but listing returned 30 distinct ones in 2 pages",
				"the page from=30 to=1030 came back empty with 4 calls still missing", "raising limit or max_pages will not help: no setting of bland_calls lists this date whole"},
			not: []string{"raise limit", "raise max_pages", "at most"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := blandtest.Config{Seed: 4, CallsPerDay: tt.calls, NoDuplicate: true, PayloadBytes: -1, MaxPage: tt.maxPage}
			if tt.broken > 0 {
				cfg.Broken = map[string]int{day1: tt.broken}
			}
			if tt.overcnt > 0 {
				cfg.Overcount = map[string]int{day1: tt.overcnt}
			}
			srv := blandtest.NewServer(cfg)
			defer srv.Close()
			c := testClient(srv)
			c.Limit, c.MaxPages = tt.limit, tt.maxPages
			day, calls, err := fetch(context.Background(), c, day1)
			var ie *IncompleteError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an IncompleteError", err)
			}
			if ie.PageCap != tt.pageCap || day == nil || day.Calls != ie.Got || len(calls) != tt.got || ie.Got != tt.got {
				t.Errorf("IncompleteError %+v, day %+v, %d calls delivered, want %d", ie, day, len(calls), tt.got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nsays %q", err, w)
				}
			}
			if !strings.Contains(ie.Warning(), `the date is marked incomplete (on_incomplete = "warn")`) || strings.Contains(ie.Warning(), "or set on_incomplete") {
				t.Errorf("warning %q", ie.Warning())
			}
			if n := srv.RequestsFor(day1); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestFetchDateCancelDuringBackoff(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Faults: []blandtest.Fault{{Status: 503, Times: -1}}})
	defer srv.Close()
	c := testClient(srv)
	c.HTTP.BackoffBase, c.HTTP.BackoffMax, c.HTTP.FirstRetry = time.Hour, time.Hour, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := fetch(ctx, c, day1)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("returned after %s", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := srv.RequestsFor(day1); n != 1 {
		t.Errorf("%d requests", n)
	}
}

func TestFetchDateTimeout(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Faults: []blandtest.Fault{{Latency: 3 * time.Second}}})
	defer srv.Close()
	c := testClient(srv)
	c.HTTP.Timeout = 200 * time.Millisecond
	day, calls, err := fetch(context.Background(), c, day1)
	if err != nil {
		t.Fatal(err)
	}
	checkDay(t, srv, day, calls)
	if day.Requests != 2 {
		t.Errorf("%d requests, want a timed-out one then a good one", day.Requests)
	}
}

// TestFetchDateStreamsThroughRetry cuts a big date's body after several
// batches were delivered and after its duplicate call: the retry must
// neither deliver those calls again nor count the duplicate twice.
func TestFetchDateStreamsThroughRetry(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 4, CallsPerDay: 1000,
		Faults: []blandtest.Fault{{Date: day1, CutAfter: 600_000}}})
	defer srv.Close()
	c := testClient(srv)
	var calls []Call
	batches := 0
	day, err := c.FetchDate(context.Background(), day1, func(b []Call) error {
		batches++
		calls = append(calls, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkDay(t, srv, day, calls)
	if day.Requests != 2 || !srv.Requests()[0].Cut {
		t.Fatalf("requests %d, first cut %v: the fault did not hit", day.Requests, srv.Requests()[0].Cut)
	}
	if batches < 3 {
		t.Errorf("%d batches: calls were not streamed", batches)
	}
}

// TestFetchDateDeliverError stops listing at deliver's error, unretried.
func TestFetchDateDeliverError(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 4, CallsPerDay: 1000})
	defer srv.Close()
	stop := errors.New("downstream stopped")
	_, err := testClient(srv).FetchDate(context.Background(), day1, func([]Call) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want deliver's", err)
	}
	// The fake logs a request when its handler returns, which may be after
	// the client hung up.
	for deadline := time.Now().Add(2 * time.Second); srv.RequestsFor(day1) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.RequestsFor(day1); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
