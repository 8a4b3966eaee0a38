package blandtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl/phone"
)

func get(t *testing.T, s *Server, query, key string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL()+"/v1/calls?"+query, nil)
	if key != "" {
		req.Header.Set("authorization", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type body struct {
	TotalCount int              `json:"total_count"`
	Count      int              `json:"count"`
	Calls      []map[string]any `json:"calls"`
}

func TestServerRequests(t *testing.T) {
	s := NewServer(Config{Seed: 9})
	defer s.Close()
	tests := []struct {
		name, query, key string
		status           int
		msg              string
	}{
		{"ok", "created_at=2025-12-01", DefaultKey, 200, ""},
		{"no key", "created_at=2025-12-01", "", 401, "Invalid API key"},
		{"bearer is wrong", "created_at=2025-12-01", "Bearer " + DefaultKey, 401, "Invalid API key"},
		{"created_at and range", "created_at=2025-12-01&start_date=2025-12-01", DefaultKey, 400, "cannot be combined"},
		{"created_at and end", "created_at=2025-12-01&end_date=2025-12-02", DefaultKey, 400, "cannot be combined"},
		{"bad date", "created_at=12/01/2025", DefaultKey, 400, "Invalid created_at"},
		{"bad limit", "created_at=2025-12-01&limit=x", DefaultKey, 400, "invalid limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := get(t, s, tt.query, tt.key)
			if status != tt.status || !strings.Contains(string(b), tt.msg) {
				t.Errorf("%d %s; want %d with %q", status, b, tt.status, tt.msg)
			}
		})
	}
	log := s.Requests()
	if len(log) != len(tests) || log[0].Date != "2025-12-01" || !log[0].Authorized || log[1].Authorized || log[1].Status != 401 {
		t.Errorf("request log %+v", log)
	}
}

func TestServerData(t *testing.T) {
	s := NewServer(Config{Seed: 5, CallsPerDay: 60})
	defer s.Close()
	_, b := get(t, s, "created_at=2025-12-01", DefaultKey)
	var got body
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls("2025-12-01")
	if got.TotalCount != 60 || got.Count != 60 || len(got.Calls) != 60 || len(calls) != 60 {
		t.Fatalf("total %d count %d calls %d", got.TotalCount, got.Count, len(got.Calls))
	}
	idNames := map[string]int{}
	formats := map[string]bool{}
	for i, c := range got.Calls {
		id, _ := c["call_id"].(string)
		if id == "" {
			id, _ = c["c_id"].(string)
			idNames["c_id"]++
		} else {
			idNames["call_id"]++
		}
		if id != calls[i].ID {
			t.Fatalf("call %d: id %q, Calls says %q", i, id, calls[i].ID)
		}
		raw := calls[i].LeadPhone()
		switch {
		case strings.HasPrefix(raw, "+1"):
			formats["+1"] = true
		case strings.HasPrefix(raw, "("):
			formats["()"] = true
		case len(raw) == 11:
			formats["1"] = true
		case len(raw) == 10:
			formats["10"] = true
		}
	}
	st := s.Stats("2025-12-01")
	if idNames["c_id"] == 0 || idNames["call_id"] == 0 || len(formats) != 4 {
		t.Errorf("id names %v, phone formats %v: want both names and four formats", idNames, formats)
	}
	if st.Duplicates != 1 || st.Unique != 59 || st.InvalidPhones == 0 || st.Inbound == 0 {
		t.Errorf("stats %+v: want a duplicate, invalid phones and inbound calls", st)
	}
	// Deterministic: a second server with the same seed serves the same.
	s2 := NewServer(Config{Seed: 5, CallsPerDay: 60})
	defer s2.Close()
	_, b2 := get(t, s2, "created_at=2025-12-01", DefaultKey)
	if string(b) != string(b2) {
		t.Error("same seed, different data")
	}
	// Every valid generated phone normalises to a pool phone.
	for _, c := range calls {
		if p, _, ok := phone.Normalize(c.LeadPhone()); ok && len(p) != 10 {
			t.Errorf("phone %q", p)
		}
	}
}

func TestServerFaults(t *testing.T) {
	s := NewServer(Config{Seed: 1, Broken: map[string]int{"2025-12-02": 5}, Faults: []Fault{
		{Date: "2025-12-01", Status: 429, RetryAfter: "7"},
		{Date: "2025-12-01", CutAfter: 100},
	}})
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL()+"/v1/calls?created_at=2025-12-01", nil)
	req.Header.Set("authorization", DefaultKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("first: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(b) != 100 {
		t.Errorf("cut body: %d bytes, err %v; want 100 bytes and an error", len(b), err)
	}
	if status, _ := get(t, s, "created_at=2025-12-01", DefaultKey); status != 200 {
		t.Errorf("faults used up, still %d", status)
	}
	// The broken date serves the same 5 calls whatever the window.
	for _, q := range []string{"", "&from=5&to=10", "&from=10&to=20"} {
		_, b := get(t, s, "created_at=2025-12-02&limit=10"+q, DefaultKey)
		var got body
		json.Unmarshal(b, &got)
		if got.TotalCount != 20 || len(got.Calls) != 5 || got.Calls[0]["call_id"] != s.Calls("2025-12-02")[0].ID {
			t.Errorf("broken date%s: total %d, %d calls", q, got.TotalCount, len(got.Calls))
		}
	}
}

// TestServerMaxPageAndOvercount checks the page cap (paging still works)
// and a total_count above what the listing serves.
func TestServerMaxPageAndOvercount(t *testing.T) {
	s := NewServer(Config{Seed: 1, MaxPage: 7, Overcount: map[string]int{"2025-12-01": 3}})
	defer s.Close()
	all := s.Calls("2025-12-01")
	for _, tc := range []struct {
		q         string
		from, end int
	}{{"", 0, 7}, {"&from=7&to=1007", 7, 14}, {"&from=14&to=1014", 14, 20}, {"&from=20&to=1020", 20, 20}} {
		_, b := get(t, s, "created_at=2025-12-01&limit=1000"+tc.q, DefaultKey)
		var got body
		json.Unmarshal(b, &got)
		if got.TotalCount != 23 || len(got.Calls) != tc.end-tc.from {
			t.Fatalf("window%s: total %d, %d calls; want total 23, %d calls", tc.q, got.TotalCount, len(got.Calls), tc.end-tc.from)
		}
		if len(got.Calls) == 0 {
			continue
		}
		id := got.Calls[0]["call_id"]
		if id == nil {
			id = got.Calls[0]["c_id"] // the fake uses both names
		}
		if id != all[tc.from].ID {
			t.Errorf("window%s starts at %v, want call %d", tc.q, id, tc.from)
		}
	}
}
