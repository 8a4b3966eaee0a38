package redialqueue

import (
	"encoding/json"
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// TestStringsObjectMatchesCtyJSON holds the fast metadata encoding to
// ctyjson's: after the entry's json.Marshal (which escapes <, > and & in
// both), the bytes in the queue file must be the same.
func TestStringsObjectMatchesCtyJSON(t *testing.T) {
	strs := []string{
		"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnl\ncr\r", "bs\b ff\f nul\x00 esc\x1b del\x7f",
		"line\u2028sep\u2029", "ünïcødé ☎", "bad utf8 \xff\xfe end",
	}
	for _, s := range strs {
		v := cty.ObjectVal(map[string]cty.Value{
			"call_id": cty.StringVal(s), "z<key>": cty.StringVal("x"), "a": cty.NullVal(cty.String), "k\x01": cty.StringVal(s),
		})
		fast, ok := stringsObject(v)
		if !ok {
			t.Fatalf("%q: no fast path", s)
		}
		slow, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			t.Fatal(err)
		}
		a, err := json.Marshal(entry{Metadata: fast})
		if err != nil {
			t.Fatalf("%q: fast output is not JSON: %v (%s)", s, err, fast)
		}
		b, _ := json.Marshal(entry{Metadata: slow})
		if string(a) != string(b) {
			t.Errorf("%q:\nfast %s\nwant %s", s, a, b)
		}
	}
}

// TestStringsObjectDeclines leaves values it does not render exactly to
// ctyjson.
func TestStringsObjectDeclines(t *testing.T) {
	for name, v := range map[string]cty.Value{
		"number":      cty.ObjectVal(map[string]cty.Value{"n": cty.NumberIntVal(1)}),
		"nested":      cty.ObjectVal(map[string]cty.Value{"o": cty.EmptyObjectVal}),
		"map":         cty.MapVal(map[string]cty.Value{"a": cty.StringVal("x")}),
		"marked attr": cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x").Mark("secret")}),
		"unknown":     cty.ObjectVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String)}),
	} {
		if b, ok := stringsObject(v); ok {
			t.Errorf("%s: rendered %s", name, b)
		}
	}
}
