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
	Date string
	Path string
	// Total is the API's total_count; Got the distinct calls listed in
	// Pages responses.
	Total, Got, Pages int
	// Limit is the page size asked for, PageMax the most calls one
	// response held: below Limit, the API serves fewer calls than asked
	// for, and raising limit cannot help.
	Limit, PageMax int
	// PageCap is true when MaxPages stopped the paging, every page having
	// brought new calls; otherwise the last page brought none: it was
	// empty (LastCalls 0) or repeated calls already listed.
	PageCap  bool
	MaxPages int
	// LastFrom, LastTo and LastCalls describe the last request: its
	// from/to window (none for the first request) and the calls it held.
	LastFrom, LastTo, LastCalls int
}

// Error says what went wrong for the date and URL path, what would help,
// and that on_incomplete = "warn" accepts the date as it is.
func (e *IncompleteError) Error() string {
	msg, remedy := e.describe()
	or := "or "
	if !remedy {
		or = ""
	}
	return msg + fmt.Sprintf(`; %sset on_incomplete = "warn" to keep the %d calls listed and mark the date incomplete`, or, e.Got)
}

// Warning is the message when on_incomplete = "warn" accepted the date.
func (e *IncompleteError) Warning() string {
	msg, _ := e.describe()
	return msg + fmt.Sprintf(`; the %d calls listed were kept and the date is marked incomplete (on_incomplete = "warn")`, e.Got)
}

// describe says what happened and what would make the date whole, and
// whether some setting would. The API can fall short in several ways, each
// with its own remedy: a limit below the date's count (raise limit), a cap
// on the calls per response whatever limit says (raise max_pages if paging
// works; nothing if it does not), paging that serves the same calls again,
// a listing that ends short of total_count (nothing).
func (e *IncompleteError) describe() (msg string, remedy bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "date %s: GET %s: the API reports %d calls (total_count) but listing returned %d distinct ones in %s",
		e.Date, e.Path, e.Total, e.Got, plural(e.Pages, "page"))
	last := fmt.Sprintf("the page from=%d to=%d", e.LastFrom, e.LastTo)
	if e.Pages <= 1 {
		last = fmt.Sprintf("the first request (limit=%d)", e.Limit)
	}
	switch {
	case e.PageCap:
		fmt.Fprintf(&b, ": paging stopped at max_pages (%d), every page bringing new calls (at most %d a page)", e.MaxPages, e.PageMax)
	case e.LastCalls == 0:
		fmt.Fprintf(&b, ": %s came back empty with %d calls still missing, so the API counts calls its listing does not return", last, e.Total-e.Got)
	default:
		fmt.Fprintf(&b, ": %s returned %s all listed already, so the API's from/to paging serves the same calls again", last, plural(e.LastCalls, "call"))
	}
	pagesNeeded := e.Pages + 1
	if e.PageMax > 0 {
		pagesNeeded = max(pagesNeeded, (e.Total+e.PageMax-1)/e.PageMax)
	}
	const none = ": no setting of bland_calls lists this date whole (if it is today, calls still being made can make the counts disagree: try again later)"
	capped := e.PageMax < e.Limit // the API served fewer calls than asked for
	switch {
	case !e.PageCap && e.LastCalls == 0:
		b.WriteString("; raising limit or max_pages will not help" + none)
		return b.String(), false
	case capped && e.PageCap:
		fmt.Fprintf(&b, "; the API returned at most %d calls to requests asking for limit = %d, so raising limit will not help: raise max_pages to at least %d so that paging can finish",
			e.PageMax, e.Limit, pagesNeeded)
	case capped:
		fmt.Fprintf(&b, "; the API returned at most %d calls to requests asking for limit = %d, so raising limit or max_pages will not help%s",
			e.PageMax, e.Limit, none)
		return b.String(), false
	case e.PageCap:
		fmt.Fprintf(&b, "; raise limit (now %d) to at least %d so that one request returns the whole date, or max_pages to at least %d",
			e.Limit, e.Total, pagesNeeded)
	default:
		fmt.Fprintf(&b, "; raise limit (now %d) to at least %d so that one request returns the whole date, without paging", e.Limit, e.Total)
	}
	return b.String(), true
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
	// pageMax and the last request's window and calls describe an
	// incomplete date (IncompleteError).
	pageMax, lastFrom, lastTo, lastCalls := 0, 0, 0, 0
	incomplete := func() *IncompleteError {
		return &IncompleteError{Date: date, Path: path, Total: day.TotalCount, Got: day.Calls, Pages: day.Pages,
			Limit: limit, PageMax: pageMax, MaxPages: max(c.MaxPages, 1), LastFrom: lastFrom, LastTo: lastTo, LastCalls: lastCalls}
	}
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
			ie := incomplete()
			ie.PageCap = true
			return day, ie
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
			lastFrom, lastTo = served, served+limit
			q.Set("from", strconv.Itoa(lastFrom))
			q.Set("to", strconv.Itoa(lastTo))
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
		pageMax, lastCalls = max(pageMax, page.Calls), page.Calls
		switch {
		case served >= day.TotalCount:
			day.Duplicates += repeats
			return day, nil
		case fresh == 0:
			// Nothing new: the API serves the same calls again (or none),
			// so asking further would loop.
			return day, incomplete()
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
