package fileformat

import (
	"bytes"
	"io"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// A JSON writer reuses the last record's field order while the fields stay
// the same; records whose fields change, in number or in name, or that
// hold a field without a value, are written with their own fields, sorted.
func TestWriteJSONLFieldsChange(t *testing.T) {
	s := cty.StringVal
	recs := []etl.Record{
		{"b": s("1"), "a": s("2")},
		{"a": s("3"), "b": s("4")},
		{"a": s("5"), "c": s("6")},
		{"a": s("7"), "c": s("8"), "b": s("9")},
		{"c": s("10"), "a": s("11")},
		{},
		{"a": s("12"), "c": cty.NilVal},
		{"a": s("13"), "c": s("14")},
		{"a": s("15"), "z": s("16")},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, JSONL, nil)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `{"a":"2","b":"1"}
{"a":"3","b":"4"}
{"a":"5","c":"6"}
{"a":"7","b":"9","c":"8"}
{"a":"11","c":"10"}
{}
{"a":"12"}
{"a":"13","c":"14"}
{"a":"15","z":"16"}
`
	if buf.String() != want {
		t.Errorf("wrote:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// Records of the same fields are written without sorting their names
// again: no allocation for a record of strings.
func TestWriteJSONLSameFieldsAllocations(t *testing.T) {
	rec := etl.Record{"phone": cty.StringVal("2005550100"), "status": cty.StringVal("pending"), "lead_id": cty.StringVal("7")}
	w := NewWriter(io.Discard, JSONL, nil)
	if allocs := testing.AllocsPerRun(100, func() {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}); allocs > 0 {
		t.Errorf("%v allocations a record, want none", allocs)
	}
}
