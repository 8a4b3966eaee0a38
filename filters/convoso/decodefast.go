package convoso

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// leadParsers reuse fastjson's parsers: a parser keeps the values of its
// last answer and reuses their memory for the next.
var leadParsers fastjson.ParserPool

// decodeLeadsFast decodes the usual answer of lead search, parsed once by
// fastjson without reflection: 3.7 µs and 15 allocations an answer of two
// leads, against 8.3 µs and 25 through encoding/json (BenchmarkDecodeLeads,
// BenchmarkDecodeLeadsEncodingJSON). It reads only the plain shapes: success
// true, integers as JSON integers or digit strings, lead fields as
// strings, JSON integers or null, each key once and spelled as Convoso
// spells it (encoding/json also takes other cases). Anything else, or any
// answer it could read differently from decodeLeadsStepwise, is ok=false,
// and DecodeLeads falls back to encoding/json (FuzzDecodeLeads holds the
// two to the same result).
func decodeLeadsFast(body []byte) (p *LeadPage, ok bool) {
	// The parser takes what the JSON spec does not (control bytes in
	// strings, say); its validator does not, but for control bytes
	// before a string's last escape (controlInString). The parser goes
	// first: it stops at fastjson.MaxDepth (300) levels, where the
	// validator recurses without bound (a stack overflow at 3 MB of
	// brackets) and wraps its error once a level (9 s for 10 KB of "[").
	parser := leadParsers.Get()
	defer leadParsers.Put(parser)
	v, err := parser.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject || fastjson.ValidateBytes(body) != nil || controlInString(body) {
		return nil, false
	}
	ok = true
	var success, data *fastjson.Value
	v.GetObject().Visit(func(k []byte, val *fastjson.Value) {
		switch string(k) {
		case "success":
			ok = ok && success == nil
			success = val
		case "data":
			ok = ok && data == nil
			data = val
		case "code":
			_, good := flexIntOf(val)
			ok = ok && good
		case "text":
			_, good := flexStringOf(val)
			ok = ok && good
		default:
			ok = ok && !foldsTo(k, "success", "data", "code", "text")
		}
	})
	if !ok || success == nil || success.Type() != fastjson.TypeTrue || data == nil || data.Type() != fastjson.TypeObject {
		return nil, false
	}
	var page [3]int // offset, limit, total
	var entries *fastjson.Value
	seen := 0
	data.GetObject().Visit(func(k []byte, val *fastjson.Value) {
		i := -1
		switch string(k) {
		case "offset":
			i = 0
		case "limit":
			i = 1
		case "total":
			i = 2
		case "entries":
			ok = ok && entries == nil
			entries = val
			return
		default:
			ok = ok && !foldsTo(k, "offset", "limit", "total", "entries")
			return
		}
		n, good := flexIntOf(val)
		ok = ok && good && seen&(1<<i) == 0
		seen |= 1 << i
		page[i] = n
	})
	if !ok || page[0] < 0 || page[2] < 0 {
		return nil, false
	}
	p = &LeadPage{Offset: page[0], Limit: page[1], Total: page[2]}
	if entries == nil || entries.Type() == fastjson.TypeNull {
		p.Leads = []Lead{}
		return p, true
	}
	list, err := entries.Array()
	if err != nil {
		return nil, false
	}
	p.Leads = make([]Lead, 0, len(list))
	for _, e := range list {
		l, good := leadOf(e)
		if !good {
			return nil, false
		}
		p.Leads = append(p.Leads, l)
	}
	return p, true
}

// leadFieldNames are the fields of an entry a Lead is made of.
var leadFieldNames = [...]string{"id", "lead_id", "list_id", "status", "modified_at"}

// leadOf reads an entry; ok is false when it is not an object, repeats
// or mis-cases a field, has a field of another shape, or has no id.
func leadOf(e *fastjson.Value) (Lead, bool) {
	o, err := e.Object()
	if err != nil {
		return Lead{}, false
	}
	var f [len(leadFieldNames)]string
	ok, seen := true, 0
	o.Visit(func(k []byte, val *fastjson.Value) {
		for i, name := range leadFieldNames {
			if string(k) == name {
				s, good := flexStringOf(val)
				ok = ok && good && seen&(1<<i) == 0
				seen |= 1 << i
				f[i] = s
				return
			}
		}
		ok = ok && !foldsTo(k, leadFieldNames[:]...)
	})
	id := f[1]
	if id == "" {
		id = f[0]
	}
	return Lead{ID: id, ListID: f[2], Status: f[3], ModifiedAt: f[4]}, ok && id != ""
}

// flexStringOf reads a value as flexString does, for the shapes read
// alike: null, a string that is valid UTF-8 with no replacement character
// (which encoding/json makes of bad bytes, and fastjson of a high
// surrogate with no low one after it, swallowing the escape that follows)
// and no backslash (fastjson leaves a lone low surrogate's escape as it
// was), a JSON integer.
func flexStringOf(v *fastjson.Value) (string, bool) {
	switch v.Type() {
	case fastjson.TypeNull:
		return "", true
	case fastjson.TypeString:
		b := v.GetStringBytes()
		if !utf8.Valid(b) || strings.ContainsRune(string(b), utf8.RuneError) || strings.IndexByte(string(b), '\\') >= 0 {
			return "", false
		}
		return string(b), true
	case fastjson.TypeNumber:
		raw := v.MarshalTo(nil) // a number's text as sent
		if !isJSONInt(raw) {
			return "", false
		}
		return string(raw), true
	}
	return "", false
}

// flexIntOf reads a value as flexInt does, for the shapes flexStringOf
// reads.
func flexIntOf(v *fastjson.Value) (int, bool) {
	s, ok := flexStringOf(v)
	if !ok {
		return 0, false
	}
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	return int(n), err == nil
}

// foldsTo reports whether k is one of names in another case: encoding/json
// would read it as that field.
func foldsTo(k []byte, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(string(k), n) {
			return true
		}
	}
	return false
}

// controlInString reports whether a string of body (valid JSON to
// fastjson) holds a raw control byte: fastjson's validator checks only
// the part of a string after its last escape.
func controlInString(body []byte) bool {
	if bytes.IndexByte(body, '\\') < 0 {
		return false // no escape: the validator checked every string whole
	}
	in := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !in:
			in = c == '"'
		case c == '\\':
			i++
		case c == '"':
			in = false
		case c < 0x20:
			return true
		}
	}
	return false
}
