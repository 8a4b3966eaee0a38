package bland

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func decodeAll(s string) (Page, []Call, error) {
	var calls []Call
	p, err := DecodeCalls(strings.NewReader(s), func(c Call) error {
		calls = append(calls, c)
		return nil
	})
	return p, calls, err
}

func TestDecodeCalls(t *testing.T) {
	const full = `{"status":"success","total_count":3,"count":2,"calls":[
		{"call_id":"a","created_at":"2025-12-01T10:00:00.123Z","to":"+15619565858","from":"+18005550100","inbound":false,
		 "batch_id":"b1","status":"completed","answered_by":"human","call_length":1.5,"metadata":{"lead":7,"tags":["x"]},
		 "variables":{"deep":[1,{"x":[null,true]}]},"summary":"long text","price":0.09,"unknown":[[[]]]},
		{"c_id":"b","created_at":"2025-12-01T11:00:00.5+00:00","to":null,"from":5619565858,"inbound":true,
		 "batch_id":null,"answered_by":null,"call_length":null,"metadata":null}
	]}`
	p, calls, err := decodeAll(full)
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalCount != 3 || p.Count != 2 || p.Calls != 2 || len(calls) != 2 {
		t.Fatalf("page %+v, %d calls", p, len(calls))
	}
	a, b := calls[0], calls[1]
	want := Call{ID: "a", CreatedAt: time.Date(2025, 12, 1, 10, 0, 0, 123e6, time.UTC), To: "+15619565858", From: "+18005550100",
		BatchID: "b1", Status: "completed", AnsweredBy: "human", CallLength: 1.5, HasLength: true, Metadata: json.RawMessage(`{"lead":7,"tags":["x"]}`)}
	if a.ID != want.ID || !a.CreatedAt.Equal(want.CreatedAt) || a.To != want.To || a.From != want.From || a.BatchID != want.BatchID ||
		a.Status != want.Status || a.AnsweredBy != want.AnsweredBy || a.CallLength != 1.5 || !a.HasLength || string(a.Metadata) != string(want.Metadata) || a.Inbound {
		t.Errorf("call a = %+v\nwant %+v", a, want)
	}
	if b.ID != "b" || !b.Inbound || b.To != "" || b.From != "5619565858" || b.HasLength || b.Metadata != nil || b.BatchID != "" ||
		!b.CreatedAt.Equal(time.Date(2025, 12, 1, 11, 0, 0, 5e8, time.UTC)) {
		t.Errorf("call b = %+v", b)
	}
}

func TestDecodeCallsCases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		calls   int
		total   int
		wantErr string
		eof     bool // the error must be io.ErrUnexpectedEOF
	}{
		{name: "calls before counts", in: `{"calls":[{"call_id":"x","created_at":"2025-12-01T00:00:00Z"}],"total_count":1}`, calls: 1, total: 1},
		{name: "no total_count", in: `{"calls":[{"call_id":"x","created_at":"2025-12-01T00:00:00Z"}]}`, calls: 1, total: 1},
		{name: "null calls", in: `{"total_count":0,"calls":null}`, total: 0},
		{name: "empty", in: `{"total_count":0,"count":0,"calls":[]}`},
		{name: "fractions", in: `{"calls":[{"call_id":"1","created_at":"2025-12-01T00:00:00.1Z"},{"call_id":"2","created_at":"2025-12-01T00:00:00.123456789+00:00"},{"call_id":"3","created_at":"2025-12-01 00:00:00.12+00:00"}]}`, calls: 3, total: 3},
		{name: "c_id", in: `{"calls":[{"c_id":"x","created_at":"2025-12-01T00:00:00Z"}]}`, calls: 1, total: 1},
		{name: "no calls key", in: `{"total_count":0}`, wantErr: `no "calls" list`},
		{name: "no id", in: `{"calls":[{"created_at":"2025-12-01T00:00:00Z"}]}`, wantErr: "call 0 has neither call_id nor c_id"},
		{name: "bad created_at", in: `{"calls":[{"call_id":"x","created_at":"yesterday"}]}`, wantErr: `call x: created_at "yesterday" is not an RFC 3339 time`},
		{name: "no created_at", in: `{"calls":[{"call_id":"x"}]}`, wantErr: "call x: no created_at"},
		{name: "calls not a list", in: `{"calls":{}}`, wantErr: `"calls" is not a list`},
		{name: "inbound string", in: `{"calls":[{"call_id":"x","inbound":"yes"}]}`, wantErr: "inbound is not a bool"},
		{name: "trailing data", in: `{"calls":[]} {}`, wantErr: "unexpected data after"},
		{name: "not an object", in: `[1]`, wantErr: "expected"},
		{name: "syntax", in: `{"calls":[}`, wantErr: "call 0 is not an object"},
		{name: "bad literal", in: `{"calls":[{"call_id":"x","created_at":"2025-12-01T00:00:00Z","inbound":ture}]}`, wantErr: "inbound is ture"},
		{name: "bad escape", in: `{"calls":[{"call_id":"\q"}]}`, wantErr: "invalid escape"},
		{name: "control char in kept string", in: "{\"calls\":[{\"call_id\":\"a\tb\"}]}", wantErr: "invalid string"},
		{name: "mismatched brackets in skipped value", in: `{"x":[1,2},"calls":[]}`, wantErr: "invalid character"},
		{name: "escaped quote in skipped string", in: `{"x":"a\"b\\","calls":[{"c_id":"\u00e9","created_at":"2025-12-01T00:00:00Z"}]}`, calls: 1, total: 1},
		{name: "empty body", in: ``, eof: true},
		{name: "cut in list", in: `{"total_count":2,"calls":[{"call_id":"x","created_at":"2025-12-01T00:00:00Z"},`, eof: true},
		{name: "cut in string", in: `{"total_count":2,"calls":[{"call_id":"x","summary":"abc`, eof: true},
		{name: "cut after list", in: `{"total_count":2,"calls":[]`, eof: true},
		{name: "cut in skipped value", in: `{"x":{"y":[1,2`, eof: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, calls, err := decodeAll(tt.in)
			switch {
			case tt.eof:
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("content error %v must not look like a cut body", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if len(calls) != tt.calls || p.TotalCount != tt.total {
					t.Errorf("%d calls, total %d; want %d, %d", len(calls), p.TotalCount, tt.calls, tt.total)
				}
			}
		})
	}
}

// A reader error (a reset connection) comes back as such, not as bad JSON.
func TestDecodeCallsReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"calls":[{"call_id":"x",`), iotest.ErrReader(boom))
	_, err := DecodeCalls(r, func(Call) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

// One byte at a time, the decoder gives the same result.
func TestDecodeCallsOneByteReader(t *testing.T) {
	in := `{"total_count":2,"calls":[{"call_id":"a","created_at":"2025-12-01T00:00:00Z","metadata":{"k":[1,2]}},{"c_id":"b","created_at":"2025-12-01T00:00:01Z"}]}`
	var ids []string
	_, err := DecodeCalls(iotest.OneByteReader(strings.NewReader(in)), func(c Call) error {
		ids = append(ids, c.ID)
		return nil
	})
	if err != nil || strings.Join(ids, ",") != "a,b" {
		t.Errorf("ids %v, err %v", ids, err)
	}
}

// FuzzDecodeCalls holds the fast decoder to the encoding/json token-API
// decoder: on valid JSON both accept or both refuse, with the same calls;
// on any input, an accepted body cut before its last '}' is refused (a cut
// body never passes as a short date).
func FuzzDecodeCalls(f *testing.F) {
	seeds := []string{
		`{"total_count":1,"count":1,"calls":[{"call_id":"a","created_at":"2025-12-01T10:00:00.123Z","to":"+15619565858","inbound":false,"metadata":{"x":1}}]}`,
		`{"calls":[{"c_id":"b","created_at":"2025-12-01T10:00:00+00:00","from":5619565858,"inbound":true,"call_length":null}],"total_count":1}`,
		`{"calls":null}`,
		`{"calls":[],"x":[{"y":null}]}`,
		`{"calls":[{"call_id":"a","c_id":"b","created_at":"2025-12-01 10:00:00Z","variables":{"a":[1,[2,[3]]]}}]}`,
		`{"total_count":2,"calls":[{"call_id":"x",`,
		`{"calls":[{"call_id":"\u00e9\ud83d\ude00","created_at":"2025-12-01T10:00:00.1+05:30","summary":"a\"b"}]}`,
		`{"calls":[{"call_id":"a","created_at":"2025-12-01T10:00:00Z","metadata":{"k":"v\"}"},"call_length":1e2}]}`,
		``, `[]`, `null`, `{"calls":[1]}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		collect := func(dec func(io.Reader, func(Call) error) (Page, error), r io.Reader) ([]Call, Page, error) {
			var calls []Call
			p, err := dec(r, func(c Call) error {
				calls = append(calls, c)
				return nil
			})
			return calls, p, err
		}
		got, p, err := collect(DecodeCalls, strings.NewReader(in))
		if err == nil {
			if p.Calls != len(got) {
				t.Fatalf("page says %d calls, %d seen", p.Calls, len(got))
			}
			for _, c := range got {
				if c.ID == "" || c.CreatedAt.IsZero() {
					t.Fatalf("call without id or time accepted: %+v", c)
				}
			}
			if cut := strings.LastIndexByte(in, '}'); cut >= 0 {
				if _, _, err := collect(DecodeCalls, strings.NewReader(in[:cut])); err == nil {
					t.Fatalf("accepted %q cut to %q", in, in[:cut])
				}
			}
			// Small reads give the same result.
			again, _, err := collect(DecodeCalls, iotest.OneByteReader(strings.NewReader(in)))
			if err != nil || len(again) != len(got) {
				t.Fatalf("one byte at a time: %d calls, %v; at once %d", len(again), err, len(got))
			}
		}
		if !json.Valid([]byte(in)) {
			return
		}
		want, _, werr := collect(decodeCallsStd, strings.NewReader(in))
		if (err == nil) != (werr == nil) {
			t.Fatalf("fast decoder: %v; token decoder: %v", err, werr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d calls, token decoder %d", len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.ID != w.ID || !g.CreatedAt.Equal(w.CreatedAt) || g.To != w.To || g.From != w.From || g.BatchID != w.BatchID ||
				g.Status != w.Status || g.AnsweredBy != w.AnsweredBy || g.Inbound != w.Inbound || g.HasLength != w.HasLength ||
				g.CallLength != w.CallLength || !bytes.Equal(g.Metadata, w.Metadata) {
				t.Fatalf("call %d:\n fast  %+v\n token %+v", i, g, w)
			}
		}
	})
}

// idOf renders an id as the decoder keeps it: strings as they are, numbers
// as written.
func idOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// TestDecodeSkipsEscapedQuotes checks the skipped-string fast path on runs
// of backslashes before quotes, read whole and one byte at a time (runs
// cut across buffer refills).
func TestDecodeSkipsEscapedQuotes(t *testing.T) {
	for _, summary := range []string{`""`, `"\\"`, `"\\\\"`, `"a\"b"`, `"\\\"\\"`, `"x\\\\\"\"\\"`, `"` + strings.Repeat(`\\`, 40000) + `"`} {
		in := `{"calls":[{"summary":` + summary + `,"call_id":"a","created_at":"2025-12-01T10:00:00Z","summary2":` + summary + `}]}`
		if !json.Valid([]byte(in)) {
			t.Fatalf("bad test input %s", in)
		}
		for name, r := range map[string]io.Reader{"whole": strings.NewReader(in), "bytewise": iotest.OneByteReader(strings.NewReader(in))} {
			var ids []string
			_, err := DecodeCalls(r, func(c Call) error { ids = append(ids, c.ID); return nil })
			if err != nil || len(ids) != 1 || ids[0] != "a" {
				t.Errorf("%s, %s: ids %v, err %v", summary[:min(len(summary), 20)], name, ids, err)
			}
		}
	}
}

// TestDecodeSkippingFields: the calls are the same, without the skipped fields.
func TestDecodeSkippingFields(t *testing.T) {
	const in = `{"calls":[{"call_id":"a","created_at":"2025-12-01T10:00:00Z","metadata":{"lead":7,"s":"x\"}"},"to":"+15619565858",
		"status":"completed","answered_by":"human","call_length":1.5,"batch_id":"b"},
		{"call_id":"b","created_at":"2025-12-01T11:00:00Z","metadata":null}]}`
	var full, skipped []Call
	if _, err := decodeCalls(strings.NewReader(in), Skip{}, func(c Call) error { full = append(full, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeCalls(strings.NewReader(in), Skip{Metadata: true, Status: true, AnsweredBy: true, CallLength: true, BatchID: true}, func(c Call) error { skipped = append(skipped, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(full) != 2 || len(skipped) != 2 || full[0].Metadata == nil || full[0].Status == "" || !full[0].HasLength {
		t.Fatalf("full %+v, skipped %+v", full, skipped)
	}
	for i := range full {
		want := full[i]
		want.Metadata = nil
		want.Status, want.AnsweredBy, want.BatchID, want.CallLength, want.HasLength = "", "", "", 0, false
		if got := skipped[i]; !reflect.DeepEqual(got, want) {
			t.Errorf("call %d: %+v, want %+v", i, got, want)
		}
	}
}
