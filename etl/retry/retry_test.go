package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

// script serves the given statuses in turn (then 200 "ok"), recording each
// request's arrival time.
type script struct {
	mu       sync.Mutex
	steps    []step
	arrivals []time.Time
}

type step struct {
	status     int
	retryAfter string
	body       string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.arrivals)
	s.arrivals = append(s.arrivals, time.Now())
	st := step{status: 200, body: "ok"}
	if n < len(s.steps) {
		st = s.steps[n]
	}
	s.mu.Unlock()
	if st.retryAfter != "" {
		w.Header().Set("Retry-After", st.retryAfter)
	}
	w.WriteHeader(st.status)
	io.WriteString(w, st.body)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

func fastClient() *Client {
	return &Client{MaxRetries: 3, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond}
}

func get(t *testing.T, c *Client, ctx context.Context, url string) (string, int, error) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	n, err := c.Do(ctx, req, func(r *http.Response) error {
		b, err := io.ReadAll(r.Body)
		got += string(b)
		return err
	})
	return got, n, err
}

func TestDoSequences(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		wantReqs  int
		wantErr   string // substring; "" means success
		retryable bool
	}{
		{name: "ok at once", wantReqs: 1},
		{name: "500 429 200", steps: []step{{status: 500}, {status: 429}}, wantReqs: 3},
		{name: "502 503 504 200", steps: []step{{status: 502}, {status: 503}, {status: 504}}, wantReqs: 4},
		{name: "retries exhausted", steps: []step{{status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}},
			wantReqs: 4, wantErr: "500 Internal Server Error: boom (gave up after 4 attempts)", retryable: true},
		{name: "401 fails at once", steps: []step{{status: 401, body: `{"status":"error","message":"invalid key"}`}},
			wantReqs: 1, wantErr: "GET /v1/calls: 401 Unauthorized: invalid key (the credentials were refused: check the API key or token the block is given"},
		{name: "404 fails at once", steps: []step{{status: 404, body: "no such thing"}}, wantReqs: 1, wantErr: "404 Not Found: no such thing"},
		{name: "400 after a 500", steps: []step{{status: 500}, {status: 400, body: `{"error":"bad"}`}}, wantReqs: 2, wantErr: "400 Bad Request: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.steps {
				if tt.steps[i].body == "" && tt.steps[i].status >= 500 {
					tt.steps[i].body = `{"message":"boom"}`
				}
			}
			s := &script{steps: tt.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c := fastClient()
			var attempts []Attempt
			c.OnAttempt = func(a Attempt) { attempts = append(attempts, a) }
			got, n, err := get(t, c, context.Background(), srv.URL+"/v1/calls?auth_token=SECRET&x=1")
			if n != tt.wantReqs || s.count() != tt.wantReqs || len(attempts) != tt.wantReqs {
				t.Errorf("requests: Do says %d, server saw %d, hook saw %d; want %d", n, s.count(), len(attempts), tt.wantReqs)
			}
			if tt.wantErr == "" {
				if err != nil || got != "ok" {
					t.Fatalf("got %q, %v; want ok", got, err)
				}
				if got != "ok" {
					t.Errorf("handler saw %q, want the body once", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "x=1") {
				t.Errorf("error leaks the query: %v", err)
			}
			if IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", IsRetryable(err), tt.retryable)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Path != "/v1/calls" {
				t.Errorf("want a *StatusError with path /v1/calls, got %#v", err)
			}
			if last := attempts[len(attempts)-1]; last.Retry {
				t.Errorf("last attempt says a retry follows: %+v", last)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	date := func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name    string
		header  func() string
		status  int
		minWait time.Duration
	}{
		{"seconds on 429", func() string { return "1" }, 429, 900 * time.Millisecond},
		// An HTTP date has whole seconds: at least 1 s of the 2 s remains.
		{"http date on 503", date, 503, 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{steps: []step{{status: tt.status, retryAfter: tt.header()}}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			var waits []time.Duration
			c := fastClient()
			c.OnAttempt = func(a Attempt) { waits = append(waits, a.Wait) }
			if _, _, err := get(t, c, context.Background(), srv.URL+"/x"); err != nil {
				t.Fatal(err)
			}
			if gap := s.arrivals[1].Sub(s.arrivals[0]); gap < tt.minWait {
				t.Errorf("second request came %s after the first, want at least %s", gap, tt.minWait)
			}
			if waits[0] < tt.minWait {
				t.Errorf("reported wait %s, want at least %s", waits[0], tt.minWait)
			}
		})
	}
}

func TestMaxRetryAfterCaps(t *testing.T) {
	s := &script{steps: []step{{status: 429, retryAfter: "3600"}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := fastClient()
	c.MaxRetryAfter = 20 * time.Millisecond
	start := time.Now()
	if _, _, err := get(t, c, context.Background(), srv.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s: Retry-After not capped", el)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	s := &script{steps: []step{{status: 500}, {status: 500}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := &Client{MaxRetries: 5, BackoffBase: time.Hour, BackoffMax: time.Hour, FirstRetry: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	c.OnAttempt = func(a Attempt) {
		if a.Retry {
			go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		}
	}
	start := time.Now()
	_, n, err := get(t, c, ctx, srv.URL+"/x")
	if el := time.Since(start); el > time.Second {
		t.Errorf("Do returned %s after the start; want promptly after cancel", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n != 1 {
		t.Errorf("sent %d requests, want 1", n)
	}
}

func TestCancelDuringRateLimitWait(t *testing.T) {
	srv := httptest.NewServer(&script{})
	defer srv.Close()
	c := &Client{Limiter: PerMinute(1)}
	if _, _, err := get(t, c, context.Background(), srv.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := get(t, c, ctx, srv.URL+"/x")
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("second request within the minute: err %v after %s; want an error at once", err, time.Since(start))
	}
}

func TestHandlerRetryable(t *testing.T) {
	// The first two bodies are "cut" (the handler says so), the third is whole.
	s := &script{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := fastClient()
	calls := 0
	req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
	n, err := c.Do(context.Background(), req, func(r *http.Response) error {
		calls++
		if calls < 3 {
			return Retryable(io.ErrUnexpectedEOF)
		}
		return nil
	})
	if err != nil || n != 3 || calls != 3 {
		t.Errorf("n=%d calls=%d err=%v; want 3 attempts and success", n, calls, err)
	}

	// A permanent handler error is not retried.
	calls = 0
	n, err = c.Do(context.Background(), req, func(r *http.Response) error {
		calls++
		return fmt.Errorf("bad data")
	})
	if err == nil || n != 1 || calls != 1 {
		t.Errorf("n=%d calls=%d err=%v; want one attempt and an error", n, calls, err)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := fastClient()
	c.Timeout = 100 * time.Millisecond
	got, n, err := get(t, c, context.Background(), srv.URL+"/slow?token=SECRET")
	if err != nil || got != "ok" || n != 2 {
		t.Errorf("got %q n=%d err=%v; want the second attempt to succeed", got, n, err)
	}
}

func TestNetworkErrorHidesQuery(t *testing.T) {
	srv := httptest.NewServer(&script{})
	url := srv.URL
	srv.Close() // connection refused from now on
	c := fastClient()
	c.MaxRetries = 1
	_, n, err := get(t, c, context.Background(), url+"/v1/x?auth_token=SECRET")
	if err == nil || n != 2 {
		t.Fatalf("n=%d err=%v; want 2 attempts and an error", n, err)
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "GET /v1/x") {
		t.Errorf("error %q must name GET /v1/x and not the query", err)
	}
}

func TestSecretsScrubbed(t *testing.T) {
	s := &script{steps: []step{{status: 403, body: `{"message":"key sk-123 is not allowed"}`}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := fastClient()
	c.Secrets = []string{"sk-123"}
	_, _, err := get(t, c, context.Background(), srv.URL+"/x")
	if err == nil || strings.Contains(err.Error(), "sk-123") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %v; want the key redacted", err)
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second, FirstRetry: 10 * time.Millisecond}
	ceilings := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for n, ceil := range ceilings {
		for i := 0; i < 200; i++ {
			if w := c.backoff(n, true); w <= 0 || w > ceil {
				t.Fatalf("backoff(%d) after a 429 = %s, want in (0, %s]", n, w, ceil)
			}
			// Any other failure: the first retry soon, then the same
			// doubling one step later.
			want := 10 * time.Millisecond
			if n > 0 {
				want = ceilings[n-1]
			}
			if w := c.backoff(n, false); w <= 0 || w > want {
				t.Fatalf("backoff(%d) after a 5xx = %s, want in (0, %s]", n, w, want)
			}
		}
	}
	if w := c.backoff(100, true); w <= 0 || w > time.Second {
		t.Errorf("backoff(100) = %s: overflow", w)
	}
}

// The first retry of a 500 comes soon even with a long backoff_base, and
// the two retries are spread (jitter), not sent at a fixed delay.
func TestFirstRetrySoon(t *testing.T) {
	var gaps []time.Duration
	for range 5 {
		s := &script{steps: []step{{status: 500, body: "boom"}}}
		srv := httptest.NewServer(s)
		c := &Client{MaxRetries: 3, BackoffBase: 10 * time.Second, BackoffMax: 10 * time.Second}
		if _, _, err := get(t, c, context.Background(), srv.URL+"/x"); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		gaps = append(gaps, s.arrivals[1].Sub(s.arrivals[0]))
	}
	for _, g := range gaps {
		if g > DefaultFirstRetry+50*time.Millisecond {
			t.Errorf("first retry %s after the 500, want within %s", g, DefaultFirstRetry)
		}
	}
	if slices.Min(gaps) == slices.Max(gaps) {
		t.Errorf("first retries all %s after the 500: no jitter", gaps[0])
	}
}

// countingGate counts the attempts holding it.
type countingGate struct {
	held, most atomic.Int32
	acquired   atomic.Int32
}

func (g *countingGate) Acquire(context.Context) error {
	g.acquired.Add(1)
	n := g.held.Add(1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			return nil
		}
	}
}

func (g *countingGate) Release() { g.held.Add(-1) }

// A request waiting on Retry-After does not hold the Gate: only its
// attempts do.
func TestGateReleasedWhileWaiting(t *testing.T) {
	s := &script{steps: []step{{status: 429, retryAfter: "1"}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	g := &countingGate{}
	c := fastClient()
	c.Gate = g
	c.OnAttempt = func(a Attempt) {
		if a.Retry && g.held.Load() != 0 {
			t.Errorf("gate held while waiting %s to retry", a.Wait)
		}
	}
	if _, _, err := get(t, c, context.Background(), srv.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	if g.acquired.Load() != 2 || g.held.Load() != 0 {
		t.Errorf("gate acquired %d times, %d still held; want 2 and 0", g.acquired.Load(), g.held.Load())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 10 ", 10 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestDebugLog checks the debug line of every attempt: method, path,
// status, duration, attempt number and bytes, the query only with
// LogQuery, and no secret anywhere (the API echoes the key back here).
func TestDebugLog(t *testing.T) {
	for _, logQuery := range []bool{false, true} {
		t.Run(fmt.Sprintf("LogQuery=%v", logQuery), func(t *testing.T) {
			s := &script{steps: []step{{status: 503, body: `{"message":"busy, key SECRET"}`}, {status: 200, body: "twelve bytes"}}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			var buf bytes.Buffer
			c := fastClient()
			c.Secrets = []string{"SECRET"}
			c.LogQuery = logQuery
			c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			req, err := http.NewRequest("GET", srv.URL+"/v1/calls?created_at=2025-12-01&key=SECRET", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("authorization", "SECRET")
			if _, err := c.Do(context.Background(), req, func(r *http.Response) error {
				_, err := io.Copy(io.Discard, r.Body)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d log lines, want one per attempt:\n%s", len(lines), buf.String())
			}
			want := [][]string{
				{"level=DEBUG", "msg=request", "method=GET", "path=/v1/calls", "status=503", "duration=", "attempt=1", "bytes=0", "err="},
				{"level=DEBUG", "msg=request", "method=GET", "path=/v1/calls", "status=200", "duration=", "attempt=2", "bytes=12"},
			}
			for i, line := range lines {
				for _, w := range want[i] {
					if !strings.Contains(line, w) {
						t.Errorf("line %d %q lacks %q", i+1, line, w)
					}
				}
				if strings.Contains(line, "SECRET") {
					t.Errorf("line %d leaks the secret: %s", i+1, line)
				}
				if got := strings.Contains(line, "created_at=2025-12-01"); got != logQuery {
					t.Errorf("line %d shows the query: %v, want %v: %s", i+1, got, logQuery, line)
				}
			}
		})
	}
}

// TestDebugLogOffAtInfo checks that an info-level logger gets nothing.
func TestDebugLogOffAtInfo(t *testing.T) {
	srv := httptest.NewServer(&script{})
	defer srv.Close()
	var buf bytes.Buffer
	c := fastClient()
	c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	if _, _, err := get(t, c, context.Background(), srv.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("info-level logger got %q", buf.String())
	}
}

// Attempt.Count counts retries and 429s under the names the report reads.
func TestAttemptCount(t *testing.T) {
	got := map[string]int64{}
	count := func(name string, n int64) { got[name] += n }
	Attempt{Status: 200}.Count(count)
	Attempt{Status: 429, Retry: true}.Count(count)
	Attempt{Status: 503, Retry: true}.Count(count)
	Attempt{Status: 429}.Count(count) // out of retries
	if want := map[string]int64{CountRetries: 2, Count429s: 2}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}

// TestMeterCounts: a client given a Meter counts every attempt, the
// retries and the 429s, and the bytes of the answers read.
func TestMeterCounts(t *testing.T) {
	srv := httptest.NewServer(&script{steps: []step{{status: 429}, {status: 500}, {status: 429}, {status: 200, body: "twelve bytes"}}})
	defer srv.Close()
	c := fastClient()
	c.Meter = etl.NewMeter()
	if _, _, err := get(t, c, context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	got := c.Meter.Read()
	if got.Requests != 4 || got.Retries != 3 || got.RateLimited != 2 || got.Bytes != 12 {
		t.Errorf("meter %+v, want 4 requests, 3 retries, 2 × 429, 12 bytes", got)
	}
}

// A client with a cookie jar adds its cookies to each attempt's headers:
// the attempts must not share one header map, or the cookies pile up.
func TestCookieJarAttemptsDoNotShareHeaders(t *testing.T) {
	var mu sync.Mutex
	var cookies []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, len(r.Cookies()))
		n := len(cookies)
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		if n < 3 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := fastClient()
	c.HTTP = &http.Client{Jar: jar}
	req, err := http.NewRequest("GET", srv.URL+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), req, func(*http.Response) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 1}; !slices.Equal(cookies, want) {
		t.Errorf("cookies sent per attempt %v, want %v", cookies, want)
	}
	if len(req.Header) != 0 {
		t.Errorf("the caller's request gained headers: %v", req.Header)
	}
}

// Requests go to the transport directly, but an answer that redirects is
// followed as http.Client follows it: a GET and a POST (307, body sent
// again) reach the new place, the first request once (the redirect
// already received is followed, not asked for again), and the later ones
// through http.Client from the start.
func TestRedirectFollowed(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+string(body))
		mu.Unlock()
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
			return
		}
		io.WriteString(w, "answer from "+r.URL.Path)
	}))
	defer srv.Close()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		c := fastClient()
		sent := ""
		if method == http.MethodPost {
			sent = "form=1"
		}
		for i, want := range [][]string{
			{method + " /old " + sent, method + " /new " + sent},
			{method + " /old " + sent, method + " /new " + sent},
		} {
			mu.Lock()
			got = nil
			mu.Unlock()
			req, _ := http.NewRequest(method, srv.URL+"/old", strings.NewReader(sent))
			var answer string
			if _, err := c.Do(context.Background(), req, func(resp *http.Response) error {
				b, err := io.ReadAll(resp.Body)
				answer = string(b)
				return err
			}); err != nil {
				t.Fatalf("%s %d: %v", method, i, err)
			}
			if answer != "answer from /new" {
				t.Errorf("%s %d: answer %q", method, i, answer)
			}
			mu.Lock()
			saw := slices.Clone(got)
			mu.Unlock()
			if !slices.Equal(saw, want) {
				t.Errorf("%s %d: the server saw %q, want %q", method, i, saw, want)
			}
		}
	}
}

// A POST answered 303 See Other has been handled: it is not sent again,
// and the answer is fetched with a GET, as http.Client does.
func TestPostSeeOtherSentOnce(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/create" {
			http.Redirect(w, r, "/result", http.StatusSeeOther)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/create", strings.NewReader("x=1"))
	if _, err := fastClient().Do(context.Background(), req, func(resp *http.Response) error {
		_, err := io.ReadAll(resp.Body)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"POST /create", "GET /result"}; !slices.Equal(got, want) {
		t.Errorf("the server saw %q, want %q", got, want)
	}
}

// nilBodyTransport answers 204 with no Body, as a test transport may.
type nilBodyTransport struct{}

func (nilBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Request: r}, nil
}

// An answer without a body reads as empty, as through http.Client.Do.
func TestAnswerWithoutBody(t *testing.T) {
	c := &Client{HTTP: &http.Client{Transport: nilBodyTransport{}}}
	req, _ := http.NewRequest(http.MethodGet, "http://example.invalid/x", nil)
	if _, err := c.Do(context.Background(), req, func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		if len(b) != 0 {
			t.Errorf("body %q", b)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
