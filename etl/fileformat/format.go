package fileformat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// Format is a file's format: csv, jsonl or json.
type Format string

// The formats.
const (
	CSV   Format = "csv"   // a header line (unless told otherwise), then one row per line
	JSONL Format = "jsonl" // one JSON object per line
	JSON  Format = "json"  // an array of objects, or an object of objects keyed by id
)

// Formats lists the formats, for messages.
var Formats = []Format{CSV, JSONL, JSON}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	if f := Format(s); slices.Contains(Formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("format %q is not one of csv, jsonl, json", s)
}

// Type is a column's declared type.
type Type string

// The column types.
const (
	String Type = "string"
	Number Type = "number"
	Bool   Type = "bool"
	// Time values are written into records as etl.TimeVal strings (RFC
	// 3339 UTC), which every block compares and reads as times.
	Time Type = "time"
)

var types = []Type{String, Number, Bool, Time}

// CtyType is the record value type of a column type.
func (t Type) CtyType() cty.Type {
	switch t {
	case Number:
		return cty.Number
	case Bool:
		return cty.Bool
	}
	return cty.String
}

// Column is a declared field: its name and type.
type Column struct {
	Name string
	Type Type
}

// Columns are the declared fields of a file, in order. In HCL:
//
//	columns = [
//	  { name = "phone" },                       # type string
//	  { name = "created_at", type = "time" },
//	  "first_name",                             # a name alone: string
//	]
type Columns []Column

// DecodeValue reads columns from HCL (see Columns).
func (c *Columns) DecodeValue(v cty.Value) error {
	*c = nil
	if v.IsNull() {
		return nil
	}
	if !v.CanIterateElements() || v.Type().IsMapType() || v.Type().IsObjectType() {
		return fmt.Errorf(`must be a list of columns, such as [{ name = "phone" }, { name = "created_at", type = "time" }]`)
	}
	seen := map[string]bool{}
	for i, e := range v.AsValueSlice() {
		col, err := decodeColumn(e)
		if err != nil {
			return fmt.Errorf("column %d: %w", i+1, err)
		}
		if seen[col.Name] {
			return fmt.Errorf("column %d: %q is declared twice", i+1, col.Name)
		}
		seen[col.Name] = true
		*c = append(*c, col)
	}
	return nil
}

func decodeColumn(e cty.Value) (Column, error) {
	if e.IsNull() {
		return Column{}, fmt.Errorf("is null")
	}
	if e.Type() == cty.String {
		if e.AsString() == "" {
			return Column{}, fmt.Errorf("has an empty name")
		}
		return Column{Name: e.AsString(), Type: String}, nil
	}
	if !e.Type().IsObjectType() {
		return Column{}, fmt.Errorf(`must be a name or { name = "...", type = "..." }, not %s`, e.Type().FriendlyName())
	}
	col := Column{Type: String}
	for k, v := range e.AsValueMap() {
		if v.IsNull() || v.Type() != cty.String {
			return Column{}, fmt.Errorf("%s must be a string", k)
		}
		switch k {
		case "name":
			col.Name = v.AsString()
		case "type":
			col.Type = Type(v.AsString())
			if !slices.Contains(types, col.Type) {
				return Column{}, fmt.Errorf("type %q is not one of string, number, bool, time", v.AsString())
			}
		default:
			return Column{}, fmt.Errorf("unknown attribute %q (a column has name and type)", k)
		}
	}
	if col.Name == "" {
		return Column{}, fmt.Errorf("has no name")
	}
	return col, nil
}

// String renders columns for fingerprints: "phone:string,created_at:time".
func (c Columns) String() string {
	parts := make([]string, len(c))
	for i, col := range c {
		parts[i] = col.Name + ":" + string(col.Type)
	}
	return strings.Join(parts, ",")
}

// Fields are the columns as record fields, for validate.
func (c Columns) Fields() []etl.Field {
	fields := make([]etl.Field, len(c))
	for i, col := range c {
		fields[i] = etl.Field{Name: col.Name, Type: col.Type.CtyType(), Doc: "Column " + col.Name + " (" + string(col.Type) + ")."}
	}
	return fields
}

// parseText converts a CSV cell to the column's type. An empty cell of a
// typed column is null (CSV has no other null); a string column keeps it.
func (t Type) parseText(s string) (cty.Value, error) {
	if t == String {
		return cty.StringVal(s), nil
	}
	if strings.TrimSpace(s) == "" {
		return cty.NullVal(t.CtyType()), nil
	}
	switch t {
	case Number:
		v, err := cty.ParseNumberVal(strings.TrimSpace(s))
		if err != nil {
			return cty.NilVal, fmt.Errorf("not a number")
		}
		return v, nil
	case Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return cty.NilVal, fmt.Errorf("not a bool (true or false)")
		}
		return cty.BoolVal(b), nil
	}
	tm, err := ParseTime(s)
	if err != nil {
		return cty.NilVal, err
	}
	return etl.TimeVal(tm), nil
}

// timeLayouts are the forms a time column accepts; those without a zone
// are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02"}

// ParseTime reads a time column's value: RFC 3339, or a date and time
// without a zone (UTC), or a date alone (its midnight, UTC).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, ok := etl.TimeOf(s); ok {
		return t, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time (RFC 3339, such as 2026-01-07T16:00:00Z, or 2026-01-07 16:00:00, or 2026-01-07)")
}

// check checks a JSON value against the column's type: the same type, or
// null. A time column takes a string that parses as a time.
func (t Type) check(v cty.Value) (cty.Value, error) {
	if v.IsNull() {
		return cty.NullVal(t.CtyType()), nil
	}
	if t == Time && v.Type() == cty.String {
		tm, err := ParseTime(v.AsString())
		if err != nil {
			return cty.NilVal, err
		}
		return etl.TimeVal(tm), nil
	}
	if !v.Type().Equals(t.CtyType()) {
		return cty.NilVal, fmt.Errorf("want a %s, got %s", t, describe(v.Type()))
	}
	return v, nil
}

// describe names a JSON value's type, for errors (never the value: it may
// be personal data).
func describe(t cty.Type) string {
	switch {
	case t.IsObjectType():
		return "an object"
	case t.IsTupleType():
		return "an array"
	}
	return "a " + t.FriendlyName()
}
