package etl

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Records are stored (checkpoints, stages that keep many records) in a
// compact JSON form: strings, numbers, bools, objects and tuples as plain
// JSON, so that a record of API data costs about what the API sent. Values
// whose type plain JSON would lose are tagged: a typed null is
// {"$null": TYPE} and lists, maps and sets are {"$cty": {"value", "type"}}
// in go-cty's typed JSON. Every value round-trips exactly.

// AppendRecord appends rec's compact JSON form to dst, fields sorted by
// name so that equal records encode equally.
func AppendRecord(dst []byte, rec Record) ([]byte, error) {
	// The names are sorted on the stack for the usual record: dedupe
	// encodes every record it keeps, and a slice each was 2.5% of the
	// scale run's allocations.
	var stack [16]string
	names := stack[:0]
	for k := range rec {
		names = append(names, k)
	}
	slices.Sort(names)
	return appendMembers(dst, names, rec.Get, AppendValue)
}

// appendMembers appends a JSON object of the named members, in the order
// given (sorted by the callers, so that equal values encode equally).
func appendMembers(dst []byte, names []string, get func(string) cty.Value, enc appendFunc) ([]byte, error) {
	dst = append(dst, '{')
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, n)
		dst = append(dst, ':')
		var err error
		if dst, err = enc(dst, get(n)); err != nil {
			return dst, fmt.Errorf("field %q: %w", n, err)
		}
	}
	return append(dst, '}'), nil
}

// appendElems appends elems as a JSON array, each encoded by enc.
func appendElems(dst []byte, elems []cty.Value, enc appendFunc) ([]byte, error) {
	dst = append(dst, '[')
	for i, e := range elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = enc(dst, e); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendFunc is AppendValue or AppendJSON: how members and elements are
// encoded.
type appendFunc func(dst []byte, v cty.Value) ([]byte, error)

// AppendValue appends v's compact JSON form to dst (marks are dropped).
func AppendValue(dst []byte, v cty.Value) ([]byte, error) {
	// Marks are dropped level by level on the way down (nested values
	// are visited below); UnmarkDeep would rebuild every object first.
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	ty := v.Type()
	switch {
	case !v.IsKnown():
		return dst, fmt.Errorf("unknown value")
	case v.IsNull() && ty == cty.DynamicPseudoType:
		return append(dst, "null"...), nil
	case v.IsNull() && ty == cty.String:
		return append(dst, `{"$null":"string"}`...), nil
	case v.IsNull():
		tb, err := ctyjson.MarshalType(ty)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `{"$null":`...)
		return append(append(dst, tb...), '}'), nil
	case ty.IsPrimitiveType():
		return appendPrimitive(dst, v)
	case ty.IsObjectType():
		attrs := ty.AttributeTypes()
		if _, tagged := attrs["$null"]; tagged && len(attrs) == 1 {
			break // would read back as a typed null
		}
		if _, tagged := attrs["$cty"]; tagged && len(attrs) == 1 {
			break
		}
		return appendMembers(dst, sortedKeys(attrs), v.GetAttr, AppendValue)
	case ty.IsTupleType():
		return appendElems(dst, v.AsValueSlice(), AppendValue)
	}
	v, _ = v.UnmarkDeep() // go-cty's JSON refuses marks
	b, err := ctyjson.Marshal(v, cty.DynamicPseudoType)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `{"$cty":`...)
	return append(append(dst, b...), '}'), nil
}

// AppendJSON appends v as plain JSON, for files that people and other
// programs read: nulls of any type are null, lists, sets and tuples are
// arrays, maps and objects are objects with their keys sorted. Unlike
// AppendValue, types that JSON lacks are not kept.
func AppendJSON(dst []byte, v cty.Value) ([]byte, error) {
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	ty := v.Type()
	switch {
	case !v.IsKnown():
		return dst, fmt.Errorf("unknown value")
	case v.IsNull():
		return append(dst, "null"...), nil
	case ty.IsPrimitiveType():
		return appendPrimitive(dst, v)
	case ty.IsObjectType() || ty.IsMapType():
		m := v.AsValueMap()
		return appendMembers(dst, sortedKeys(m), func(k string) cty.Value { return m[k] }, AppendJSON)
	case ty.IsTupleType() || ty.IsListType() || ty.IsSetType():
		return appendElems(dst, v.AsValueSlice(), AppendJSON)
	}
	return dst, fmt.Errorf("cannot write a %s as JSON", ty.FriendlyName())
}

// appendPrimitive appends a known, non-null string, number or bool as
// JSON, the same in both encodings.
func appendPrimitive(dst []byte, v cty.Value) ([]byte, error) {
	switch v.Type() {
	case cty.String:
		return appendString(dst, v.AsString()), nil
	case cty.Number:
		f := v.AsBigFloat()
		if f.IsInf() {
			return dst, fmt.Errorf("infinite number")
		}
		return appendNumber(dst, f), nil
	default:
		return strconv.AppendBool(dst, v.True()), nil
	}
}

// AppendText appends v as one line of text, as a CSV cell holds it:
// strings as they are, numbers and bools as JSON writes them, null as
// nothing, and objects and lists as their JSON.
func AppendText(dst []byte, v cty.Value) ([]byte, error) {
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	switch {
	case v.IsKnown() && v.IsNull():
		return dst, nil
	case v.IsKnown() && v.Type() == cty.String:
		return append(dst, v.AsString()...), nil
	}
	return AppendJSON(dst, v)
}

// appendNumber appends f.Text('g', -1), through strconv where that gives
// the very same text, several times faster (big.Float's shortest
// formatting dominated dedupe's encoding): integers below 2^53 held with at
// least 53 bits, and non-integers born as float64 (53 bits). Other numbers,
// and the integer-valued floats above 2^53 where the two shortest-digit
// searches may pick different last digits, take the slow path.
// TestAppendNumber holds the two to each other.
func appendNumber(dst []byte, f *big.Float) []byte {
	const exact = 1 << 53
	if f.IsInt() {
		if f.Prec() >= 53 {
			if i, acc := f.Int64(); acc == big.Exact && i > -exact && i < exact {
				return strconv.AppendFloat(dst, float64(i), 'g', -1, 64)
			}
		}
	} else if f.Prec() == 53 {
		if x, acc := f.Float64(); acc == big.Exact && math.Abs(x) >= 0x1p-1022 && math.Abs(x) < exact {
			return strconv.AppendFloat(dst, x, 'g', -1, 64)
		}
	}
	return f.Append(dst, 'g', -1)
}

// DecodeRecord reads a record written by AppendRecord.
func DecodeRecord(data []byte) (Record, error) { return parseRecord(data) }

// ValueFromJSON converts any JSON value from outside (API data) to cty:
// objects become objects and arrays tuples, as go-cty's own JSON decoding
// would infer them, and numbers keep their exact text. Members named
// "$null" or "$cty" are ordinary members here. Invalid JSON, and numbers
// with an exponent beyond ±10000, are errors.
func ValueFromJSON(data []byte) (cty.Value, error) { return parseJSONValue(data, false) }

// DecodeValue reads a value written by AppendValue, types included.
func DecodeValue(data []byte) (cty.Value, error) { return parseJSONValue(data, true) }

// AppendJSONString appends s as a JSON string.
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, `\u00`...)
				dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(append(dst, s[start:]...), '"')
}
