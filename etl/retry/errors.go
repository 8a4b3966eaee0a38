package retry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// StatusError is a non-2xx response. It names the method and the URL path,
// never the query or headers, which may hold credentials.
type StatusError struct {
	Method, Path string
	Status       int
	// Message is the API's own explanation, from its JSON error body
	// ("message" or "error") or the start of the body, scrubbed of secrets.
	Message string
}

// Error renders the status, the API's message and the request path.
func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		s += " (the credentials were refused: check the API key or token the block is given, e.g. its api_key)"
	}
	return s
}

// retryable marks an error as worth another attempt.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// Retryable marks err so that Client.Do retries the attempt that returned
// it; a response handler uses it for a body cut off mid-read. Nil stays nil.
func Retryable(err error) error {
	if err == nil || IsRetryable(err) {
		return err
	}
	return retryable{err}
}

// IsRetryable reports whether err, or an error it wraps, was marked with
// Retryable.
func IsRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r)
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. It returns 0 when the header is absent, malformed or in the past.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 || secs > 1<<31 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// maxMessage bounds how much of an error body ends up in a message.
const maxMessage = 300

// apiMessage extracts a short explanation from an error body: the
// "message" or "error" of a JSON object, else the body's first bytes.
func apiMessage(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 8<<10))
	var obj map[string]any
	if json.Unmarshal(b, &obj) == nil {
		for _, k := range []string{"message", "error", "errors", "detail"} {
			switch v := obj[k].(type) {
			case string:
				return truncate(v)
			case nil:
			default:
				if j, err := json.Marshal(v); err == nil {
					return truncate(string(j))
				}
			}
		}
	}
	return truncate(strings.TrimSpace(string(b)))
}

func truncate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// scrub replaces every secret in s.
func (c *Client) scrub(s string) string {
	for _, secret := range c.Secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
