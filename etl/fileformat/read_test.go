package fileformat

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// readAll reads every record; errs are the row errors, rendered.
func readAll(t *testing.T, data string, opts Options) (recs []string, errs []string) {
	t.Helper()
	r := NewReader(strings.NewReader(data), "f", opts)
	for i := 0; i < 1000; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return recs, errs
		}
		var e *Error
		if errors.As(err, &e) {
			errs = append(errs, e.Error())
			if e.Fatal {
				return recs, errs
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := etl.AppendRecord(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, string(b))
	}
	t.Fatal("reader does not end")
	return
}

func cols(spec ...string) Columns {
	var c Columns
	for _, s := range spec {
		name, typ, _ := strings.Cut(s, ":")
		if typ == "" {
			typ = "string"
		}
		c = append(c, Column{Name: name, Type: Type(typ)})
	}
	return c
}

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		data string
		opts Options
		recs []string
		errs []string
	}{
		{
			name: "csv header, strings, extra columns kept",
			data: "\xef\xbb\xbfphone,first_name,note\n2005550100,Ann,\"a, b\"\n",
			opts: Options{Format: CSV, Header: true},
			recs: []string{`{"first_name":"Ann","note":"a, b","phone":"2005550100"}`},
		},
		{
			name: "csv columns typed, others ignored, empty typed cell null",
			data: "n,ok,at,x\n5,true,2026-01-07,zz\n,false,2026-01-07T16:00:00-05:00,zz\n",
			opts: Options{Format: CSV, Header: true, Columns: cols("n:number", "ok:bool", "at:time")},
			recs: []string{
				`{"at":"2026-01-07T00:00:00.000000000Z","n":5,"ok":true}`,
				`{"at":"2026-01-07T21:00:00.000000000Z","n":{"$null":"number"},"ok":false}`,
			},
		},
		{
			name: "csv bad types are row errors at their line, the rest is read",
			data: "n,ok\nfive,true\n1,maybe\n2,true\n",
			opts: Options{Format: CSV, Header: true, Columns: cols("n:number", "ok:bool")},
			recs: []string{`{"n":2,"ok":true}`},
			errs: []string{`f:2: column "n": not a number`, `f:3: column "ok": not a bool (true or false)`},
		},
		{
			name: "csv malformed lines",
			data: "a,b\n1,2\n3\n\"4,5\n",
			opts: Options{Format: CSV, Header: true},
			recs: []string{`{"a":"1","b":"2"}`},
			errs: []string{`f:3: 1 fields, the header has 2`, `f:4: extraneous or missing " in quoted-field`},
		},
		{
			name: "csv header without a declared column is fatal",
			data: "a,b\n1,2\n",
			opts: Options{Format: CSV, Header: true, Columns: cols("c")},
			errs: []string{`f:1: the header has no column "c" (it has: a, b); fix the header or the block's columns`},
		},
		{
			name: "csv without header, by column order, projected",
			data: "1,x,y\n2,z,w\n",
			opts: Options{Format: CSV, Columns: cols("id:number", "a", "b"), Fields: map[string]bool{"b": true}},
			recs: []string{`{"b":"y"}`, `{"b":"w"}`},
		},
		{
			name: "jsonl keeps types, skips blank lines, names malformed lines",
			data: "{\"a\":1,\"b\":[true,null]}\n\n{\"a\":\n[1]\n{\"a\":\"x\"}",
			opts: Options{Format: JSONL},
			recs: []string{`{"a":1,"b":[true,null]}`, `{"a":"x"}`},
			errs: []string{`f:3: JSON at byte 6: unexpected end`, `f:4: JSON at byte 0: a record must be a JSON object`},
		},
		{
			name: "jsonl columns check types; null is allowed",
			data: "{\"n\":\"1\"}\n{\"n\":null,\"x\":1}\n{\"n\":2}\n",
			opts: Options{Format: JSONL, Columns: cols("n:number")},
			recs: []string{`{"n":{"$null":"number"}}`, `{"n":2}`},
			errs: []string{`f:1: field "n": want a number, got a string`},
		},
		{
			name: "json array",
			data: "[\n  {\"a\": 1},\n  {\"a\": 2.5}\n]\n",
			opts: Options{Format: JSON},
			recs: []string{`{"a":1}`, `{"a":2.5}`},
		},
		{
			name: "json array, an element that is not an object is skipped with its line",
			data: "[\n{\"a\":1},\n7,\n{\"a\":2}]",
			opts: Options{Format: JSON},
			recs: []string{`{"a":1}`, `{"a":2}`},
			errs: []string{`f:3: JSON at byte 0: a record must be a JSON object`},
		},
		{
			name: "json keyed object, key as a field",
			data: `{"2005550100": {"status": "pending"}, "2005550101": {"status": "done"}}`,
			opts: Options{Format: JSON, KeyField: "phone"},
			recs: []string{`{"phone":"2005550100","status":"pending"}`, `{"phone":"2005550101","status":"done"}`},
		},
		{
			name: "json broken inside is fatal, with its line",
			data: "[\n{\"a\":1},\n{\"a\" 2}\n]",
			opts: Options{Format: JSON},
			recs: []string{`{"a":1}`},
			errs: []string{`f:3: invalid JSON: invalid character '2' after object key`},
		},
		{
			name: "json cut short",
			data: "[\n{\"a\":1},\n{\"a\":",
			opts: Options{Format: JSON},
			recs: []string{`{"a":1}`},
			errs: []string{`f:3: the JSON ends too early (the file is cut short?)`},
		},
		{
			name: "json of another shape",
			data: `"hello"`,
			opts: Options{Format: JSON},
			errs: []string{`f:1: a JSON file must hold an array of objects or an object of objects keyed by id`},
		},
		{
			name: "json data after the value",
			data: "[]\n[]",
			opts: Options{Format: JSON},
			errs: []string{`f:2: data after the JSON value`},
		},
		{name: "empty files", data: "", opts: Options{Format: JSON}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, errs := readAll(t, tc.data, tc.opts)
			if strings.Join(recs, "\n") != strings.Join(tc.recs, "\n") {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(recs, "\n"), strings.Join(tc.recs, "\n"))
			}
			if strings.Join(errs, "\n") != strings.Join(tc.errs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(tc.errs, "\n"))
			}
		})
	}
}

// TestLongLine reads a JSON line longer than the read buffer.
func TestLongLine(t *testing.T) {
	long := strings.Repeat("x", 3*bufferSize)
	data := `{"a":"` + long + "\"}\n{\"a\":\"y\"}\n"
	r := NewReader(strings.NewReader(data), "f", Options{Format: JSONL})
	for _, want := range []string{long, "y"} {
		rec, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.String("a"); got != want {
			t.Fatalf("a has %d bytes, want %d", len(got), len(want))
		}
	}
}

// TestRoundTrip writes records in each format and reads them back.
func TestRoundTrip(t *testing.T) {
	recs := []etl.Record{
		{"s": cty.StringVal("a,\"b\"\nc"), "n": cty.NumberFloatVal(1.5), "b": cty.True, "z": cty.NullVal(cty.String)},
		{"s": cty.StringVal(" lead"), "n": cty.NumberIntVal(-3), "b": cty.False, "z": cty.StringVal("")},
	}
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, f, nil)
			for _, r := range recs {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			opts := Options{Format: f, Header: true}
			if f == CSV {
				opts.Columns = cols("b:bool", "n:number", "s", "z")
			}
			got, errs := readAll(t, buf.String(), opts)
			if len(errs) > 0 {
				t.Fatalf("%s\n%s", errs, buf.String())
			}
			want := []string{
				`{"b":true,"n":1.5,"s":"a,\"b\"\nc","z":` + map[Format]string{CSV: `""`}[f] + `}`,
				`{"b":false,"n":-3,"s":" lead","z":""}`,
			}
			if f != CSV {
				want[0] = strings.Replace(want[0], `"z":}`, `"z":null}`, 1)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("read back:\n%s\nwant:\n%s\nfile:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), buf.String())
			}
		})
	}
}

func TestWriteFieldsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, CSV, []string{"b", "a"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "b,a\n" {
		t.Errorf("no records with fields: %q, want the header", buf.String())
	}
	buf.Reset()
	w = NewWriter(&buf, CSV, nil)
	if err := w.Write(etl.Record{"a": cty.StringVal("1")}); err != nil {
		t.Fatal(err)
	}
	err := w.Write(etl.Record{"a": cty.StringVal("1"), "b": cty.StringVal("2")})
	if err == nil || !strings.Contains(err.Error(), `field "b" is not a column of the CSV file (a, from its first record)`) {
		t.Errorf("a field the header lacks: %v", err)
	}
	buf.Reset()
	w = NewWriter(&buf, JSONL, []string{"b", "a"})
	w.Write(etl.Record{"a": cty.NumberIntVal(1), "c": cty.True})
	w.Close()
	if buf.String() != "{\"b\":null,\"a\":1}\n" {
		t.Errorf("fields in order, missing ones null: %q", buf.String())
	}
	err = w.Write(etl.Record{"a": cty.UnknownVal(cty.String)})
	if err == nil || !strings.Contains(err.Error(), `field "a": unknown value`) {
		t.Errorf("an unknown value: %v", err)
	}
}
