package etl_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

func TestRecordCodecRoundTrip(t *testing.T) {
	huge, err := cty.ParseNumberVal("123456789012345678901234567890.125")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]cty.Value{
		"string":                    cty.StringVal("+1 (561) 956-5858 ☎ \"quoted\" \\ \n\t\x01"),
		"empty string":              cty.StringVal(""),
		"int":                       cty.NumberIntVal(-42),
		"fraction":                  cty.NumberFloatVal(0.1),
		"huge":                      huge,
		"true":                      cty.True,
		"false":                     cty.False,
		"null string":               cty.NullVal(cty.String),
		"null number":               cty.NullVal(cty.Number),
		"null dynamic":              cty.NullVal(cty.DynamicPseudoType),
		"null object":               cty.NullVal(cty.Object(map[string]cty.Type{"a": cty.String})),
		"list":                      cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"empty list":                cty.ListValEmpty(cty.Number),
		"map":                       cty.MapVal(map[string]cty.Value{"x": cty.NumberIntVal(1)}),
		"set":                       cty.SetVal([]cty.Value{cty.StringVal("s")}),
		"tuple":                     cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(1), cty.NullVal(cty.Bool)}),
		"empty tuple":               cty.EmptyTupleVal,
		"empty object":              cty.EmptyObjectVal,
		"object nested":             cty.ObjectVal(map[string]cty.Value{"a": cty.ObjectVal(map[string]cty.Value{"b": cty.ListVal([]cty.Value{cty.True})}), "n": cty.NullVal(cty.String)}),
		"tag lookalike":             cty.ObjectVal(map[string]cty.Value{"$null": cty.StringVal("string")}),
		"tag lookalike, not a type": cty.ObjectVal(map[string]cty.Value{"$null": cty.StringVal("x")}),
		"cty lookalike":             cty.ObjectVal(map[string]cty.Value{"$cty": cty.NumberIntVal(1)}),
		"map with tag key":          cty.MapVal(map[string]cty.Value{"$null": cty.StringVal("x")}),
		"list of lookalikes":        cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"$null": cty.NumberIntVal(1)})}),
		"tag among members":         cty.ObjectVal(map[string]cty.Value{"$null": cty.StringVal("x"), "b": cty.True}),
		"tiny float":                cty.MustParseNumberVal("1e-300"),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			in := etl.Record{"v": v, "key": cty.StringVal("k")}
			b, err := etl.AppendRecord(nil, in)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) {
				t.Fatalf("invalid JSON: %s", b)
			}
			out, err := etl.DecodeRecord(b)
			if err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if !out["v"].RawEquals(v) || !out["key"].RawEquals(in["key"]) {
				t.Errorf("round trip of %#v gave %#v (json %s)", v, out["v"], b)
			}
		})
	}
}

func TestRecordCodecIsCompact(t *testing.T) {
	rec := etl.Record{"call_id": cty.StringVal("c-1"), "n": cty.NumberIntVal(3), "ok": cty.True,
		"meta": cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("b")})}
	b, err := etl.AppendRecord(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"call_id":"c-1","meta":{"a":"b"},"n":3,"ok":true}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func FuzzRecordCodec(f *testing.F) {
	f.Add("a\"b", 1.5, true)
	f.Add("\xff\x00", -0.0, false)
	f.Fuzz(func(t *testing.T, s string, n float64, b bool) {
		rec := etl.Record{"s": cty.StringVal(s), "n": cty.NumberFloatVal(n), "b": cty.BoolVal(b)}
		enc, err := etl.AppendRecord(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		out, err := etl.DecodeRecord(enc)
		if err != nil {
			t.Fatalf("%v: %s", err, enc)
		}
		want := cty.StringVal(s) // cty normalises; invalid UTF-8 becomes U+FFFD
		if !out["n"].RawEquals(rec["n"]) || !out["b"].RawEquals(rec["b"]) || (out["s"].AsString() != want.AsString() && !isInvalidUTF8(s)) {
			t.Errorf("round trip of %#v gave %#v", rec, out)
		}
	})
}

func isInvalidUTF8(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' {
			return true
		}
	}
	return !json.Valid([]byte(`"` + s + `"`))
}

func TestValueFromJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cty.Value
	}{
		{`{"lead_id":123,"campaign":"spring","tags":["a","b"]}`, cty.ObjectVal(map[string]cty.Value{
			"lead_id": cty.NumberIntVal(123), "campaign": cty.StringVal("spring"),
			"tags": cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})})},
		{` [ 1.5e3 , -2, true, null, {} , [] ] `, cty.TupleVal([]cty.Value{cty.NumberFloatVal(1500), cty.NumberIntVal(-2), cty.True,
			cty.NullVal(cty.DynamicPseudoType), cty.EmptyObjectVal, cty.EmptyTupleVal})},
		{`"a\"b\u00e9\n"`, cty.StringVal("a\"bé\n")},
		{`"☎"`, cty.StringVal("☎")},
		{`123456789012345678901234567890`, cty.MustParseNumberVal("123456789012345678901234567890")},
		{`{"$null":"x","k":1}`, cty.ObjectVal(map[string]cty.Value{"$null": cty.StringVal("x"), "k": cty.NumberIntVal(1)})},
		{`{"$null":"string"}`, cty.ObjectVal(map[string]cty.Value{"$null": cty.StringVal("string")})}, // API data: no tags
	} {
		got, err := etl.ValueFromJSON([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !got.RawEquals(tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `tru`, `"abc`, `1 2`, `01x`, `{"a":1}}`, "\"a\x01\"", `1e-100000`, `1e1000000000`} {
		if v, err := etl.ValueFromJSON([]byte(bad)); err == nil {
			t.Errorf("%q parsed as %#v", bad, v)
		}
	}
}

// FuzzValueFromJSON: whatever encoding/json accepts, ValueFromJSON accepts,
// and the other way round.
func FuzzValueFromJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",null,true]}`, `"\u00e9"`, `-1.5e-3`, `{"$null":"string"}`, `[`,
		`{"k":"v","k2":"v"}`, `{"a\u0062":"c\nd","e\u0301":"e\u0301"}`, "{\"k\":\"\xff\"}"} {
		f.Add(s)
	}
	var dec etl.JSONDecoder // shared across inputs, as a source shares it across records
	f.Fuzz(func(t *testing.T, s string) {
		v, err := etl.ValueFromJSON([]byte(s))
		dv, derr := dec.Value([]byte(s))
		if (err == nil) != (derr == nil) || (err == nil && !v.RawEquals(dv)) {
			t.Errorf("%q: ValueFromJSON %#v, %v; JSONDecoder %#v, %v", s, v, err, dv, derr)
		}
		// Record, which keeps what it saw at each member position of the
		// objects before, gives what ValueFromJSON gives.
		rec, rerr := dec.Record([]byte(s), nil)
		isObject := err == nil && v.Type().IsObjectType()
		if isObject != (rerr == nil) || (isObject && !recordValue(rec).RawEquals(v)) {
			t.Errorf("%q: ValueFromJSON %#v, %v; JSONDecoder.Record %#v, %v", s, v, err, rec, rerr)
		}
		if valid := json.Valid([]byte(s)); valid != (err == nil) {
			// The tagged forms may be rejected when their content is not a
			// go-cty type or value; anything else must agree.
			if !(valid && contains(err.Error(), "out of range")) {
				t.Errorf("json.Valid = %v but ValueFromJSON err = %v for %q", valid, err, s)
			}
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// A float read back from its text compares equal to the original, so a
// restored record ties with a live one exactly as before the restart.
func TestCompareFloatAfterRoundTrip(t *testing.T) {
	a := cty.NumberFloatVal(0.3)
	b, _ := etl.AppendRecord(nil, etl.Record{"n": a})
	rec, err := etl.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := etl.Compare(a, rec["n"]); c != 0 {
		t.Errorf("Compare(0.3, restored 0.3) = %d", c)
	}
	if c := etl.Compare(cty.NumberFloatVal(0.3), cty.NumberFloatVal(0.31)); c != -1 {
		t.Errorf("Compare(0.3, 0.31) = %d", c)
	}
}

func TestValueFromJSONDepthBound(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	if _, err := etl.ValueFromJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("err = %v", err)
	}
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := etl.ValueFromJSON([]byte(ok)); err != nil {
		t.Error(err)
	}
}
