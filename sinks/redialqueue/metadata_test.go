package redialqueue

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
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

// TestMetadataFromAttributesMatchesObject runs metadata objects both ways:
// written bare, the sink renders them from their attributes
// (etl.Expr.AttrValues); in parentheses, from the evaluated object. The
// queue files must be byte for byte the same.
func TestMetadataFromAttributesMatchesObject(t *testing.T) {
	calls := []string{
		`{ date = "2025-12-15", phone = "5619565858", lead_id = "1", call_id = "quote \" back \\ <b>&amp;</b>", batch_id = "b1", created_at = "2025-12-15T14:30:00.123456789Z" }`,
		`{ date = "2025-12-15", phone = "7725550199", lead_id = "2", call_id = "tab\tnl\n ünïcødé ☎ \u2028", created_at = "2025-12-15T14:31:00Z" }`,
		`{ date = "2025-12-16", phone = "3055550142", lead_id = "3", call_id = "", created_at = "2025-12-16T09:00:00.5Z" }`,
	}
	for _, meta := range []string{
		`{ call_id = record.call_id, batch_id = record.batch_id, source = "bland_backfill" }`,
		`{ z = record.call_id, a = record.batch_id, "k<&>" = "x", "é" = record.lead_id }`,
		`{ missing = record.nope, n = record.lead_id, a = record.call_id, a = "later wins" }`,
		`{ num = 1, s = record.call_id }`,
		`{ nested = { s = record.call_id } }`,
		`{ t = "${record.lead_id}-${record.call_id}" }`,
		`{}`,
	} {
		files := make([][]byte, 2)
		for i, m := range []string{meta, "(" + meta + ")"} {
			h := newHarness(t)
			src := strings.Replace(pipeline("2026-01-07", calls...),
				`{ call_id = record.call_id, batch_id = record.batch_id, source = "bland_backfill" }`, m, 1)
			if _, err := h.run(src, etl.RunOptions{}); err != nil {
				t.Fatalf("metadata = %s: %v", m, err)
			}
			files[i] = h.read(queueRel)
		}
		if string(files[0]) != string(files[1]) {
			t.Errorf("metadata = %s:\nfrom attributes %s\nfrom the object %s", meta, files[0], files[1])
		}
		if !strings.Contains(string(files[0]), `"metadata": {`) {
			t.Errorf("metadata = %s: no metadata in %s", meta, files[0])
		}
	}
}

// appendEntry renders an entry as json.Marshal does, or declines (strings
// with <, >, &, U+2028 or U+2029, which only json.Marshal escapes).
func TestAppendEntryMatchesMarshal(t *testing.T) {
	strs := []string{"", "5619565858", "pending", "2026-01-07T16:00:00.000Z", `quote " back \ slash`, "tab\tnl\ncr\r",
		"bs\b ff\f nul\x00 esc\x1b del\x7f", "line\u2028sep\u2029", "ünïcødé ☎", "bad utf8 \xff\xfe end", "a<b", "x&y", "gt>"}
	metas := []json.RawMessage{nil, json.RawMessage(`{}`), json.RawMessage(`{"call_id":"c1","n":1.5,"o":{"a":null}}`), json.RawMessage(`{"k":"a<b"}`)}
	declined := 0
	for i, s := range strs {
		for j, m := range metas {
			lead := strs[(i+j)%len(strs)]
			e := entry{PhoneNumber: s, Status: strs[(i+1)%len(strs)], Attempts: i - 3, NextAttempt: strs[(i+2)%len(strs)], CreatedAt: s, Metadata: m}
			if j%2 == 0 {
				e.LeadID = &lead
			}
			if j == 3 {
				e.LastAttempt = &lead
			}
			want, err := json.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendEntry(nil, &e)
			if !ok {
				declined++
				if !strings.ContainsAny(s+e.Status+e.NextAttempt+lead+string(m), "<>&\u2028\u2029") {
					t.Errorf("%+v: declined without <, >, &, U+2028 or U+2029", e)
				}
				continue
			}
			if string(got) != string(want) {
				t.Errorf("entry %d/%d:\ngot  %s\nwant %s", i, j, got, want)
			}
		}
	}
	if declined == 0 || declined == len(strs)*len(metas) {
		t.Errorf("declined %d of %d entries", declined, len(strs)*len(metas))
	}
}
