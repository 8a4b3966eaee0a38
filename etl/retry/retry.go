package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etlhq/etl/etl"
	"golang.org/x/time/rate"
)

// Defaults used when the corresponding Client field is zero.
const (
	DefaultBackoffBase   = 500 * time.Millisecond
	DefaultBackoffMax    = 30 * time.Second
	DefaultMaxRetryAfter = 5 * time.Minute
	DefaultFirstRetry    = 100 * time.Millisecond
)

// Client sends requests with retries. The zero value works (no retries, no
// timeout, http.DefaultClient); a Client is safe for concurrent use as long
// as its fields are not changed while requests are in flight.
type Client struct {
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP *http.Client
	// MaxRetries is how many times a failed attempt is retried: a request
	// is sent at most MaxRetries+1 times.
	MaxRetries int
	// BackoffBase and BackoffMax shape the wait before a retry: a random
	// duration up to min(BackoffMax, BackoffBase·2ⁿ) before retry n (from
	// 0). The first retry after a 5xx, a network error or a retryable
	// handler error comes sooner, within min(FirstRetry, BackoffBase):
	// most such failures are one-offs, and the request holds up its
	// caller while it waits. A 429 without Retry-After backs off fully.
	BackoffBase, BackoffMax time.Duration
	// FirstRetry bounds the wait before the first retry of a failure
	// other than 429 (DefaultFirstRetry when zero).
	FirstRetry time.Duration
	// MaxRetryAfter caps a server's Retry-After, so that a bogus header
	// cannot park the run for hours.
	MaxRetryAfter time.Duration
	// Timeout bounds one attempt, the handler's reading of the body
	// included. Zero: no timeout beyond the context's.
	Timeout time.Duration
	// Limiter, when set, is waited on before every attempt (see PerMinute):
	// the rate the user configured.
	Limiter *rate.Limiter
	// Throttle, when set, lowers the rate further while the API keeps
	// answering 429 (see Throttle); Settings.Client sets one.
	Throttle *Throttle
	// Gate, when set, is held for each attempt and released while a
	// request waits to retry, so that a request backing off or honouring
	// Retry-After does not take a place among those in flight.
	Gate Gate
	// Secrets are scrubbed from every error message (API keys, tokens),
	// in case a server echoes them.
	Secrets []string
	// OnAttempt, when set, is called after every attempt: for counting
	// requests and retries, and for logs.
	OnAttempt func(Attempt)
	// Logger, when set, gets one debug line per attempt: method, URL
	// path, status, duration, attempt number, body bytes read, and the
	// error if any. Done here rather than in each plugin's OnAttempt so
	// that every API client logs the same way with --log-level debug.
	// Headers are never logged; the query only with LogQuery.
	Logger *slog.Logger
	// Meter, when set (a plugin passes its Env.Meter), counts every
	// attempt, retry and 429, and the answers' bytes as they are read,
	// for the run's progress events.
	Meter *etl.Meter
	// LogQuery adds the query string to Logger's lines (Secrets scrubbed).
	// Set it only for an API whose query holds no secret: Bland's holds
	// the date and paging, Convoso's would hold its token were it sent
	// in a URL.
	LogQuery bool

	// redirected is set once an answer redirected: from then on requests
	// go through http.Client.Do (see send).
	redirected atomic.Bool
}

// Gate bounds the requests in flight across the callers sharing a Client
// (package lookup's window is one).
type Gate interface {
	// Acquire blocks until a request may be sent, or ctx is done.
	Acquire(ctx context.Context) error
	// Release gives back what Acquire took.
	Release()
}

// Attempt describes one finished attempt, for Client.OnAttempt.
type Attempt struct {
	Method, Path string
	// N counts attempts of this request from 1.
	N int
	// Status is the HTTP status, 0 when no response came.
	Status int
	// Err is the attempt's error, nil on success.
	Err error
	// Retry says another attempt follows, after Wait.
	Retry bool
	Wait  time.Duration
}

// Names of the counts an API client's stage keeps of its attempts, which
// the run report charts per API.
const (
	CountRequests = "requests" // attempts sent, retries included
	CountRetries  = "retries"  // attempts followed by another
	Count429s     = "429s"     // attempts answered 429 Too Many Requests
)

// Count adds the attempt to a stage's retries and 429s (count is the
// stage's Output.Count). Requests are the caller's to count: it may count
// them per partition instead.
func (a Attempt) Count(count func(name string, n int64)) {
	if a.Retry {
		count(CountRetries, 1)
	}
	if a.Status == http.StatusTooManyRequests {
		count(Count429s, 1)
	}
}

// PerMinute returns a limiter allowing n requests a minute with no bursts
// beyond one, or nil when n <= 0 (no limit).
func PerMinute(n int) *rate.Limiter {
	if n <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), 1)
}

// PerSecond returns a limiter allowing r requests a second, or nil when
// r <= 0.
func PerSecond(r float64) *rate.Limiter {
	if r <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r), 1)
}

// Do sends req and calls handle with each successful (2xx) response, until
// handle returns nil, a permanent error, or the retries run out. It returns
// the number of requests sent, so that callers can report them.
//
// handle reads the body (Do closes it); it must not keep records of a failed
// attempt, since the next attempt delivers them again. An error it wraps
// with Retryable is retried; any other error is returned as is. A request
// with a body needs GetBody set (http.NewRequest does so) to be retried.
func (c *Client) Do(ctx context.Context, req *http.Request, handle func(*http.Response) error) (int, error) {
	method, path := req.Method, req.URL.EscapedPath()
	for n := 1; ; n++ {
		if err := c.wait(ctx); err != nil {
			return n - 1, c.ctxErr(ctx, method, path, err)
		}
		start := time.Now()
		status, retryAfter, read, err := c.attempt(ctx, req, handle)
		if c.Gate != nil {
			c.Gate.Release()
		}
		if c.Throttle != nil {
			c.Throttle.Observe(status, time.Now())
		}
		c.logAttempt(ctx, req, n, status, time.Since(start), read, err)
		if err == nil {
			c.report(Attempt{Method: method, Path: path, N: n, Status: status})
			return n, nil
		}
		if ctx.Err() != nil {
			c.report(Attempt{Method: method, Path: path, N: n, Status: status, Err: err})
			return n, c.ctxErr(ctx, method, path, ctx.Err())
		}
		retry := IsRetryable(err) && n <= c.MaxRetries
		var wait time.Duration
		if retry {
			wait = c.backoff(n-1, status == http.StatusTooManyRequests)
			if retryAfter > 0 {
				wait = min(retryAfter, c.maxRetryAfter())
			}
		}
		c.report(Attempt{Method: method, Path: path, N: n, Status: status, Err: err, Retry: retry, Wait: wait})
		if !retry {
			if IsRetryable(err) && n > 1 {
				return n, fmt.Errorf("%w (gave up after %d attempts)", err, n)
			}
			return n, err
		}
		if err := Sleep(ctx, wait); err != nil {
			return n, c.ctxErr(ctx, method, path, err)
		}
	}
}

// send sends r through hc. A client with no cookie jar, redirect policy,
// timeout or URL credentials sends through its transport directly:
// http.Client.Do copies the headers and wraps the body of every request
// to be ready for a redirect, a fifth of a Convoso lookup's allocations,
// and the APIs do not redirect. When an answer does redirect, Do follows
// it from that answer (the request is not sent again: a POST answered
// 303 has been handled), exactly as it would have, and every later
// request of the Client goes through Do.
func (c *Client) send(hc *http.Client, r *http.Request) (*http.Response, error) {
	if hc.Jar != nil || hc.CheckRedirect != nil || hc.Timeout != 0 || r.URL.User != nil || c.redirected.Load() {
		return hc.Do(r)
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.Body == nil { // as Do makes it for a transport that leaves it nil
		resp.Body = http.NoBody
	}
	if !isRedirect(resp.StatusCode) || resp.Header.Get("Location") == "" {
		return resp, nil
	}
	c.redirected.Store(true)
	if r.Body != nil && r.Body != http.NoBody && r.GetBody != nil {
		body, err := r.GetBody() // for a 307 or 308, which send it again
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		r.Body = body
	}
	follow := *hc
	follow.Transport = &answerFirst{resp: resp, rt: rt}
	return follow.Do(r)
}

// answerFirst is the transport through which Do follows a redirect send
// already received: its first round trip returns that answer instead of
// sending the request again, the next ones go to rt.
type answerFirst struct {
	resp *http.Response
	rt   http.RoundTripper
}

func (a *answerFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if resp := a.resp; resp != nil {
		a.resp = nil
		if r.Body != nil {
			r.Body.Close()
		}
		return resp, nil
	}
	return a.rt.RoundTrip(r)
}

// drain reads and drops up to n bytes of r, so that its connection can
// serve another request. It is io.CopyN without CopyN's LimitedReader
// allocated per answer (two a lookup with convoso's own limit).
func drain(r io.Reader, n int64) {
	lr := limitedReaders.Get().(*io.LimitedReader)
	lr.R, lr.N = r, n
	io.Copy(io.Discard, lr)
	lr.R = nil
	limitedReaders.Put(lr)
}

var limitedReaders = sync.Pool{New: func() any { return new(io.LimitedReader) }}

// isRedirect reports whether status is one http.Client follows.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// wait waits for the rate limits, then for the Gate.
func (c *Client) wait(ctx context.Context) error {
	if c.Throttle != nil {
		if err := c.Throttle.Wait(ctx); err != nil {
			return err
		}
	}
	if c.Limiter != nil {
		if err := c.Limiter.Wait(ctx); err != nil {
			return err
		}
	}
	if c.Gate != nil {
		return c.Gate.Acquire(ctx)
	}
	return nil
}

// attempt sends one request and runs handle on a 2xx response. It returns
// the status (0 without a response), the Retry-After wait asked for (0 when
// none), the body bytes handle read, and an error that is either retryable
// or not.
func (c *Client) attempt(ctx context.Context, req *http.Request, handle func(*http.Response) error) (status int, wait time.Duration, read int64, err error) {
	method, path := req.Method, req.URL.EscapedPath()
	actx, cancel := ctx, context.CancelFunc(func() {})
	if c.Timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	defer cancel()
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	// A shallow copy: the transport never modifies a request's headers or
	// URL, so a deep Clone per attempt (a tenth of the lookups'
	// allocations) bought nothing. A client with a cookie jar adds its
	// cookies to the request's headers, which the attempts would share.
	r := req.WithContext(actx)
	if hc.Jar != nil {
		r = req.Clone(actx)
	}
	if req.Body != nil && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		r.Body = body
	}
	resp, err := c.send(hc, r)
	if err != nil {
		// A *url.Error would print the whole URL, query and all: keep only
		// its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if actx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("no response within %s: %w", c.Timeout, err)
		}
		return 0, 0, 0, Retryable(fmt.Errorf("%s %s: %s", method, path, c.scrub(err.Error())))
	}
	defer func() {
		// Drain a little so that the connection can be reused.
		drain(resp.Body, 64<<10)
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		serr := &StatusError{Method: method, Path: path, Status: resp.StatusCode, Message: c.scrub(apiMessage(resp.Body))}
		var wait time.Duration
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			wait = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return resp.StatusCode, wait, 0, Retryable(serr)
		}
		return resp.StatusCode, 0, 0, serr
	}
	counted := &countingReader{r: resp.Body, meter: c.Meter}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{counted, resp.Body}
	if err := handle(resp); err != nil {
		if actx.Err() != nil && ctx.Err() == nil && !IsRetryable(err) {
			// Our own per-attempt timeout struck while the body was read.
			err = Retryable(fmt.Errorf("%s %s: body not read within %s: %w", method, path, c.Timeout, err))
		}
		return resp.StatusCode, 0, counted.n, err
	}
	return resp.StatusCode, 0, counted.n, nil
}

// logAttempt writes the debug line of one attempt (see Client.Logger).
func (c *Client) logAttempt(ctx context.Context, req *http.Request, n, status int, took time.Duration, read int64, err error) {
	if c.Logger == nil || !c.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("method", req.Method), slog.String("path", req.URL.EscapedPath()))
	if c.LogQuery && req.URL.RawQuery != "" {
		attrs = append(attrs, slog.String("query", c.scrub(req.URL.RawQuery)))
	}
	attrs = append(attrs, slog.Int("status", status), slog.Duration("duration", took.Round(time.Microsecond)),
		slog.Int("attempt", n), slog.Int64("bytes", read))
	if err != nil {
		attrs = append(attrs, slog.String("err", c.scrub(err.Error())))
	}
	c.Logger.LogAttrs(ctx, slog.LevelDebug, "request", attrs...)
}

// countingReader counts the bytes read through it, for the debug log and,
// as they come, for the meter.
type countingReader struct {
	r     io.Reader
	n     int64
	meter *etl.Meter
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.meter.AddBytes(int64(n))
	return n, err
}

func (c *Client) report(a Attempt) {
	c.Meter.Attempt(a.Status, a.Retry)
	if c.OnAttempt != nil {
		c.OnAttempt(a)
	}
}

// backoff returns the full-jitter wait before retry n (from 0); tooMany
// says the attempt was answered 429 (see BackoffBase).
func (c *Client) backoff(n int, tooMany bool) time.Duration {
	base, maxWait, first := c.BackoffBase, c.BackoffMax, c.FirstRetry
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if maxWait <= 0 {
		maxWait = DefaultBackoffMax
	}
	if first <= 0 {
		first = DefaultFirstRetry
	}
	if !tooMany {
		if n == 0 {
			return rand.N(min(first, base, maxWait)) + 1
		}
		n--
	}
	ceil := maxWait
	if n < 62 && base<<n > 0 && base<<n < maxWait {
		ceil = base << n
	}
	return rand.N(ceil) + 1
}

func (c *Client) maxRetryAfter() time.Duration {
	if c.MaxRetryAfter > 0 {
		return c.MaxRetryAfter
	}
	return DefaultMaxRetryAfter
}

// ctxErr wraps a cancellation so that errors.Is(err, context.Canceled)
// still holds.
func (c *Client) ctxErr(ctx context.Context, method, path string, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}

// Sleep waits d, or until ctx is done and returns its error: the one
// cancellable wait shared by the clients and the fakes.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
