package bland

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// decodeCallsStd is the first decoder of this package, built on the
// encoding/json token API: simple and obviously right, but at about
// 100 MB/s it is far slower than loopback. It stays as the oracle the fast
// decoder is fuzzed against.
func decodeCallsStd(r io.Reader, fn func(Call) error) (Page, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	page, err := decodeResponse(d, fn)
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("the response ends early: %w", io.ErrUnexpectedEOF)
		}
		return page, err
	}
	if _, err := d.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the response object")
		}
		return page, err
	}
	return page, nil
}

func decodeResponse(d *json.Decoder, fn func(Call) error) (Page, error) {
	page := Page{TotalCount: -1, Count: -1}
	if err := expectDelim(d, '{', "the response"); err != nil {
		return page, err
	}
	sawCalls := false
	for d.More() {
		key, err := objectKey(d)
		if err != nil {
			return page, err
		}
		switch key {
		case "total_count", "count":
			n, err := intValue(d, key)
			if err != nil {
				return page, err
			}
			if key == "count" {
				page.Count = n
			} else {
				page.TotalCount = n
			}
		case "calls":
			sawCalls = true
			if err := decodeList(d, &page, fn); err != nil {
				return page, err
			}
		default:
			if err := skip(d); err != nil {
				return page, err
			}
		}
	}
	if err := expectDelim(d, '}', "the response"); err != nil {
		return page, err
	}
	if !sawCalls {
		return page, errors.New(`the response has no "calls" list`)
	}
	if page.TotalCount < 0 {
		page.TotalCount = page.Calls
	}
	return page, nil
}

func decodeList(d *json.Decoder, page *Page, fn func(Call) error) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // "calls": null is an empty list
	}
	if tok != json.Delim('[') {
		return fmt.Errorf(`"calls" is %s, not a list`, describe(tok))
	}
	for d.More() {
		c, err := decodeCall(d, page.Calls)
		if err != nil {
			return err
		}
		page.Calls++
		if err := fn(c); err != nil {
			return err
		}
	}
	return expectDelim(d, ']', `the "calls" list`)
}

// decodeCall reads one call object; i is its index in the list, for
// messages.
func decodeCall(d *json.Decoder, i int) (Call, error) {
	var c Call
	if err := expectDelim(d, '{', fmt.Sprintf("call %d", i)); err != nil {
		return c, err
	}
	created := ""
	for d.More() {
		key, err := objectKey(d)
		if err != nil {
			return c, err
		}
		var s *string
		switch key {
		case "call_id", "c_id":
			s = &c.ID
		case "created_at":
			s = &created
		case "to":
			s = &c.To
		case "from":
			s = &c.From
		case "batch_id":
			s = &c.BatchID
		case "status":
			s = &c.Status
		case "answered_by":
			s = &c.AnsweredBy
		case "inbound":
			tok, err := d.Token()
			if err != nil {
				return c, err
			}
			switch v := tok.(type) {
			case bool:
				c.Inbound = v
			case nil:
			default:
				return c, fmt.Errorf("call %d: inbound is %s, not a bool", i, describe(tok))
			}
			continue
		case "call_length":
			tok, err := d.Token()
			if err != nil {
				return c, err
			}
			switch v := tok.(type) {
			case json.Number:
				f, err := v.Float64()
				if err != nil {
					return c, fmt.Errorf("call %d: call_length %s: %v", i, v, err)
				}
				c.CallLength, c.HasLength = f, true
			case nil:
			default:
				return c, fmt.Errorf("call %d: call_length is %s, not a number", i, describe(tok))
			}
			continue
		case "metadata":
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				return c, err
			}
			if string(raw) != "null" {
				c.Metadata = raw
			}
			continue
		default:
			if err := skip(d); err != nil {
				return c, err
			}
			continue
		}
		if err := stringValue(d, s, i, key); err != nil {
			return c, err
		}
	}
	if err := expectDelim(d, '}', fmt.Sprintf("call %d", i)); err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, fmt.Errorf("call %d has neither call_id nor c_id", i)
	}
	t, err := parseCreated(created)
	if err != nil {
		return c, fmt.Errorf("call %s: %w", c.ID, err)
	}
	c.CreatedAt = t
	return c, nil
}

// stringValue reads a string, null (""), or a number (kept as written: a
// phone may come as one).
func stringValue(d *json.Decoder, s *string, i int, key string) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case string:
		*s = v
	case json.Number:
		*s = v.String()
	case nil:
		*s = ""
	default:
		return fmt.Errorf("call %d: %s is %s, not a string", i, key, describe(tok))
	}
	return nil
}

func intValue(d *json.Decoder, key string) (int, error) {
	tok, err := d.Token()
	if err != nil {
		return 0, err
	}
	switch v := tok.(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil || n < 0 || n > 1<<40 {
			return 0, fmt.Errorf("%s %s is not a count", key, v)
		}
		return int(n), nil
	case nil:
		return -1, nil
	}
	return 0, fmt.Errorf("%s is %s, not a number", key, describe(tok))
}

func objectKey(d *json.Decoder) (string, error) {
	tok, err := d.Token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, found %s", describe(tok))
	}
	return k, nil
}

func expectDelim(d *json.Decoder, want json.Delim, what string) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("%s: expected %q, found %s", what, want, describe(tok))
	}
	return nil
}

// skip consumes one value of any type. Scalars go through Token; objects
// and lists are skipped a token at a time so that nothing large is kept.
func skip(d *json.Decoder) error {
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "a list"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("the string %q", strings.ToValidUTF8(v, "?"))
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%T", tok)
}
