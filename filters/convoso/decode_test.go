package convoso

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeLeads(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    LeadPage
		wantErr string
		auth    bool
	}{
		{
			name: "numbers as strings",
			body: `{"success":true,"data":{"offset":0,"limit":10,"total":"2","entries":[
				{"id":"5","lead_id":"5","status":"CALLBK","list_id":"3862","modified_at":"2025-12-20 09:00:00","called_count":"3","extra":{"x":[1]}},
				{"id":"6","lead_id":"6","status":"SALE","list_id":"3863","modified_at":"2025-12-01 09:00:00"}]}}`,
			want: LeadPage{Limit: 10, Total: 2, Leads: []Lead{
				{ID: "5", ListID: "3862", Status: "CALLBK", ModifiedAt: "2025-12-20 09:00:00"},
				{ID: "6", ListID: "3863", Status: "SALE", ModifiedAt: "2025-12-01 09:00:00"}}},
		},
		{
			name: "numbers as numbers, id without lead_id",
			body: `{"success":true,"data":{"offset":"0","limit":"10","total":1,"entries":[{"id":5,"status":"NA","list_id":3862,"modified_at":null}]}}`,
			want: LeadPage{Limit: 10, Total: 1, Leads: []Lead{{ID: "5", ListID: "3862", Status: "NA"}}},
		},
		{
			name: "no leads",
			body: `{"success":true,"data":{"offset":0,"limit":10,"total":"0","entries":[]}}`,
			want: LeadPage{Limit: 10, Leads: []Lead{}},
		},
		{name: "auth failure", body: `{"success":false,"code":5001,"text":"Auth token is invalid"}`, wantErr: "code 5001: Auth token is invalid", auth: true},
		{name: "other failure", body: `{"success":false,"code":"6002","text":"Invalid phone_number"}`, wantErr: "code 6002: Invalid phone_number"},
		{name: "success as string flag", body: `{"success":"N","code":7}`, wantErr: "code 7: (no text)"},
		{name: "not json", body: `<html>`, wantErr: "decoding the answer"},
		{name: "no data", body: `{"success":true}`, wantErr: "success without data"},
		{name: "entry without id", body: `{"success":true,"data":{"total":1,"entries":[{"status":"NA"}]}}`, wantErr: "entry 0: no id"},
		{name: "entry not an object", body: `{"success":true,"data":{"total":1,"entries":["5"]}}`, wantErr: "entry 0"},
		{name: "bad total", body: `{"success":true,"data":{"total":"many","entries":[]}}`, wantErr: "want an integer"},
		{name: "negative total", body: `{"success":true,"data":{"total":-1,"entries":[]}}`, wantErr: "negative total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeLeads([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				var apiErr *APIError
				if errors.As(err, &apiErr) && apiErr.IsAuth() != tt.auth {
					t.Errorf("IsAuth = %v, want %v", apiErr.IsAuth(), tt.auth)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Offset != tt.want.Offset || got.Limit != tt.want.Limit || got.Total != tt.want.Total || len(got.Leads) != len(tt.want.Leads) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got.Leads {
				if got.Leads[i] != tt.want.Leads[i] {
					t.Errorf("lead %d: %+v, want %+v", i, got.Leads[i], tt.want.Leads[i])
				}
			}
		})
	}
}

func TestDecodeStatuses(t *testing.T) {
	got, err := DecodeStatuses([]byte(`{"success":true,"data":[
		{"status":"SALE","name":"Sale","final":"Y","success":"Y","dnc":"N"},
		{"status":"DNCW","final":"Y","success":"N","dnc":"Y"},
		{"status":"NA","final":false,"success":0,"dnc":null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Status{{Code: "SALE", Final: true, Success: true}, {Code: "DNCW", Final: true, DNC: true}, {Code: "NA"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("status %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := DecodeStatuses([]byte(`{"success":true,"data":[{"status":"X","dnc":"maybe"}]}`)); err == nil {
		t.Error("a flag of \"maybe\" was accepted")
	}
}

// FuzzDecodeLeads checks that no answer makes the decoder panic, and that
// what it accepts is consistent: every lead has an id, counts are not
// negative.
func FuzzDecodeLeads(f *testing.F) {
	for _, seed := range []string{
		`{"success":true,"data":{"offset":0,"limit":10,"total":"2","entries":[{"id":"5","lead_id":"5","status":"CALLBK","list_id":"3862","modified_at":"2025-12-20 09:00:00"},{"id":6,"status":"SALE"}]}}`,
		`{"success":true,"data":{"offset":0,"limit":10,"total":"0","entries":[]}}`,
		`{"success":false,"code":5001,"text":"Auth token is invalid"}`,
		`{"success":"Y","data":{"total":"1","entries":[{"lead_id":1e3}]}}`,
		`{"success":true,"data":null}`,
		`{"success":true,"data":[]}`,
		`null`,
		``,
		`{"success":true,"data":{"total":1,"entries":[null]}}`,
		`{"success":true,"data":{"total":1,"entries":["5"]}}`,
		`{"success":true,"data":{"total":-1,"entries":[]}}`,
		`{"success":true,"SUCCESS":false,"data":{"entries":[{"ID":"7","Status":"A"}],"Data":null}}`,
		`{"success":true,"data":{"entries":[{"id":"7","id":"8","lead_id":null}]}}`,
		`{"success":true,"code":"x","data":{"total":1,"entries":[{"id":"7"}]}}`,
		`{"success":true,"code":200,"text":"ok","data":{"offset":"0","limit":" 10 ","total":2,"entries":[{"id":"5","lead_id":"\u0035","first_name":{"x":[1,2]},"status":"A\u00e9"},{"lead_id":12345678901234567890,"status":null}]}}`,
		`{"success":true,"data":{"total":1,"entries":[{"id":"7","Lead_ID":"8"}]}}`,
		`{"success":true,"data":{"total":1,"entries":[{"id":"\ud800"}]}}`,
	} {
		f.Add([]byte(seed))
	}
	for _, seed := range edgeSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodeLeads(body)
		// The fastjson path reads what it reads as the stepwise one does,
		// duplicate keys included (it refuses those it would read).
		if fast, ok := decodeLeadsFast(body); ok {
			slow, err := decodeLeadsStepwise(body)
			if err != nil {
				t.Fatalf("decoded by fastjson to %+v, stepwise failed: %v", fast, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fastjson %+v, stepwise %+v", fast, slow)
			}
		}
		if fast, ok := decodeLeadsAtOnce(body); ok && !duplicateKeys(body) {
			slow, err := decodeLeadsStepwise(body)
			if err != nil {
				t.Fatalf("decoded at once to %+v, stepwise failed: %v", fast, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("at once %+v, stepwise %+v", fast, slow)
			}
		}
		if err != nil {
			if p != nil {
				t.Fatalf("page %+v with error %v", p, err)
			}
			return
		}
		if p.Total < 0 || p.Offset < 0 {
			t.Fatalf("negative counts: %+v", p)
		}
		for i, l := range p.Leads {
			if l.ID == "" {
				t.Fatalf("lead %d without id: %+v", i, p)
			}
		}
	})
}

// duplicateKeys reports whether some object in body (valid JSON) has a key
// twice, case-insensitively as encoding/json matches struct fields.
func duplicateKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var seen []map[string]bool // per open object; nil for an array
	expectKey := func() bool { return len(seen) > 0 && seen[len(seen)-1] != nil }
	keyNext := false // the next string in an object is a key
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				seen = append(seen, map[string]bool{})
				keyNext = true
				continue
			case '[':
				seen = append(seen, nil)
			case '}', ']':
				seen = seen[:len(seen)-1]
			}
		case string:
			if expectKey() && keyNext {
				k := strings.ToLower(v)
				if seen[len(seen)-1][k] {
					return true
				}
				seen[len(seen)-1][k] = true
				keyNext = false
				continue
			}
		}
		keyNext = expectKey()
	}
}

func TestDuplicateKeys(t *testing.T) {
	for body, want := range map[string]bool{
		`{"a":1,"b":{"a":2}}`:           false,
		`{"a":1,"A":2}`:                 true,
		`{"d":{"e":[{"x":1},{"x":2}]}}`: false,
		`{"d":{"e":[{"x":1,"x":2}]}}`:   true,
		`{"d":{"e":[1]},"d":{"e":[2]}}`: true,
		`["a","a",{"k":"a","v":"a"}]`:   false,
		`{"k":{"a":"k"},"v":["k","k"]}`: false,
	} {
		if got := duplicateKeys([]byte(body)); got != want {
			t.Errorf("duplicateKeys(%s) = %v, want %v", body, got, want)
		}
	}
}
