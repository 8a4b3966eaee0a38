package convoso

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// flexString reads a JSON string as encoding/json does, on its fast path
// (no escapes, valid UTF-8) and off it, and a number as json.Number's
// literal; not-quite numbers stay errors.
func TestFlexStringMatchesJSON(t *testing.T) {
	for _, raw := range []string{
		`""`, `"SALE"`, `"12345"`, `"ünïcødé ☎"`, `"a\"b"`, `"back\\slash"`, `"\u00e9\n\t"`, "\"bad \xff utf8\"",
		`"\ud83d\ude00"`, `"lone \ud800"`, ` "spaced" `, `"<&>"`,
		`0`, `-0`, `42`, `-17`, `1000001`, `1.5`, `-2e3`, `12345678901234567890`,
	} {
		if raw[0] != '"' && raw[0] != ' ' {
			var n json.Number
			if err := json.Unmarshal([]byte(raw), &n); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			var got flexString
			if err := got.UnmarshalJSON([]byte(raw)); err != nil || string(got) != n.String() {
				t.Errorf("%s: got %q, %v; want %q", raw, got, err, n.String())
			}
			continue
		}
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var got flexString
		if err := got.UnmarshalJSON([]byte(raw)); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", raw, strconv.Quote(string(got)), strconv.Quote(want))
		}
	}
	for _, bad := range []string{`01`, `-`, `--1`, `1-`, `0x1`} {
		var got flexString
		if err := got.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s: read as %q", bad, got)
		}
	}
}

// BenchmarkDecodeLeads decodes an answer shaped like the fake's (and
// Convoso's).
func BenchmarkDecodeLeads(b *testing.B) {
	body := benchAnswer
	b.ReportAllocs()
	for b.Loop() {
		p, err := DecodeLeads(body)
		if err != nil || len(p.Leads) != 2 {
			b.Fatal(p, err)
		}
	}
}

// BenchmarkDecodeLeadsEncodingJSON is the same answer through
// encoding/json (decodeLeadsAtOnce), what DecodeLeads did before fastjson.
func BenchmarkDecodeLeadsEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if p, ok := decodeLeadsAtOnce(benchAnswer); !ok || len(p.Leads) != 2 {
			b.Fatal(p)
		}
	}
}

// The usual answer takes the fastjson path, to the same page.
func TestUsualAnswerIsReadByFastjson(t *testing.T) {
	fast, ok := decodeLeadsFast(benchAnswer)
	slow, err := decodeLeadsStepwise(benchAnswer)
	if !ok || err != nil || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fastjson %+v (%v), stepwise %+v (%v)", fast, ok, slow, err)
	}
}

// benchAnswer is an answer shaped like the fake's (and Convoso's): two
// leads of twelve fields, ids as strings.
var benchAnswer = []byte(`{"success":true,"data":{"offset":0,"limit":100,"total":"2","entries":[` +
	`{"id":"1000001","lead_id":"1000001","list_id":"501","status":"NA","status_name":"No Answer","phone_number":"5619565858","phone_code":"1","first_name":"Test","last_name":"Lead1000001","created_at":"2025-11-02 10:00:00","modified_at":"2025-12-01 16:05:09","called_count":"3"},` +
	`{"id":"1000002","lead_id":"1000002","list_id":"502","status":"SALE","status_name":"Sale","phone_number":"5619565858","phone_code":"1","first_name":"Test","last_name":"Lead1000002","created_at":"2025-11-03 10:00:00","modified_at":"2025-12-02 09:15:00","called_count":"1"}]}}`)
