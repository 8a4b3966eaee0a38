package etl

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Record is one row flowing through a pipeline: field name to value.
//
// Records are shared between consumers when a block feeds several others, so
// a stage must never modify a record it received; use With or Clone to derive
// a new one.
type Record map[string]cty.Value

// Get returns the field's value, or cty.NullVal(cty.DynamicPseudoType) when the
// record has no such field.
func (r Record) Get(name string) cty.Value {
	if v, ok := r[name]; ok {
		return v
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// String returns a string field, or "" when the field is missing, null or not
// a string.
func (r Record) String(name string) string {
	v, ok := r[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// Clone returns a shallow copy. extra is a hint of how many fields the
// caller will add.
func (r Record) Clone(extra int) Record {
	if len(r)+extra <= 8 {
		// A small map clones as one memory copy; no need for a size hint.
		return maps.Clone(r)
	}
	c := make(Record, len(r)+extra)
	for k, v := range r {
		c[k] = v
	}
	return c
}

// With returns a copy of r with the given fields set, leaving r untouched.
func (r Record) With(fields Record) Record {
	c := r.Clone(len(fields))
	for k, v := range fields {
		c[k] = v
	}
	return c
}

// Value returns the record as a cty object, the form HCL expressions see as
// `record`.
func (r Record) Value() cty.Value {
	if len(r) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(r)
}

// Mark ends a partition: every record of the partition has been sent before
// it. Marks travel in band, in order, through every stage.
type Mark struct {
	// Source is the source block that started the partition.
	Source Addr
	// Partition names it, e.g. the date "2025-12-01".
	Partition string
	// Incomplete is set by a source that could not read the whole partition
	// but was told to carry on (on_incomplete = "warn").
	Incomplete bool
	// Open is set by a source whose partition is not over yet (today's
	// date, still filling up): its records go through every stage, but the
	// checkpoint records neither the partition nor the state it changed,
	// so that the next run reads it again, whole.
	Open bool
	// Info carries counts about the partition for downstream stages, the
	// report and the checkpoint, by InfoKey name. Set and read it through
	// InfoKeys (InfoBytes, InfoInvalidPhones): a stage then needs no other
	// plugin's names. Read-only once sent.
	Info map[string]int64
}

// Batch is the unit that travels over the engine's channels: records, then
// optionally the mark that ends their partition.
type Batch struct {
	Records []Record
	Mark    *Mark
}

// TimeLayout is how times are stored in records: RFC 3339 in UTC with a fixed
// nine-digit fraction, so that comparing two such strings compares the times.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// TimeVal returns t as a record value (a string in TimeLayout, UTC).
func TimeVal(t time.Time) cty.Value {
	var buf [len("2006-01-02T15:04:05.000000000Z")]byte
	return cty.StringVal(string(AppendTime(buf[:0], t)))
}

// AppendTime appends t in TimeLayout (UTC) to b. It writes the digits itself
// for years 0 to 9999, which is several times faster than time.Format: a
// source stamps every record with a time.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends n (>= 0) as exactly width decimal digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for i := 0; i < width; i++ {
		b = append(b, '0')
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// ParseTime reads a time from a record value written by TimeVal or any
// RFC 3339 string.
func ParseTime(v cty.Value) (time.Time, error) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return time.Time{}, fmt.Errorf("not a time: %s", Describe(v))
	}
	s := v.AsString()
	if t, ok := TimeOf(s); ok {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// TimeOf returns the time a string in TimeLayout (what TimeVal writes)
// holds, read at its fixed offsets: a time that a source parsed once and
// stamped on its records crosses the pipeline without being parsed again.
// ok is false for any other string (parse those with time.Parse).
func TimeOf(s string) (t time.Time, ok bool) {
	if !IsTimeLayout(s) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return t, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				ok = false
				return 0
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	ok = true
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, nsec := num(11, 13), num(14, 16), num(17, 19), num(20, 29)
	if !ok || month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 59 {
		return t, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // February 30th, say: time.Date moved it on
		return time.Time{}, false
	}
	return t, true
}

// MilliTime returns a TimeLayout string in MilliLayout (milliseconds, as
// the redial queue file writes times), truncating as time.Format does,
// without parsing it; ok is false for any other string.
func MilliTime(s string) (string, bool) {
	if _, ok := TimeOf(s); !ok {
		return "", false
	}
	return s[:len("2006-01-02T15:04:05.000")] + "Z", true
}

// Compare orders two values: numbers numerically, strings that both parse as
// RFC 3339 times by time, other strings lexically, bools false < true. Null
// sorts before everything. Values of different types compare by type name so
// the order is total and deterministic.
func Compare(a, b cty.Value) int {
	an, bn := a.IsNull() || !a.IsKnown(), b.IsNull() || !b.IsKnown()
	switch {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	a, b = Unmarked(a), Unmarked(b)
	if !a.Type().Equals(b.Type()) {
		return strings.Compare(a.Type().FriendlyName(), b.Type().FriendlyName())
	}
	switch a.Type() {
	case cty.Number:
		// Equal as cty sees it (a float read back from its text) first:
		// the big.Float precisions of two equal numbers may differ.
		if a.Equals(b).True() {
			return 0
		}
		return a.AsBigFloat().Cmp(b.AsBigFloat())
	case cty.String:
		as, bs := a.AsString(), b.AsString()
		if !(IsTimeLayout(as) && IsTimeLayout(bs)) {
			// TimeLayout strings compare correctly as text (the fast path
			// for order_by); other RFC 3339 strings are parsed.
			if ta, tb, ok := bothTimes(as, bs); ok {
				return ta.Compare(tb)
			}
		}
		return strings.Compare(as, bs)
	case cty.Bool:
		switch {
		case a.True() == b.True():
			return 0
		case b.True():
			return -1
		default:
			return 1
		}
	}
	return strings.Compare(Describe(a), Describe(b))
}

// IsTimeLayout reports whether s looks like a TimeVal string: fixed width
// and UTC, so that its lexical order is its time order.
func IsTimeLayout(s string) bool {
	return len(s) == len("2006-01-02T15:04:05.000000000Z") && s[len(s)-1] == 'Z' && s[19] == '.'
}

func bothTimes(a, b string) (time.Time, time.Time, bool) {
	if len(a) < 20 || len(b) < 20 || a[4] != '-' || b[4] != '-' {
		return time.Time{}, time.Time{}, false
	}
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return ta, tb, err1 == nil && err2 == nil
}

// Describe renders a value briefly for messages: strings quoted, numbers as
// written, others by their type.
func Describe(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "(unknown)"
	case v.IsMarked():
		return "(sensitive)"
	case v.IsNull():
		return "null"
	case v.Type() == cty.String:
		return fmt.Sprintf("%q", v.AsString())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('g', -1)
	case v.Type() == cty.Bool:
		return fmt.Sprint(v.True())
	}
	return v.Type().FriendlyName()
}

// NumberVal is a shorthand for an integer record value.
func NumberVal(n int64) cty.Value { return cty.NumberIntVal(n) }
