package etl

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// jsonParser turns JSON text straight into cty values, without going
// through encoding/json's interface values: for the small objects of API
// data (a call's metadata) it is several times faster, and numbers keep
// their exact text.
type jsonParser struct {
	data []byte
	pos  int
	// tags turns on the tagged forms of AppendValue ({"$null": T},
	// {"$cty": V}): records we stored. API data is read without them.
	tags bool
	// depth counts open objects and arrays: API data nested without end
	// must be an error, not a stack overflow.
	depth int
	// cache, when set, supplies repeated keys and short strings.
	cache *JSONDecoder
}

// JSONDecoder converts JSON values as ValueFromJSON does, and keeps the
// object keys and short strings it meets, so that the values after that
// repeat them (the keys of every call's metadata, a campaign name) cost no
// allocation and no Unicode normalisation. A source converting one such
// object per record saves a third of the conversion. Not safe for
// concurrent use; what it keeps is bounded.
type JSONDecoder struct {
	keys map[string]string
	strs map[string]cty.Value
	// width is the number of fields of the last record read: records of a
	// file have much the same, and a map made that large does not grow.
	width int
	// slots are what Record saw at each member position of the records
	// before: the lines of a file mostly list the same members in the same
	// order, so a member's name is checked against the one at its position
	// (one comparison, no hash), and its string value is handled as that
	// member's values were (see slot).
	slots []slot
	// ints holds the values of the integers 0 to smallInts-1, made as
	// met: counts and flags repeat, and a number costs two allocations.
	ints []cty.Value
}

// slot is what Record knows of the member at one position.
type slot struct {
	name string
	// last is the member's last string value, which a constant column
	// repeats.
	last cty.Value
	// hits and misses count the lookups of its string values in the
	// decoder's strings: a member whose values seldom repeat (an id, a
	// phone) is looked up, and kept, only once in probeEvery values, so
	// that it costs little and crowds out little; the lookups it still
	// makes notice when its values start repeating.
	hits, misses int
	// skipped counts the values not looked up since the last lookup.
	skipped int
}

// probeEvery is how often the values of a member whose values seldom
// repeat are looked up all the same.
const probeEvery = 32

// lookup says whether to look up the slot's next string value: always
// until its 64th miss, then while at least one lookup in five finds its
// string, else once in probeEvery values.
func (s *slot) lookup() bool {
	if s.misses < 64 || s.misses <= 4*s.hits {
		return true
	}
	s.skipped++
	if s.skipped < probeEvery {
		return false
	}
	s.skipped = 0
	return true
}

// Bounds of what a JSONDecoder keeps: distinct keys and strings, and the
// length of a string worth keeping.
const (
	maxCachedWords = 4096
	maxCachedLen   = 40
	// maxSlots bounds the member positions Record follows.
	maxSlots = 256
	// smallInts is how many of the integers from 0 up are kept.
	smallInts = 1024
)

// Value converts one JSON value.
func (d *JSONDecoder) Value(data []byte) (cty.Value, error) {
	if d.keys == nil {
		d.keys, d.strs = map[string]string{}, map[string]cty.Value{}
	}
	p := jsonParser{data: data, cache: d}
	v, err := p.value()
	if err != nil {
		return cty.NilVal, err
	}
	return v, p.end()
}

// Record converts one JSON object to a record, its members the fields and
// their values converted as Value converts them. With want non-nil, only
// the members it names are converted: the others are skipped (their
// strings and brackets are checked, their literals are not), which is what
// a source does for the fields no block reads. Anything but an object is
// an error.
func (d *JSONDecoder) Record(data []byte, want map[string]bool) (Record, error) {
	if d.keys == nil {
		d.keys, d.strs = map[string]string{}, map[string]cty.Value{}
	}
	p := jsonParser{data: data, cache: d, depth: 1}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, p.errorf("a record must be a JSON object")
	}
	p.pos++ // {
	rec := make(Record, d.width)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		d.width = 0
		return rec, p.end()
	}
	for i := 0; ; i++ {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected a member name")
		}
		var name string
		var sl *slot
		if raw, ok := p.plainStr(); ok {
			sl = d.slot(i, raw)
			if sl != nil {
				name = sl.name
			} else {
				name = d.key(raw)
			}
		} else {
			var err error
			if name, err = p.str(); err != nil {
				return nil, err
			}
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.pos++
		p.space()
		if want != nil && !want[name] {
			start := p.pos
			if err := p.skip(); err != nil {
				return nil, err
			}
			if p.pos == start {
				return nil, p.errorf("expected a value")
			}
		} else if p.pos < len(p.data) && p.data[p.pos] == '"' && sl != nil {
			v, err := p.slotString(sl)
			if err != nil {
				return nil, err
			}
			rec[name] = v
		} else {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			rec[name] = v
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
			d.width = len(rec)
			return rec, p.end()
		}
		return nil, p.errorf("expected ',' or '}'")
	}
}

// slot returns the slot of the member at position i, whose name is raw:
// the one the records before had there, or a new one when they had
// another member there (or none). nil past maxSlots.
func (d *JSONDecoder) slot(i int, raw []byte) *slot {
	switch {
	case i < len(d.slots) && d.slots[i].name == string(raw):
		return &d.slots[i]
	case i < len(d.slots):
		d.slots[i] = slot{name: d.key(raw)}
		return &d.slots[i]
	case i == len(d.slots) && i < maxSlots:
		d.slots = append(d.slots, slot{name: d.key(raw)})
		return &d.slots[i]
	}
	return nil
}

// slotString reads the string value of sl's member (the position is on
// its opening quote): sl's last value when it is the same, else the kept
// one, else a new one, kept when sl's values repeat.
func (p *jsonParser) slotString(sl *slot) (cty.Value, error) {
	raw, ok := p.plainStr()
	if !ok {
		s, err := p.str()
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(s), nil
	}
	if sl.last != cty.NilVal && sl.last.AsString() == string(raw) {
		return sl.last, nil
	}
	var v cty.Value
	if !sl.lookup() {
		v = cty.StringVal(string(raw))
	} else if kept, hit := p.cache.strs[string(raw)]; hit {
		sl.hits++
		v = kept
	} else {
		sl.misses++
		if len(p.cache.strs) >= maxCachedWords {
			// Full, maybe of values that no longer come (the members
			// that seldom repeat still keep one in probeEvery): start
			// again rather than keep nothing new for the rest of the file.
			clear(p.cache.strs)
		}
		v = p.cache.keep(raw)
	}
	sl.last = v
	return v, nil
}

// str returns the string value of raw, kept if short.
func (d *JSONDecoder) str(raw []byte) cty.Value {
	if v, ok := d.strs[string(raw)]; ok {
		return v
	}
	return d.keep(raw)
}

// keep returns a new string value of raw, kept if short and there is
// room.
func (d *JSONDecoder) keep(raw []byte) cty.Value {
	v := cty.StringVal(string(raw))
	if len(raw) <= maxCachedLen && len(d.strs) < maxCachedWords {
		d.strs[v.AsString()] = v
	}
	return v
}

// key returns raw as a string, the kept one if any.
func (d *JSONDecoder) key(raw []byte) string {
	if k, ok := d.keys[string(raw)]; ok {
		return k
	}
	k := string(raw)
	if len(d.keys) < maxCachedWords {
		d.keys[k] = k
	}
	return k
}

// plainStr reads a string with no escape, as raw bytes of the input, or
// reports that it has escapes (the position is then unchanged).
func (p *jsonParser) plainStr() ([]byte, bool) {
	start := p.pos + 1
	end := start
	var bits byte // every byte or'd: ASCII needs no UTF-8 check
	for end < len(p.data) {
		c := p.data[end]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 {
			return nil, false
		}
		bits |= c
		end++
	}
	if end >= len(p.data) || (bits >= utf8.RuneSelf && !utf8.Valid(p.data[start:end])) {
		return nil, false
	}
	p.pos = end + 1
	return p.data[start:end], true
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// maxExponent bounds a number's decimal exponent: math/big's cost grows
// with it, and 1e-1000000 in API data must not stall a run.
const maxExponent = 10000

func parseJSONValue(data []byte, tags bool) (cty.Value, error) {
	p := &jsonParser{data: data, tags: tags}
	v, err := p.value()
	if err != nil {
		return cty.NilVal, err
	}
	return v, p.end()
}

// parseRecord reads a top-level object as a record: its members are the
// fields (no tag is interpreted at this level).
func parseRecord(data []byte) (Record, error) {
	p := &jsonParser{data: data, tags: true}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, p.errorf("a record must be a JSON object")
	}
	attrs, _, err := p.members(false)
	if err != nil {
		return nil, err
	}
	return Record(attrs), p.end()
}

func (p *jsonParser) end() error {
	p.space()
	if p.pos != len(p.data) {
		return p.errorf("unexpected data after the value")
	}
	return nil
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("JSON at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (cty.Value, error) {
	p.space()
	if p.pos >= len(p.data) {
		return cty.NilVal, p.errorf("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case (c == '{' || c == '[') && p.depth >= maxDepth:
		return cty.NilVal, p.errorf("nested deeper than %d levels", maxDepth)
	case c == '{':
		p.depth++
		defer func() { p.depth-- }()
		return p.object()
	case c == '[':
		p.depth++
		defer func() { p.depth-- }()
		return p.array()
	case c == '"':
		if p.cache != nil {
			if raw, ok := p.plainStr(); ok {
				return p.cache.str(raw), nil
			}
		}
		s, err := p.str()
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(s), nil
	case c == 't':
		return p.literal("true", cty.True)
	case c == 'f':
		return p.literal("false", cty.False)
	case c == 'n':
		return p.literal("null", cty.NullVal(cty.DynamicPseudoType))
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return cty.NilVal, p.errorf("unexpected %q", p.data[p.pos])
}

func (p *jsonParser) literal(word string, v cty.Value) (cty.Value, error) {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return cty.NilVal, p.errorf("invalid literal")
	}
	p.pos += len(word)
	return v, nil
}

func (p *jsonParser) number() (cty.Value, error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.pos++
			continue
		}
		break
	}
	if v, ok := p.smallInt(p.data[start:p.pos]); ok {
		return v, nil
	}
	text := string(p.data[start:p.pos])
	if !json.Valid([]byte(text)) {
		return cty.NilVal, p.errorf("invalid number %q", text)
	}
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		if exp, err := strconv.Atoi(strings.TrimPrefix(text[i+1:], "+")); err != nil || exp > maxExponent || exp < -maxExponent {
			return cty.NilVal, p.errorf("number %q out of range", text)
		}
	}
	v, err := cty.ParseNumberVal(text)
	if err != nil {
		return cty.NilVal, p.errorf("number %q out of range", text)
	}
	return v, nil
}

// smallInt is the package's smallInt, the integers 0 to smallInts-1 kept
// in the decoder, made once each.
func (p *jsonParser) smallInt(b []byte) (cty.Value, bool) {
	if p.cache == nil || len(b) == 0 || len(b) > 4 || (b[0] == '0' && len(b) > 1) {
		return smallInt(b)
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return smallInt(b)
		}
		n = n*10 + int(c-'0')
	}
	if n >= smallInts {
		return smallInt(b)
	}
	if p.cache.ints == nil {
		p.cache.ints = make([]cty.Value, smallInts)
	}
	v := &p.cache.ints[n]
	if *v == cty.NilVal {
		*v, _ = smallInt(b)
	}
	return *v, true
}

// smallInt converts a JSON integer of up to 18 digits without parsing it as
// a decimal (ids and counts are most numbers in API data, and big.ParseFloat
// is slow). The value is the one cty.ParseNumberVal gives: same precision
// and rounding mode, so arithmetic on it is the same.
func smallInt(b []byte) (cty.Value, bool) {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return cty.NilVal, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return cty.NilVal, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) != len(b) {
		if n == 0 {
			return cty.NilVal, false // -0 is a negative zero in big.Float
		}
		n = -n
	}
	return cty.NumberVal(new(big.Float).SetPrec(512).SetInt64(n)), true
}

// str reads a string. Escapes and invalid UTF-8 are rare in API data, so
// only strings that have them go through encoding/json (which replaces
// invalid bytes with U+FFFD, as cty would).
func (p *jsonParser) str() (string, error) {
	if raw, ok := p.plainStr(); ok {
		return string(raw), nil
	}
	start := p.pos
	p.pos++ // opening quote
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			var s string
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				return "", p.errorf("invalid string: %v", err)
			}
			return s, nil
		case c == '\\':
			p.pos += 2
		case c < 0x20:
			return "", p.errorf("control character in string")
		default:
			p.pos++
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) object() (cty.Value, error) {
	attrs, tagged, err := p.members(p.tags)
	if err != nil {
		return cty.NilVal, err
	}
	if tagged != nil {
		return *tagged, nil
	}
	if len(attrs) == 0 {
		return cty.EmptyObjectVal, nil
	}
	return cty.ObjectVal(attrs), nil
}

// members reads an object's members. With tags, an object whose only
// member is "$null" or "$cty" is a tagged value, returned as tagged: its
// member's raw JSON goes to go-cty. A "$null"/"$cty" member among others is
// an ordinary member.
func (p *jsonParser) members(tags bool) (attrs map[string]cty.Value, tagged *cty.Value, err error) {
	p.pos++ // {
	attrs = map[string]cty.Value{}
	var tagName string
	var tagRaw []byte
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return attrs, nil, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, nil, p.errorf("expected a member name")
		}
		var name string
		if raw, ok := p.plainStr(); ok && p.cache != nil {
			name = p.cache.key(raw)
		} else if ok {
			name = string(raw) // plainStr has read it
		} else if name, err = p.str(); err != nil {
			return nil, nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, nil, p.errorf("expected ':'")
		}
		p.pos++
		if tags && (name == "$null" || name == "$cty") && len(attrs) == 0 && tagName == "" {
			// Keep the raw value: it is go-cty's JSON, not ours.
			p.space()
			start := p.pos
			if err := p.skip(); err != nil {
				return nil, nil, err
			}
			tagName, tagRaw = name, p.data[start:p.pos]
		} else {
			if tagName != "" {
				// Not a tag after all: read the held member as a value.
				v, err := parseJSONValue(tagRaw, true)
				if err != nil {
					return nil, nil, err
				}
				attrs[tagName], tagName = v, ""
			}
			v, err := p.value()
			if err != nil {
				return nil, nil, err
			}
			attrs[name] = v
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, nil, p.errorf("unterminated object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
		default:
			return nil, nil, p.errorf("expected ',' or '}'")
		}
		break
	}
	if tagName == "" {
		return attrs, nil, nil
	}
	var v cty.Value
	if tagName == "$null" {
		ty, err := ctyjson.UnmarshalType(tagRaw)
		if err != nil {
			return nil, nil, p.errorf("tagged null: %v", err)
		}
		v = cty.NullVal(ty)
	} else {
		var err error
		if v, err = ctyjson.Unmarshal(tagRaw, cty.DynamicPseudoType); err != nil {
			return nil, nil, p.errorf("tagged value: %v", err)
		}
	}
	return nil, &v, nil
}

// skip moves past one JSON value without converting it.
func (p *jsonParser) skip() error {
	depth := 0
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; c {
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
			if depth == 0 {
				return nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return nil // the end of the object or array holding a scalar
			}
			depth--
			if depth == 0 {
				p.pos++
				return nil
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return nil
			}
		}
		p.pos++
	}
	if depth > 0 {
		return p.errorf("unterminated value")
	}
	return nil
}

func (p *jsonParser) array() (cty.Value, error) {
	p.pos++ // [
	var vals []cty.Value
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return cty.EmptyTupleVal, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return cty.NilVal, err
		}
		vals = append(vals, v)
		p.space()
		if p.pos >= len(p.data) {
			return cty.NilVal, p.errorf("unterminated array")
		}
		if p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.data[p.pos] == ']' {
			p.pos++
			return cty.TupleVal(vals), nil
		}
		return cty.NilVal, p.errorf("expected ',' or ']'")
	}
}
