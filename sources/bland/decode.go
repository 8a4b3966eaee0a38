package bland

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Call is what the source keeps of one call: the fields records need and
// nothing else, so that a date of large calls costs little memory.
type Call struct {
	ID        string
	CreatedAt time.Time
	// To, From, BatchID, Status and AnsweredBy are "" when absent or null.
	To, From, BatchID, Status, AnsweredBy string
	Inbound                               bool
	// CallLength is in minutes; HasLength is false when absent or null.
	CallLength float64
	HasLength  bool
	// Metadata is the metadata object as JSON, nil when absent or null.
	Metadata json.RawMessage
}

// LeadPhone is the lead's number as Bland gives it, not normalised: the
// caller's for an inbound call, the number dialled otherwise. A record's
// phone is made from it.
func (c *Call) LeadPhone() string {
	if c.Inbound {
		return c.From
	}
	return c.To
}

// Page is the envelope of one response.
type Page struct {
	// TotalCount is how many calls matched; Count how many the response
	// says it returned (-1 when absent).
	TotalCount, Count int
	// Calls counts the call objects actually decoded.
	Calls int
}

// DecodeCalls reads one response of GET /v1/calls as a stream and calls fn
// for each call, in order, with a Call it may keep. Only the needed fields
// are kept; unknown fields are skipped whatever their type. A call without
// an id or with a malformed created_at is an error naming it.
//
// The decoder is a small hand-written scanner rather than encoding/json's
// token API, which reads about 100 MB/s, twenty times slower than a
// loopback download: list responses are mostly summaries and variables the
// source skips, and skipping a string here is a memchr. Values kept are
// checked as strictly as encoding/json does; values skipped are checked for
// structure only. FuzzDecodeCalls holds it to the token-API decoder.
//
// An error caused by the reader (a reset connection) wraps the reader's
// error, and a body that ends mid-JSON gives io.ErrUnexpectedEOF: both mean
// the body was cut off, worth another attempt.
func DecodeCalls(r io.Reader, fn func(Call) error) (Page, error) {
	return decodeCalls(r, Skip{}, fn)
}

// Skip names the call fields a decoder leaves empty, skipping them like
// unknown fields: the records built from the calls do not carry them.
// The id, created_at, to, from and inbound are always read (calls are told
// apart and phones made from them).
type Skip struct {
	Metadata, Status, AnsweredBy, CallLength, BatchID bool
}

// decodeCalls is DecodeCalls leaving out the fields skip names.
func decodeCalls(r io.Reader, skip Skip, fn func(Call) error) (Page, error) {
	s := &scanner{r: r, buf: make([]byte, 0, 64<<10), skipFields: skip}
	page, err := s.response(fn)
	if err != nil {
		return page, err
	}
	if _, err := s.peek(); err != io.EOF {
		if err == nil {
			err = s.errorf("unexpected data after the response object")
		}
		return page, err
	}
	return page, nil
}

// scanner reads JSON from r through a buffer, never holding more than the
// buffer plus the value being kept.
type scanner struct {
	r   io.Reader
	buf []byte
	pos int
	off int64 // bytes consumed before buf[0]
	eof bool

	skipFields Skip

	capturing bool
	capStart  int // start in buf of the bytes not yet captured
	capture   []byte
	scratch   []byte

	// fields holds the text fields of the call being read, back to back,
	// and spans where each goes: a call's strings are cut from one string
	// made at its end (setFields), one allocation a call instead of one a
	// field (those were a seventh of the scale benchmark's allocations).
	fields []byte
	spans  []fieldSpan
}

// textField names a Call's text field (or created_at) in a fieldSpan.
type textField uint8

const (
	fieldID textField = iota
	fieldCreated
	fieldTo
	fieldFrom
	fieldBatchID
	fieldStatus
	fieldAnsweredBy
)

// fieldSpan is where in scanner.fields a text field's value is.
type fieldSpan struct {
	field      textField
	start, end int
}

// fill reads more data, keeping buf[pos:]. It returns io.EOF at the end
// of input and the reader's error otherwise.
func (s *scanner) fill() error {
	if s.eof {
		return io.EOF
	}
	if s.capturing {
		s.capture = append(s.capture, s.buf[s.capStart:s.pos]...)
		s.capStart = 0
	}
	rest := copy(s.buf[:cap(s.buf)], s.buf[s.pos:])
	s.off += int64(s.pos)
	s.buf, s.pos = s.buf[:rest], 0
	for {
		n, err := s.r.Read(s.buf[rest:cap(s.buf)])
		s.buf = s.buf[:rest+n]
		if err == io.EOF {
			s.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// unexpectedEOF turns the end of input inside a value into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return fmt.Errorf("the response ends early: %w", io.ErrUnexpectedEOF)
	}
	return err
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", s.off+int64(s.pos), fmt.Sprintf(format, args...))
}

// peek skips whitespace and returns the next byte without consuming it.
func (s *scanner) peek() (byte, error) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
}

// place names where in the response the scanner is, for errors. It is
// formatted only when an error needs it: building "call 1234" for every
// call would cost more than decoding some of them.
type place struct {
	what  string
	index int // when >= 0 the place is "what index"
}

func named(what string) place { return place{what, -1} }

// String returns the place's name.
func (p place) String() string {
	if p.index >= 0 {
		return p.what + " " + strconv.Itoa(p.index)
	}
	return p.what
}

// expect consumes the next non-space byte, which must be c.
func (s *scanner) expect(c byte, what place) error {
	got, err := s.peek()
	if err != nil {
		return unexpectedEOF(err)
	}
	if got != c {
		return s.errorf("%s: expected %q, found %q", what, c, got)
	}
	s.pos++
	return nil
}

// startCapture begins recording consumed bytes from the current position.
func (s *scanner) startCapture() {
	s.capturing = true
	s.capture = s.capture[:0]
	s.capStart = s.pos
}

func (s *scanner) endCapture() []byte {
	s.capture = append(s.capture, s.buf[s.capStart:s.pos]...)
	s.capturing = false
	return s.capture
}

// unquote decodes a raw string (opening quote included, closing quote
// not) the way encoding/json does.
func (s *scanner) unquote(raw []byte) (string, error) {
	var v string
	if err := json.Unmarshal(append(raw, '"'), &v); err != nil {
		return "", s.errorf("invalid string: %v", err)
	}
	return v, nil
}

// strRaw scans a string. With keep it returns its raw bytes in scratch
// (opening quote included) and whether it held no escape.
func (s *scanner) strRaw(keep bool) ([]byte, bool, error) {
	if err := s.expect('"', named("string")); err != nil {
		return nil, false, err
	}
	raw := s.scratch[:0]
	if keep {
		raw = append(raw, '"')
	}
	plain := true // no escape, no control byte, valid UTF-8: raw is the value
	for {
		rest := s.buf[s.pos:]
		q := bytes.IndexByte(rest, '"')
		seg := rest
		if q >= 0 {
			seg = rest[:q]
		}
		if b := bytes.IndexByte(seg, '\\'); b >= 0 {
			// An escape: take it whole (it may hide a quote) and go on.
			if keep {
				raw = append(raw, rest[:b]...)
			}
			s.pos += b
			n, err := s.escape()
			if err != nil {
				return nil, false, err
			}
			if keep {
				raw = append(raw, n...)
			}
			plain = false
			continue
		}
		if keep {
			raw = append(raw, seg...)
		}
		s.pos += len(seg)
		if q >= 0 {
			s.pos++ // the closing quote
			break
		}
		if err := s.fill(); err != nil {
			return nil, false, unexpectedEOF(err)
		}
	}
	s.scratch = raw
	return raw, plain, nil
}

// skipStr moves past a string without looking inside it: the closing
// quote is the first one preceded by an even run of backslashes. One
// memchr per buffer, where reading a string checks its escapes too: the
// skipped summaries are most of a response. Their content is not
// validated, as for every value the decoder skips.
func (s *scanner) skipStr() error {
	if err := s.expect('"', named("string")); err != nil {
		return err
	}
	backslashes := 0 // the run of backslashes just before s.pos
	for {
		rest := s.buf[s.pos:]
		q := bytes.IndexByte(rest, '"')
		if q < 0 {
			backslashes = trailingBackslashes(rest, backslashes)
			s.pos += len(rest)
			if err := s.fill(); err != nil {
				return unexpectedEOF(err)
			}
			continue
		}
		run := trailingBackslashes(rest[:q], backslashes)
		s.pos += q + 1
		if run%2 == 0 {
			return nil
		}
		backslashes = 0 // an escaped quote: the run ended at it
	}
}

// trailingBackslashes returns the run of backslashes at the end of b,
// adding before when b is all backslashes.
func trailingBackslashes(b []byte, before int) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	if n == len(b) {
		return before + n
	}
	return n
}

// plainBody returns the text of a raw string (opening quote included) when
// it needs no decoding: no escape, no control byte, valid UTF-8.
func plainBody(raw []byte, noEscape bool) ([]byte, bool) {
	body := raw[1:]
	if !noEscape {
		return nil, false
	}
	for _, c := range body {
		if c < 0x20 {
			return nil, false
		}
	}
	return body, utf8.Valid(body)
}

// key reads an object key. A plain key comes back as bytes of the
// scanner's scratch, valid until the next read, so that matching it
// allocates nothing.
func (s *scanner) key() ([]byte, error) {
	raw, plain, err := s.strRaw(true)
	if err != nil {
		return nil, err
	}
	if plain {
		// Not checked for control bytes or UTF-8: a key that is not
		// one of the decoder's ASCII names only leads to a skip.
		return raw[1:], nil
	}
	v, err := s.unquote(raw)
	return []byte(v), err
}

// escape consumes a backslash escape and returns its raw bytes.
func (s *scanner) escape() ([]byte, error) {
	var e [6]byte
	n := 0
	for n < 2 || (e[1] == 'u' && n < 6) {
		if s.pos >= len(s.buf) {
			if err := s.fill(); err != nil {
				return nil, unexpectedEOF(err)
			}
			continue
		}
		e[n] = s.buf[s.pos]
		s.pos++
		n++
	}
	switch e[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u':
		return e[:n:n], nil
	}
	return nil, s.errorf("invalid escape \\%c", e[1])
}

// literal reads a number, true, false or null, as raw bytes.
func (s *scanner) literal() ([]byte, error) {
	if _, err := s.peek(); err != nil {
		return nil, unexpectedEOF(err)
	}
	lit := s.scratch[:0]
	for {
		for s.pos < len(s.buf) {
			c := s.buf[s.pos]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '+' || c == '.') {
				s.scratch = lit
				if len(lit) == 0 {
					return nil, s.errorf("invalid character %q looking for a value", c)
				}
				return lit, nil
			}
			lit = append(lit, c)
			s.pos++
		}
		if err := s.fill(); err != nil {
			if err == io.EOF && len(lit) > 0 {
				s.scratch = lit
				return lit, nil // a literal may end the input; the caller sees the EOF next
			}
			return nil, unexpectedEOF(err)
		}
	}
}

// skip consumes one value of any type without keeping it, checking that
// brackets match.
func (s *scanner) skip() error {
	var stack []byte
	for {
		c, err := s.peek()
		if err != nil {
			return unexpectedEOF(err)
		}
		switch c {
		case '"':
			if err := s.skipStr(); err != nil {
				return err
			}
		case '{', '[':
			s.pos++
			stack = append(stack, c)
			continue
		case '}', ']':
			if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
				return s.errorf("invalid character %q", c)
			}
			s.pos++
			stack = stack[:len(stack)-1]
		case ',', ':':
			if len(stack) == 0 {
				return s.errorf("invalid character %q looking for a value", c)
			}
			s.pos++
			continue
		default:
			if _, err := s.literal(); err != nil {
				return err
			}
		}
		if len(stack) == 0 {
			return nil
		}
	}
}

// next consumes the ',' between members or the closing byte; it reports
// whether another member follows.
func (s *scanner) next(close byte, what place) (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, unexpectedEOF(err)
	}
	s.pos++
	switch c {
	case ',':
		return true, nil
	case close:
		return false, nil
	}
	return false, s.errorf("%s: expected ',' or %q, found %q", what, close, c)
}

// members walks an object whose '{' is next, calling fn for each key with
// the value next to read.
func (s *scanner) members(what place, fn func(key []byte) error) error {
	if err := s.expect('{', what); err != nil {
		return err
	}
	if c, err := s.peek(); err != nil {
		return unexpectedEOF(err)
	} else if c == '}' {
		s.pos++
		return nil
	}
	for {
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':', what); err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
		more, err := s.next('}', what)
		if err != nil || !more {
			return err
		}
	}
}

func (s *scanner) response(fn func(Call) error) (Page, error) {
	page := Page{TotalCount: -1, Count: -1}
	sawCalls := false
	err := s.members(named("the response"), func(k []byte) error {
		switch key := string(k); key {
		case "total_count", "count":
			n, err := s.count(key)
			if key == "count" {
				page.Count = n
			} else {
				page.TotalCount = n
			}
			return err
		case "calls":
			sawCalls = true
			return s.calls(&page, fn)
		}
		return s.skip()
	})
	if err != nil {
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

func (s *scanner) count(key string) (int, error) {
	c, err := s.peek()
	if err != nil {
		return 0, unexpectedEOF(err)
	}
	if c == '"' || c == '{' || c == '[' {
		return 0, s.errorf("%s is not a number", key)
	}
	lit, err := s.literal()
	if err != nil {
		return 0, err
	}
	if string(lit) == "null" {
		return -1, nil
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return 0, s.errorf("%s %s is not a count", key, lit)
	}
	return int(n), nil
}

func (s *scanner) calls(page *Page, fn func(Call) error) error {
	c, err := s.peek()
	if err != nil {
		return unexpectedEOF(err)
	}
	if c == 'n' {
		return s.null(`"calls"`)
	}
	if c != '[' {
		return s.errorf(`"calls" is not a list`)
	}
	s.pos++
	if c, err := s.peek(); err != nil {
		return unexpectedEOF(err)
	} else if c == ']' {
		s.pos++
		return nil
	}
	for {
		call, err := s.call(page.Calls)
		if err != nil {
			return err
		}
		page.Calls++
		if err := fn(call); err != nil {
			return err
		}
		more, err := s.next(']', named(`the "calls" list`))
		if err != nil || !more {
			return err
		}
	}
}

func (s *scanner) null(what string) error {
	lit, err := s.literal()
	if err != nil {
		return err
	}
	if string(lit) != "null" {
		return s.errorf("%s: invalid literal %s", what, lit)
	}
	return nil
}

// call reads call object i.
func (s *scanner) call(i int) (Call, error) {
	var c Call
	if ch, err := s.peek(); err != nil {
		return c, unexpectedEOF(err)
	} else if ch != '{' {
		return c, s.errorf("call %d is not an object", i)
	}
	s.fields, s.spans = s.fields[:0], s.spans[:0]
	err := s.members(place{"call", i}, func(k []byte) error {
		// The names are passed as constants: a string of k kept for
		// errors would be allocated for every member of every call.
		switch string(k) {
		case "call_id":
			return s.text(fieldID, i, "call_id")
		case "c_id":
			return s.text(fieldID, i, "c_id")
		case "created_at":
			return s.text(fieldCreated, i, "created_at")
		case "to":
			return s.text(fieldTo, i, "to")
		case "from":
			return s.text(fieldFrom, i, "from")
		case "batch_id":
			if s.skipFields.BatchID {
				return s.skip()
			}
			return s.text(fieldBatchID, i, "batch_id")
		case "status":
			if s.skipFields.Status {
				return s.skip()
			}
			return s.text(fieldStatus, i, "status")
		case "answered_by":
			if s.skipFields.AnsweredBy {
				return s.skip()
			}
			return s.text(fieldAnsweredBy, i, "answered_by")
		case "inbound":
			return s.boolean(&c.Inbound, i)
		case "call_length":
			if s.skipFields.CallLength {
				return s.skip()
			}
			return s.length(&c, i)
		case "metadata":
			if s.skipFields.Metadata {
				return s.skip()
			}
			ch, err := s.peek()
			if err != nil {
				return unexpectedEOF(err)
			}
			s.startCapture()
			err = s.skip()
			raw := s.endCapture()
			if err != nil {
				return err
			}
			if !json.Valid(raw) {
				return fmt.Errorf("call %d: metadata is not valid JSON", i)
			}
			c.Metadata = nil
			if ch != 'n' {
				c.Metadata = append(json.RawMessage(nil), bytes.TrimSpace(raw)...)
			}
			return nil
		}
		return s.skip()
	})
	if err != nil {
		return c, err
	}
	created := s.setFields(&c)
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

// text reads field: a string, null (""), or a number kept as written (a
// phone may come as one). Its value goes to s.fields; setFields sets it.
func (s *scanner) text(field textField, i int, key string) error {
	c, err := s.peek()
	if err != nil {
		return unexpectedEOF(err)
	}
	start := len(s.fields)
	switch {
	case c == '"': // decoded and validated as encoding/json does
		raw, plain, err := s.strRaw(true)
		if err != nil {
			return err
		}
		if b, ok := plainBody(raw, plain); ok {
			s.fields = append(s.fields, b...)
		} else {
			v, err := s.unquote(raw)
			if err != nil {
				return err
			}
			s.fields = append(s.fields, v...)
		}
	case c == 'n':
		if err := s.null(key); err != nil {
			return err
		}
	case c == '-' || c >= '0' && c <= '9':
		lit, err := s.literal()
		if err != nil {
			return err
		}
		if !json.Valid(lit) {
			return s.errorf("call %d: %s: invalid number %s", i, key, lit)
		}
		s.fields = append(s.fields, lit...)
	default:
		return fmt.Errorf("call %d: %s is not a string", i, key)
	}
	s.spans = append(s.spans, fieldSpan{field, start, len(s.fields)})
	return nil
}

// setFields sets the text fields read into c, cut from one string, and
// returns created_at. A field read twice takes its last value.
func (s *scanner) setFields(c *Call) (created string) {
	if len(s.spans) == 0 {
		return ""
	}
	all := string(s.fields)
	for _, f := range s.spans {
		v := all[f.start:f.end]
		switch f.field {
		case fieldID:
			c.ID = v
		case fieldCreated:
			created = v
		case fieldTo:
			c.To = v
		case fieldFrom:
			c.From = v
		case fieldBatchID:
			c.BatchID = v
		case fieldStatus:
			c.Status = v
		case fieldAnsweredBy:
			c.AnsweredBy = v
		}
	}
	return created
}

func (s *scanner) boolean(dst *bool, i int) error {
	if c, err := s.peek(); err != nil {
		return unexpectedEOF(err)
	} else if c == '"' || c == '{' || c == '[' {
		return fmt.Errorf("call %d: inbound is not a bool", i)
	}
	lit, err := s.literal()
	if err != nil {
		return err
	}
	switch string(lit) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	case "null":
	default:
		return fmt.Errorf("call %d: inbound is %s, not a bool", i, lit)
	}
	return nil
}

func (s *scanner) length(c *Call, i int) error {
	if ch, err := s.peek(); err != nil {
		return unexpectedEOF(err)
	} else if ch == '"' || ch == '{' || ch == '[' {
		return fmt.Errorf("call %d: call_length is not a number", i)
	}
	lit, err := s.literal()
	if err != nil {
		return err
	}
	if string(lit) == "null" {
		c.HasLength = false
		return nil
	}
	if !json.Valid(lit) {
		return fmt.Errorf("call %d: call_length %s is not a number", i, lit)
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return fmt.Errorf("call %d: call_length %s: %v", i, lit, err)
	}
	c.CallLength, c.HasLength = f, true
	return nil
}

// parseCreated reads created_at: RFC 3339 with any fraction, Z or an offset.
func parseCreated(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("no created_at")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && len(s) > 10 && s[10] == ' ' {
		t, err = time.Parse(time.RFC3339Nano, s[:10]+"T"+s[11:])
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("created_at %q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}
