package etl

import (
	"encoding/json"
	"fmt"
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
}

func parseJSONValue(data []byte) (cty.Value, error) {
	p := &jsonParser{data: data}
	v, err := p.value()
	if err != nil {
		return cty.NilVal, err
	}
	return v, p.end()
}

// parseRecord reads a top-level object as a record: its members are the
// fields (no tag is interpreted at this level).
func parseRecord(data []byte) (Record, error) {
	p := &jsonParser{data: data}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, p.errorf("a record must be a JSON object")
	}
	attrs, err := p.members()
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
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
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
	text := string(p.data[start:p.pos])
	if !json.Valid([]byte(text)) {
		return cty.NilVal, p.errorf("invalid number %q", text)
	}
	v, err := cty.ParseNumberVal(text)
	if err != nil {
		return cty.NilVal, p.errorf("number %q out of range", text)
	}
	return v, nil
}

// str reads a string. Escapes and invalid UTF-8 are rare in API data, so
// only strings that have them go through encoding/json (which replaces
// invalid bytes with U+FFFD, as cty would).
func (p *jsonParser) str() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	plain := true
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start+1 : p.pos-1]
			if plain && utf8.Valid(raw) {
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				return "", p.errorf("invalid string: %v", err)
			}
			return s, nil
		case c == '\\':
			plain = false
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
	start := p.pos
	attrs, err := p.members()
	if err != nil {
		return cty.NilVal, err
	}
	if len(attrs) == 0 {
		return cty.EmptyObjectVal, nil
	}
	if len(attrs) == 1 {
		// The tagged forms of AppendValue: re-read the member's raw JSON.
		for _, tag := range []string{"$null", "$cty"} {
			if _, ok := attrs[tag]; ok {
				raw := tagged(p.data[start:p.pos], tag)
				if tag == "$null" {
					ty, err := ctyjson.UnmarshalType(raw)
					if err != nil {
						return cty.NilVal, err
					}
					return cty.NullVal(ty), nil
				}
				return ctyjson.Unmarshal(raw, cty.DynamicPseudoType)
			}
		}
	}
	return cty.ObjectVal(attrs), nil
}

// tagged returns the raw JSON of the single member of obj.
func tagged(obj []byte, tag string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil
	}
	return m[tag]
}

// members reads an object's members.
func (p *jsonParser) members() (map[string]cty.Value, error) {
	p.pos++ // {
	attrs := map[string]cty.Value{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return attrs, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected a member name")
		}
		name, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		attrs[name] = v
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return attrs, nil
		default:
			return nil, p.errorf("expected ',' or '}'")
		}
	}
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
