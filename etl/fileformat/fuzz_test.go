package fileformat

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/etlhq/etl/etl"
)

// The readers read files from outside: whatever they hold, a reader must
// end, fail only with an *Error naming a line (or io.EOF), and give records
// that the writer writes and the reader reads back the same. The seeds are
// in testdata/fuzz; `make fuzz` runs each target for a while.

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"phone,first_name\n2005550100,Ann\n",
		"a,b\n\"x,\"\"y\"\"\",2\n",
		"a,b\n1\n\"unterminated\n",
		"\xef\xbb\xbfa\r\nb\r\n",
		"a,a\n1,2\n",
		",x,\n1,2,3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip(t, data, Options{Format: CSV, Header: true})
		roundTrip(t, data, Options{Format: CSV, Columns: cols("a", "n:number", "t:time", "b:bool")})
	})
}

func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1,\"b\":\"x\"}\n{\"a\":[1,{\"c\":null}]}\n",
		"{\"a\":1e400}\n{\"a\":\"\\u00e9\\ud800\"}\n",
		"{\"a\":\n{}\n[]\nnull\n",
		"{\"a\":1}{\"b\":2}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip(t, data, Options{Format: JSONL})
		roundTrip(t, data, Options{Format: JSONL, Fields: map[string]bool{"a": true}})
		roundTrip(t, data, Options{Format: JSONL, Columns: cols("a:number", "b")})
	})
}

func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		"[{\"a\":1},{\"a\":\"x\"}]",
		"{\"2005550100\":{\"status\":\"pending\"},\"k\":3}",
		"[{\"a\":1},\n{\"a\" 2}]",
		"[1,2,[3]]",
		"{} {}",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip(t, data, Options{Format: JSON, KeyField: "key"})
		roundTrip(t, data, Options{Format: JSON, Fields: map[string]bool{"a": true}})
	})
}

// roundTrip reads data, checks how it fails, writes the records read and
// reads them back.
func roundTrip(t *testing.T, data []byte, opts Options) {
	recs := readChecked(t, data, opts)
	var buf bytes.Buffer
	w := NewWriter(&buf, opts.Format, fields(recs))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("writing a record read: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	back := opts
	back.Header, back.Fields = true, nil
	if opts.Format == CSV && opts.Columns == nil {
		back.Columns = nil // every header column, as strings
	}
	again := readChecked(t, buf.Bytes(), back)
	if len(again) != len(recs) {
		t.Fatalf("wrote %d records, read back %d:\n%s", len(recs), len(again), buf.Bytes())
	}
	for i := range recs {
		a, err1 := etl.AppendRecord(nil, withoutNulls(recs[i]))
		b, err2 := etl.AppendRecord(nil, withoutNulls(again[i]))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("record %d read back differs:\n%s\n%s\nfile:\n%q", i, a, b, buf.Bytes())
		}
	}
}

// withoutNulls drops null fields: a JSON record missing a field that
// another has is written with null there.
func withoutNulls(r etl.Record) etl.Record {
	c := etl.Record{}
	for k, v := range r {
		if !v.IsNull() {
			c[k] = v
		}
	}
	return c
}

// fields are the sorted union of the records' fields: a CSV file written
// from them holds every record.
func fields(recs []etl.Record) []string {
	all := etl.Record{}
	for _, r := range recs {
		for k, v := range r {
			all[k] = v
		}
	}
	return sortedFields(all)
}

func readChecked(t *testing.T, data []byte, opts Options) []etl.Record {
	r := NewReader(bytes.NewReader(data), "f", opts)
	var recs []etl.Record
	for i := 0; ; i++ {
		if i > len(data)+2 {
			t.Fatalf("more rows than bytes: the reader does not end")
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return recs
		}
		var e *Error
		if errors.As(err, &e) {
			if e.Line < 1 || e.File != "f" {
				t.Fatalf("error without a place: %v", err)
			}
			if e.Fatal {
				return recs
			}
			continue
		}
		if err != nil {
			t.Fatalf("error that is not an *Error: %v", err)
		}
		recs = append(recs, rec)
	}
}
