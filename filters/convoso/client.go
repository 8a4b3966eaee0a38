package convoso

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/etlhq/etl/etl/phone"
	"github.com/etlhq/etl/etl/retry"
)

// Endpoint paths, relative to the base URL.
const (
	leadsPath  = "/v1/leads/search"
	dncPath    = "/v1/dnc/search"
	statusPath = "/v1/status/search"
)

// pageLimit is the leads asked for per request: a phone has one lead per
// list, rarely more than a handful. maxPages bounds paging.
const (
	pageLimit = 100
	maxPages  = 20
	maxBody   = 8 << 20
)

// Client asks Convoso about phones. Requests are POSTed form-encoded, so
// that auth_token never appears in a URL; errors name the method and path
// only (retry.Client never prints a query) and a phone masked to its last
// four digits. Set the fields before the first call; the Client is then
// safe for concurrent use.
type Client struct {
	// BaseURL is the API root, e.g. https://api.convoso.com.
	BaseURL string
	// Token is the auth_token.
	Token string
	// HTTP sends requests with retries; its Secrets should hold Token.
	HTTP *retry.Client

	// endpoints holds each path's URL, parsed once (see newPost).
	endpoints sync.Map // path → *url.URL
}

// AuthError is Convoso refusing the auth_token: the run stops at once.
type AuthError struct {
	Path string
	*APIError
}

// Error renders Convoso's refusal, without the token.
func (e *AuthError) Error() string {
	return fmt.Sprintf("POST %s: Convoso refused the auth_token (code %d): %s", e.Path, e.Code, e.Text)
}

// Leads returns every lead of phone (10 digits), paging when Convoso has
// more than a page. It returns the requests sent, retries included.
func (c *Client) Leads(ctx context.Context, ph string) ([]Lead, int, error) {
	var leads []Lead
	requests := 0
	for page := 0; page < maxPages; page++ {
		p, n, err := c.search(ctx, leadsPath, "limit", strconv.Itoa(pageLimit), "offset", strconv.Itoa(len(leads)), "phone_number", ph)
		requests += n
		if err != nil {
			return nil, requests, c.phoneErr(ph, err)
		}
		leads = append(leads, p.Leads...)
		if len(p.Leads) == 0 || len(leads) >= p.Total {
			return leads, requests, nil
		}
	}
	return nil, requests, fmt.Errorf("phone %s: POST %s: more than %d pages of leads", phone.Mask(ph), leadsPath, maxPages)
}

// OnDNC reports whether phone is on the DNC list of campaign (0: global).
func (c *Client) OnDNC(ctx context.Context, ph string, campaign int) (bool, int, error) {
	p, n, err := c.search(ctx, dncPath, "campaign_id", strconv.Itoa(campaign), "limit", "1", "phone_number", ph)
	if err != nil {
		return false, n, c.phoneErr(ph, err)
	}
	return p.Total > 0 || len(p.Leads) > 0, n, nil
}

// Statuses returns the status catalogue.
func (c *Client) Statuses(ctx context.Context) ([]Status, error) {
	var out []Status
	_, err := c.post(ctx, statusPath, nil, func(body []byte) error {
		s, err := DecodeStatuses(body)
		if err != nil {
			return c.classify(statusPath, err)
		}
		out = s
		return nil
	})
	return out, err
}

// search asks path for a page of leads; form is the fields' names and
// values in turn (see post).
func (c *Client) search(ctx context.Context, path string, form ...string) (*LeadPage, int, error) {
	var page *LeadPage
	n, err := c.post(ctx, path, form, func(body []byte) error {
		p, err := DecodeLeads(body)
		if err != nil {
			return c.classify(path, err)
		}
		page = p
		return nil
	})
	return page, n, err
}

// classify decides what a decoding error means: a refused token stops
// everything; any other success:false answer, or a garbled body, is
// retried (Convoso reports transient trouble that way too).
func (c *Client) classify(path string, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.Text = c.scrub(apiErr.Text)
		if apiErr.IsAuth() {
			return &AuthError{Path: path, APIError: apiErr}
		}
		return retry.Retryable(fmt.Errorf("POST %s: %w", path, apiErr))
	}
	return retry.Retryable(fmt.Errorf("POST %s: %s", path, c.scrub(err.Error())))
}

// post sends form (plus auth_token) and hands the whole body to handle.
// form is the fields' names and values in turn, in name order.
func (c *Client) post(ctx context.Context, path string, form []string, handle func([]byte) error) (int, error) {
	req, err := c.newPost(path, c.encodeForm(form))
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", path, err)
	}
	return c.HTTP.Do(ctx, req, func(resp *http.Response) error {
		ab := answerBuffers.Get().(*answerBuffer)
		defer putAnswerBuffer(ab)
		ab.buf.Reset()
		ab.limit.R, ab.limit.N = resp.Body, maxBody
		_, err := ab.buf.ReadFrom(&ab.limit)
		ab.limit.R = nil
		if err != nil {
			return retry.Retryable(fmt.Errorf("POST %s: reading the answer: %w", path, err))
		}
		return handle(ab.buf.Bytes())
	})
}

// formHeader is the headers of every request, shared and never written:
// neither the transport nor retry.Client changes a request's headers
// (retry clones a request where a cookie jar would add to them).
var formHeader = http.Header{
	"Content-Type": {"application/x-www-form-urlencoded"},
	"Accept":       {"application/json"},
}

// encodeForm writes auth_token and form (names and values in turn, in
// name order) as url.Values.Encode does, with one allocation: a lookup's
// url.Values and its encoding were a fifth of its allocations.
func (c *Client) encodeForm(form []string) string {
	var b strings.Builder
	b.Grow(len("auth_token=") + 3*len(c.Token) + 64)
	b.WriteString("auth_token=")
	b.WriteString(url.QueryEscape(c.Token))
	for i := 0; i+1 < len(form); i += 2 {
		b.WriteByte('&')
		b.WriteString(url.QueryEscape(form[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(form[i+1]))
	}
	return b.String()
}

// newPost is the request POSTing body to path, without a context (retry
// gives each attempt its own). The path's URL is parsed once and shared,
// as are the headers: per lookup, parsing the URL and setting two headers
// were a sixth of its allocations.
func (c *Client) newPost(path, body string) (*http.Request, error) {
	u, ok := c.endpoints.Load(path)
	if !ok {
		parsed, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/") + path)
		if err != nil {
			return nil, err
		}
		parsed.Host = strings.TrimSuffix(parsed.Host, ":") // an empty port, as NewRequest drops it
		u, _ = c.endpoints.LoadOrStore(path, parsed)
	}
	endpoint := u.(*url.URL)
	return &http.Request{
		Method: http.MethodPost, URL: endpoint, Host: endpoint.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: formHeader, ContentLength: int64(len(body)),
		Body:    io.NopCloser(strings.NewReader(body)),
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil },
	}, nil
}

// answerBuffers holds the buffers answers are read into, each with the
// reader that limits an answer's size. The decoders copy what they keep
// (a lead's fields, an error's text), so an answer's buffer serves the
// next request: a fresh one per answer was 45 MB of garbage at 50,000
// phones.
var answerBuffers = sync.Pool{New: func() any { return new(answerBuffer) }}

type answerBuffer struct {
	buf   bytes.Buffer
	limit io.LimitedReader
}

// putAnswerBuffer returns ab to the pool unless an unusual answer grew it
// (a phone with pages of leads): the pool keeps small buffers only.
func putAnswerBuffer(ab *answerBuffer) {
	if ab.buf.Cap() <= 64<<10 {
		answerBuffers.Put(ab)
	}
}

// phoneErr names the phone, masked, in an error. A refused token is the
// same for every phone, so it stays as it is.
func (c *Client) phoneErr(ph string, err error) error {
	var auth *AuthError
	if errors.As(err, &auth) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("phone %s: %w", phone.Mask(ph), err)
}

func (c *Client) scrub(s string) string {
	if c.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.Token, "[redacted]")
}
