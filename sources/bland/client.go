package bland

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/etlhq/etl/etl/retry"
)

// callsPath is the listing endpoint, relative to the base URL.
const callsPath = "/v1/calls"

// Client lists the calls of one date at a time. Set its fields before the
// first call; it is then safe for concurrent use.
type Client struct {
	// BaseURL is the API root, e.g. https://api.bland.ai.
	BaseURL string
	// Key is sent as the authorization header, raw (no "Bearer").
	Key string
	// Limit is the page size asked for.
	Limit int
	// MaxPages caps the requests per date that bring data, so that no
	// paging loop runs forever.
	MaxPages int
	// Query holds extra filters passed through (inbound, batch_id, ...).
	Query map[string]string
	// HTTP sends the requests with retries; its Secrets should hold Key.
	HTTP *retry.Client
	// Skip names the call fields left empty: the records do not carry
	// them, and skipping is cheaper than reading (metadata above all).
	Skip Skip
}

// Day counts what listing one date took and brought; the calls themselves
// go to FetchDate's deliver as they are decoded.
type Day struct {
	Date string
	// Calls counts the calls delivered: each call id once.
	Calls int
	// TotalCount is what the API says matched.
	TotalCount int
	// Duplicates counts exact repeats of a call id, dropped.
	Duplicates int
	// Bytes counts response body bytes of the successful attempts.
	Bytes int64
	// Requests counts HTTP requests, retries included; Pages the
	// responses that were used.
	Requests, Pages int
}

// IncompleteError says a date could not be listed whole. FetchDate returns
// it with the Day holding what was listed.
type IncompleteError struct {
	Date              string
	Path              string
	Total, Got, Pages int
	Limit             int
	// PageCap is true when MaxPages stopped the paging; otherwise a page
	// brought no new call ids, which means the API's paging is broken.
	PageCap bool
}

// Error names the date, the counts and the remedy.
func (e *IncompleteError) Error() string {
	why := "a page brought no new calls (the API's from/to paging looks broken)"
	if e.PageCap {
		why = fmt.Sprintf("max_pages (%d) was reached", e.Pages)
	}
	return fmt.Sprintf("date %s: GET %s: the API reports %d calls but listing returned %d distinct ones in %d pages: %s; "+
		"raise limit (now %d) above %d so that one request returns the whole date, or set on_incomplete = \"warn\" to accept an incomplete date",
		e.Date, e.Path, e.Total, e.Got, e.Pages, why, e.Limit, e.Total)
}

// batchSize is how many calls FetchDate hands over at once: enough to make
// the hand-over cheap, few enough that records start flowing at once.
const batchSize = 256

// FetchDate lists every call created on date (YYYY-MM-DD, UTC), handing
// them to deliver in batches as the response is decoded, in the order
// served, each call id once. It asks for the date in one request; when
// total_count exceeds what came back it pages with from/to, dropping call
// ids already seen.
//
// Calls are delivered before the response has been read to its end, so
// that a big date streams instead of being held. A retried response (a body
// cut off mid-JSON) therefore repeats calls already delivered: they are
// recognised by position and id and not delivered again, nor counted as
// duplicates. When FetchDate returns an error the date is not whole, even if
// some of its calls were delivered; the caller must not mark it done.
// Errors name the date and the URL path, never the key. deliver may keep
// the batch's calls but not the slice.
func (c *Client) FetchDate(ctx context.Context, date string, deliver func([]Call) error) (*Day, error) {
	base, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/") + callsPath)
	if err != nil {
		return nil, fmt.Errorf("date %s: base_url: %w", date, err)
	}
	path := base.EscapedPath()
	day := &Day{Date: date}
	seen := make(map[idHash]struct{})
	served := 0 // positions listed so far, repeats included
	limit := max(c.Limit, 1)
	batch := make([]Call, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := deliver(batch)
		batch = batch[:0]
		return err
	}
	for {
		if day.Pages >= max(c.MaxPages, 1) {
			return day, &IncompleteError{Date: date, Path: path, Total: day.TotalCount, Got: day.Calls, Pages: day.Pages, Limit: limit, PageCap: true}
		}
		q := url.Values{}
		for k, v := range c.Query {
			q.Set(k, v)
		}
		q.Set("created_at", date)
		q.Set("limit", strconv.Itoa(limit))
		if !q.Has("ascending") {
			q.Set("ascending", "true")
		}
		if day.Pages > 0 {
			q.Set("from", strconv.Itoa(served))
			q.Set("to", strconv.Itoa(served+limit))
		}
		u := *base
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("date %s: GET %s: %w", date, path, err)
		}
		req.Header.Set("authorization", c.Key)
		req.Header.Set("accept", "application/json")

		// reached is how far into this page any attempt got: positions
		// before it were delivered or counted by an earlier attempt.
		var page Page
		var n int64
		reached, fresh, repeats := 0, 0, 0
		reqs, err := c.HTTP.Do(ctx, req, func(resp *http.Response) error {
			tr := &trackReader{r: resp.Body}
			pos := 0
			p, err := decodeCalls(tr, c.Skip, func(call Call) error {
				pos++
				h := hashID(call.ID)
				_, dup := seen[h]
				switch {
				case dup && pos <= reached:
					return nil // sent again by a retry
				case dup:
					repeats++
				default:
					seen[h] = struct{}{}
					fresh++
					day.Calls++
					batch = append(batch, call)
					if len(batch) == batchSize {
						if err := flush(); err != nil {
							return errDeliver{err}
						}
					}
				}
				reached = max(reached, pos)
				return nil
			})
			if err != nil {
				var de errDeliver
				if errors.As(err, &de) {
					return de.err
				}
				if tr.err != nil || errors.Is(err, io.ErrUnexpectedEOF) {
					// The body was cut off: the next attempt brings it whole.
					return retry.Retryable(fmt.Errorf("GET %s: reading the response (after %d bytes): %w", path, tr.n, err))
				}
				return fmt.Errorf("GET %s: decoding the response: %w", path, err)
			}
			page, n = p, tr.n
			return nil
		})
		day.Requests += reqs
		if err != nil {
			return nil, fmt.Errorf("date %s: %w", date, err)
		}
		if err := flush(); err != nil {
			return nil, err
		}
		day.Pages++
		day.Bytes += n
		day.TotalCount = max(page.TotalCount, day.TotalCount)
		served += page.Calls
		switch {
		case served >= day.TotalCount:
			day.Duplicates += repeats
			return day, nil
		case fresh == 0:
			// Nothing new: the API serves the same calls again (or none),
			// so asking further would loop.
			return day, &IncompleteError{Date: date, Path: path, Total: day.TotalCount, Got: day.Calls, Pages: day.Pages, Limit: limit}
		}
		day.Duplicates += repeats
	}
}

// idHash is a call id's 128-bit hash: the ids seen on a date are kept as
// these, 16 bytes each instead of a string, so that a date of many calls
// costs little while it is listed. Two ids colliding is about as likely as
// 2^-100 for a date of 20,000 calls.
type idHash [2]uint64

var idSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func hashID(id string) idHash {
	return idHash{maphash.String(idSeeds[0], id), maphash.String(idSeeds[1], id)}
}

// errDeliver carries deliver's error through the decoder untouched, so
// that it is not mistaken for a cut-off body and retried.
type errDeliver struct{ err error }

func (e errDeliver) Error() string { return e.err.Error() }

func (e errDeliver) Unwrap() error { return e.err }

// trackReader counts the bytes read and keeps the first error other than
// io.EOF, which tells a connection failure from bad JSON.
type trackReader struct {
	r   io.Reader
	n   int64
	err error
}

func (t *trackReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}
