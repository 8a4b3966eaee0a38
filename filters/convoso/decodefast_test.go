package convoso

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// edgeSeeds are answers at the edges of what decodeLeadsFast reads the way
// the encoding/json paths do (from a review): Unicode case folding of keys
// (ſ and the Kelvin sign fold to ASCII letters in encoding/json), escaped
// and repeated keys, int32 limits, a BOM and trailing data, surrogates,
// control bytes. Each is a fuzz seed too.
var edgeSeeds = []string{
	`{"success":true,"data":{"offset":0,"lımit":10,"total":0,"entries":[]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"7","ıd":"9"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"7","İd":"9"}]}}`,
	`{"ſuccess":false,"success":true,"data":{"total":0,"entries":[]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"7","lead_id":"8","ſtatus":"X"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"lead_id":"8","list_id":"1","li\u017Ft_id":"2"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"lead_id":"8","list_id":"1","LIST_ID":"2"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"lead\u005fid":"8"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"lead\u005fid":"8","lead_id":"9"}]}}`,
	`{"success":true,"data":{"offset":-0,"limit":-0,"total":-0,"entries":[{"id":-0}]}}`,
	`{"success":true,"data":{"offset":2147483647,"limit":-2147483648,"total":"2147483647","entries":[]}}`,
	`{"success":true,"data":{"offset":2147483648,"entries":[]}}`,
	`{"success":true,"data":{"limit":-2147483649,"entries":[]}}`,
	`{"success":true,"data":{"total":99999999999999999999,"entries":[]}}`,
	"\ufeff" + `{"success":true,"data":{"entries":[]}}`,
	`{"success":true,"data":{"entries":[]}} x`,
	`{"success":true,"data":{"entries":[]}}{}`,
	" \t\r\n" + `{"success":true,"data":{"entries":[]}}` + " \n",
	"{\"success\":true,\"data\":{\"entries\":[]}}\u00a0",
	`{"success":true,"data":{"total":1,"entries":[{"id":"a\ud800\u0041"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"a\ud83d\ude00"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"a\u0000b"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"a\/b\"c"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"` + "\xff" + `"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"1","` + "\xff" + `":"2"}]}}`,
	`{"success":true,"data":{"total":1,"entries":[{"id":"1","l\ud800\u0069st_id":"2"}]}}`,
	`{"success":true,"data":{"limit":" 10\n","total":"+3","entries":[]}}`,
	`{"success":true,"data":{"limit":"\u0031\u0030","entries":[]}}`,
	`{"success":true,"data":{"limit":1.0,"entries":[]}}`,
	`{"success":true,"data":{"limit":1e1,"entries":[]}}`,
	`{"success":true,"data":{"limit":"","total":null,"entries":null}}`,
	`{"success":true,"code":null,"text":null,"data":{"entries":[]}}`,
	`{"success":true,"code":"","text":12,"data":{"entries":[]}}`,
	`{"success":true,"code":1.5,"data":{"entries":[]}}`,
	`{"success":true,"code":2147483648,"data":{"entries":[]}}`,
	`{"success":true,"data":{"entries":[{"id":"1","x":nan}]}}`,
	`{"success":true,"data":{"entries":[{"id":"1","x":[01]}]}}`,
	`{"success":true,"data":{"entries":[{"id":"1","x":"\x"}]}}`,
	`{"success":true,"data":{"entries":[{"id":"1","x":"` + "\x01" + `"}]}}`,
	`{"success":true,"data":{"entries":[{"id":"1"}],"entrieſ":null}}`,
	`{"success":true,"data":{"entries":[{"id":"1"}]},"Data":null}`,
	`{"success":true,"data":{"entries":[{"id":"1","modified_at":"2025-01-01 00:00:00","status":"` + "\u212a" + `"}]}}`,
	`{"success":true,"data":{"entries":[{"\u0069d":"1"}]}}`,
	`{"success":true,"data":{"entries":[{"id":"1","status":"A","status":"B"}]}}`,
	`{"success":true,"data":{"entries":[{"id":1e2}]}}`,
	`{"success":true,"data":{"entries":[{"id":true}]}}`,
	`{"success":true,"data":{"entries":[{"id":"1","status":{}}]}}`,
}

// Every edge answer is either read by decodeLeadsFast as the stepwise
// decoder reads it, or left to the encoding/json paths.
func TestFastPathEdges(t *testing.T) {
	for _, body := range edgeSeeds {
		fast, ok := decodeLeadsFast([]byte(body))
		if !ok {
			continue
		}
		slow, err := decodeLeadsStepwise([]byte(body))
		if err != nil {
			t.Errorf("%q: read by fastjson as %+v, refused stepwise: %v", body, fast, err)
		} else if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%q: fastjson %+v, stepwise %+v", body, fast, slow)
		}
	}
}

// A raw control byte before an escape in a string is invalid JSON, which
// encoding/json refuses; fastjson's validator checks only the part of a
// string after its last escape (controlInString covers the rest).
func TestControlByteBeforeEscapeIsRefused(t *testing.T) {
	body := []byte("{\"success\":true,\"data\":{\"total\":1,\"entries\":[{\"id\":\"7\x01\\n\"}]}}")
	if p, ok := decodeLeadsFast(body); ok {
		t.Errorf("decodeLeadsFast took invalid JSON: %+q", p.Leads)
	}
	if p, err := DecodeLeads(body); err == nil {
		t.Errorf("DecodeLeads took invalid JSON: %+q", p.Leads)
	}
}

// Deep nesting is refused at once: fastjson's validator recurses without
// bound (a stack overflow, which no recover catches, at about 3 MB of
// brackets, under the 8 MB an answer may be) and wraps its error once per
// level (9 s for 10 KB of unclosed "["), so the parser, which stops at 300
// levels, goes first.
func TestDeepNestingIsRefusedQuickly(t *testing.T) {
	for _, body := range []string{
		`{"success":true,"data":{"entries":[],"x":` + strings.Repeat("[", 30000) + `}}`,
		`{"success":true,"data":{"entries":[],"x":` + strings.Repeat("[", 3<<20) + strings.Repeat("]", 3<<20) + `}}`,
	} {
		start := time.Now()
		if _, err := DecodeLeads([]byte(body)); err == nil {
			t.Errorf("%d bytes of nesting: accepted", len(body))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%d bytes of nesting: %v", len(body), d)
		}
	}
}
