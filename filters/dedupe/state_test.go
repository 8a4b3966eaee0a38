package dedupe

import (
	"encoding/json"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// jsonRoundTrip passes a checkpoint through JSON as a saved file would.
func jsonRoundTrip(cp *etl.Checkpoint) (*etl.Checkpoint, error) {
	b, err := json.Marshal(cp)
	if err != nil {
		return nil, err
	}
	var out etl.Checkpoint
	return &out, json.Unmarshal(b, &out)
}

func TestRecordEncodingRoundTrip(t *testing.T) {
	huge, err := cty.ParseNumberVal("123456789012345678901234567890.125") // as HCL parses numbers
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]cty.Value{
		"string":        cty.StringVal("+1 (561) 956-5858 ☎"),
		"empty string":  cty.StringVal(""),
		"int":           cty.NumberIntVal(-42),
		"fraction":      cty.NumberFloatVal(0.1),
		"huge":          huge,
		"true":          cty.True,
		"false":         cty.False,
		"null string":   cty.NullVal(cty.String),
		"null number":   cty.NullVal(cty.Number),
		"null dynamic":  cty.NullVal(cty.DynamicPseudoType),
		"list":          cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"empty list":    cty.ListValEmpty(cty.Number),
		"map":           cty.MapVal(map[string]cty.Value{"x": cty.NumberIntVal(1)}),
		"set":           cty.SetVal([]cty.Value{cty.StringVal("s")}),
		"tuple":         cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(1), cty.NullVal(cty.Bool)}),
		"object nested": cty.ObjectVal(map[string]cty.Value{"a": cty.ObjectVal(map[string]cty.Value{"b": cty.ListVal([]cty.Value{cty.True})}), "n": cty.NullVal(cty.String)}),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			in := etl.Record{"v": v, "key": cty.StringVal("k")}
			enc, err := encodeRecord(in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(enc)
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			out, err := decodeRecord(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !out["v"].RawEquals(v) {
				t.Errorf("round trip of %#v gave %#v (json %s)", v, out["v"], b)
			}
		})
	}
}

func TestRestoreRejectsBadState(t *testing.T) {
	for name, data := range map[string]string{
		"not json":      `{`,
		"wrong version": `{"version": 99, "records": []}`,
		"bad field":     `{"version": 1, "records": [{"key": {"value": 1}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			d := New(&Config{Emit: EmitEnd}, etl.Env{})
			if err := d.Restore([]byte(data)); err == nil {
				t.Errorf("Restore(%s) succeeded", data)
			}
		})
	}
}
