package etl_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// decoderLines are records as a file holds them, in an order that moves
// the decoder through its cases: the same members in the same order with
// constant, repeating and unique strings (past the point where it stops
// looking unique ones up, and past its bound of kept strings), then
// members that move, go missing or change type, escapes, numbers at the
// edges of its kept integers, and a record wider than the positions it
// follows.
func decoderLines() []string {
	var lines []string
	status := []string{"pending", "called", "done"}
	for i := 0; i < 5000; i++ {
		lines = append(lines, fmt.Sprintf(`{"id":%d,"phone":"555%07d","status":%q,"n":%d,"c":"web","t":"2026-01-%02dT00:00:00Z"}`,
			i, i, status[i%3], i%5, 1+i%28))
	}
	lines = append(lines,
		`{"status":"pending","id":1,"phone":"5550000001"}`,
		`{"id":2,"status":"called","c":"web","phone":"5550000001","n":3}`,
		`{"id":3,"phone":12,"status":null,"n":"4","c":["web",{"c":"web"}]}`,
		`{"id":4,"phone":"a\"b","status":"p\u00e9nding","n":1,"c":"e\u0301"}`,
		`{"id":5,"phone":"a\"b","status":"pe\u0301nding","n":-0,"c":"web"}`,
		`{"n":0}`, `{"n":1023}`, `{"n":1024}`, `{"n":-1}`, `{"n":0.5}`, `{"n":1e3}`, `{"n":10}`, `{"n":-0}`,
		`{"n":007}`, `{"n":"7"}`, `{"id":1,"id":"twice"}`, `{}`, `{ }`, `{"phone":"5550000001",}`, `{"phone":"unterminated}`,
		`{"phone":"\ud800"}`, "{\"phone\":\"\xff\"}",
	)
	var wide strings.Builder
	wide.WriteString("{")
	for i := 0; i < 300; i++ {
		if i > 0 {
			wide.WriteString(",")
		}
		fmt.Fprintf(&wide, `"f%d":"v%d"`, i, i%7)
	}
	wide.WriteString("}")
	return append(lines, wide.String(), wide.String(), `{"id":6,"phone":"5550000006","status":"pending","n":2,"c":"web"}`)
}

// JSONDecoder.Record, which keeps what it saw of the records before, gives
// each record what ValueFromJSON gives for the line alone.
func TestJSONDecoderRecordMatchesValueFromJSON(t *testing.T) {
	var all, some etl.JSONDecoder
	want := map[string]bool{"status": true, "n": true, "f299": true}
	for i, line := range decoderLines() {
		v, err := etl.ValueFromJSON([]byte(line))
		rec, rerr := all.Record([]byte(line), nil)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("line %d %s: ValueFromJSON error %v, Record error %v", i, line, err, rerr)
		}
		if err != nil {
			continue
		}
		if got := recordValue(rec); !got.RawEquals(v) {
			t.Fatalf("line %d %s: Record %#v, want %#v", i, line, got, v)
		}
		part, err := some.Record([]byte(line), want)
		if err != nil {
			t.Fatalf("line %d %s: Record with fields: %v", i, line, err)
		}
		for name := range want {
			if got, ok := part[name]; ok != v.Type().HasAttribute(name) || (ok && !got.RawEquals(v.GetAttr(name))) {
				t.Fatalf("line %d %s: Record with fields: %s = %#v", i, line, name, got)
			}
		}
		if len(part) > len(want) {
			t.Fatalf("line %d %s: Record with fields built %d fields", i, line, len(part))
		}
	}
}

func recordValue(rec etl.Record) cty.Value {
	if len(rec) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(rec)
}

// Lines of the same members cost the record's map and the numbers that
// are not small: the names, a string the line before had, and small
// integers are made once.
func TestJSONDecoderRecordAllocations(t *testing.T) {
	var dec etl.JSONDecoder
	line := []byte(`{"id":123456,"status":"pending","attempts":3,"campaign":"web-form"}`)
	if _, err := dec.Record(line, nil); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := dec.Record(line, nil); err != nil {
			t.Fatal(err)
		}
	})
	// The map and its group, and the id's big.Float and its mantissa.
	if allocs > 4 {
		t.Errorf("%v allocations a record, want at most 4", allocs)
	}
}

// The strings a decoder keeps are bounded; once full of values that do not
// come again, it starts again, so that a member whose values repeat later
// in the file still gets its values kept.
func TestJSONDecoderRecordKeepsStringsWhenFull(t *testing.T) {
	var dec etl.JSONDecoder
	for i := 0; i < 5000; i++ { // a new member name at each line: every value is looked up and kept
		if _, err := dec.Record([]byte(fmt.Sprintf(`{"k%d":"u%d"}`, i%100, i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	pending, called := []byte(`{"status":"pending"}`), []byte(`{"status":"called"}`)
	read := func() {
		for _, line := range [][]byte{pending, called} {
			if _, err := dec.Record(line, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	read()
	// Two records: each its map and the map's group, the statuses kept.
	if allocs := testing.AllocsPerRun(100, read); allocs > 4 {
		t.Errorf("%v allocations for two records, want at most 4", allocs)
	}
}
