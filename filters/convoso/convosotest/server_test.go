package convosotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// call sends a request the way a client would: GET with a query or POST
// form-encoded, and decodes the JSON answer.
func call(t *testing.T, s *Server, method, path string, params url.Values) (int, map[string]any) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = http.Get(s.URL() + path + "?" + params.Encode())
	} else {
		resp, err = http.PostForm(s.URL()+path, params)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: decoding: %v", method, path, err)
	}
	return resp.StatusCode, body
}

func params(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestLeadSearch(t *testing.T) {
	s := NewServer(Config{})
	defer s.Close()
	s.SetLeads("5619565858",
		Lead{ID: "5", ListID: "3862", Status: "CALLBK", ModifiedAt: "2025-12-20 09:00:00", CalledCount: 3},
		Lead{ID: "9", ListID: "3863", Status: "SALE", ModifiedAt: "2025-12-01 09:00:00"},
	)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			status, body := call(t, s, method, LeadsPath, params("auth_token", s.Token(), "phone_number", "5619565858"))
			if status != 200 || body["success"] != true {
				t.Fatalf("answer %d %v", status, body)
			}
			data := body["data"].(map[string]any)
			if data["total"] != "2" {
				t.Errorf("total %#v, want the string \"2\"", data["total"])
			}
			entries := data["entries"].([]any)
			first := entries[0].(map[string]any)
			if len(entries) != 2 || first["lead_id"] != "5" || first["list_id"] != "3862" || first["status"] != "CALLBK" || first["called_count"] != "3" {
				t.Errorf("entries %v", entries)
			}
		})
	}
	status, body := call(t, s, http.MethodPost, LeadsPath, params("auth_token", s.Token(), "phone_number", "5619565858", "offset", "1", "limit", "1"))
	data := body["data"].(map[string]any)
	if entries := data["entries"].([]any); status != 200 || len(entries) != 1 || entries[0].(map[string]any)["id"] != "9" || data["total"] != "2" {
		t.Errorf("page 2 of 1: %v", body)
	}
	_, body = call(t, s, http.MethodPost, LeadsPath, params("auth_token", s.Token(), "phone_number", "2025550100"))
	if data := body["data"].(map[string]any); data["total"] != "0" || len(data["entries"].([]any)) != 0 {
		t.Errorf("unknown phone: %v", body)
	}
	_, body = call(t, s, http.MethodPost, LeadsPath, params("auth_token", s.Token(), "phone_number", "561-956-5858"))
	if body["success"] != false || body["code"] != float64(BadPhoneCode) {
		t.Errorf("formatted phone: %v", body)
	}
}

func TestNumericFields(t *testing.T) {
	s := NewServer(Config{NumericFields: true})
	defer s.Close()
	s.SetLeads("5619565858", Lead{ID: "5", ListID: "3862", Status: "NA"})
	_, body := call(t, s, http.MethodGet, LeadsPath, params("auth_token", s.Token(), "phone_number", "5619565858"))
	data := body["data"].(map[string]any)
	if data["total"] != float64(1) || data["entries"].([]any)[0].(map[string]any)["lead_id"] != float64(5) {
		t.Errorf("want JSON numbers: %v", body)
	}
}

func TestAuthFailure(t *testing.T) {
	s := NewServer(Config{Token: "right"})
	defer s.Close()
	for _, path := range []string{LeadsPath, DNCPath, StatusPath} {
		status, body := call(t, s, http.MethodPost, path, params("auth_token", "wrong", "phone_number", "5619565858"))
		if status != 200 || body["success"] != false || body["code"] != float64(AuthFailedCode) || body["text"] != AuthFailedText {
			t.Errorf("%s: %d %v", path, status, body)
		}
	}
}

func TestDNCAndStatuses(t *testing.T) {
	s := NewServer(Config{})
	defer s.Close()
	s.AddDNC("5619565858")
	_, body := call(t, s, http.MethodPost, DNCPath, params("auth_token", s.Token(), "phone_number", "5619565858", "campaign_id", "0"))
	if data := body["data"].(map[string]any); data["total"] != "1" || len(data["entries"].([]any)) != 1 {
		t.Errorf("listed phone: %v", body)
	}
	_, body = call(t, s, http.MethodPost, DNCPath, params("auth_token", s.Token(), "phone_number", "5619565859"))
	if data := body["data"].(map[string]any); data["total"] != "0" {
		t.Errorf("unlisted phone: %v", body)
	}
	_, body = call(t, s, http.MethodGet, StatusPath, params("auth_token", s.Token()))
	flags := map[string]string{}
	for _, e := range body["data"].([]any) {
		m := e.(map[string]any)
		flags[m["status"].(string)] = fmt.Sprintf("%v %v %v", m["final"], m["success"], m["dnc"])
	}
	if flags["SALE"] != "Y Y N" || flags["DNCW"] != "Y N Y" || flags["NA"] != "N N N" || len(flags) != len(DefaultStatuses) {
		t.Errorf("catalogue flags %v", flags)
	}
}

func TestFaults(t *testing.T) {
	s := NewServer(Config{Fail500Once: EveryNth(2), Latency: 30 * time.Millisecond})
	defer s.Close()
	p := params("auth_token", s.Token(), "phone_number", "5619565858")
	start := time.Now()
	if status, _ := call(t, s, http.MethodPost, LeadsPath, p); status != 500 {
		t.Errorf("first search of an even phone: %d, want 500", status)
	}
	if status, _ := call(t, s, http.MethodPost, LeadsPath, p); status != 200 {
		t.Errorf("second search: %d, want 200", status)
	}
	if status, _ := call(t, s, http.MethodPost, LeadsPath, params("auth_token", s.Token(), "phone_number", "5619565859")); status != 200 {
		t.Errorf("odd phone: %d, want 200", status)
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Errorf("3 requests with 30ms latency took %s", el)
	}
	if got := s.Answered(); got["5619565858"] != 1 || got["5619565859"] != 1 {
		t.Errorf("answered %v", got)
	}
	s.SetError("5619565857", APIError{Code: 7000, Text: "Something odd"})
	if _, body := call(t, s, http.MethodPost, LeadsPath, params("auth_token", s.Token(), "phone_number", "5619565857")); body["code"] != float64(7000) {
		t.Errorf("injected error: %v", body)
	}
}

func TestRateLimit(t *testing.T) {
	s := NewServer(Config{RequestsPerSecond: 10, Burst: 2})
	defer s.Close()
	p := params("auth_token", s.Token(), "phone_number", "5619565858")
	var statuses []int
	for i := 0; i < 4; i++ {
		st, _ := call(t, s, http.MethodPost, LeadsPath, p)
		statuses = append(statuses, st)
	}
	if fmt.Sprint(statuses[:2]) != "[200 200]" || statuses[3] != 429 {
		t.Errorf("back-to-back statuses %v, want the burst of 2 then 429", statuses)
	}
	if s.Count(LeadsPath, 429) == 0 {
		t.Error("429s not counted")
	}
	time.Sleep(250 * time.Millisecond)
	if st, _ := call(t, s, http.MethodPost, LeadsPath, p); st != 200 {
		t.Errorf("after waiting: %d", st)
	}
}

// TestSeedAndExpect checks that seeding deals every profile and that
// Expect applies the rules to the seeded data.
func TestSeedAndExpect(t *testing.T) {
	s := NewServer(Config{})
	defer s.Close()
	var phones []string
	for i := 0; i < 400; i++ {
		phones = append(phones, fmt.Sprintf("561555%04d", i))
	}
	s.Seed(phones)
	seen := map[Profile]int{}
	for _, p := range phones {
		seen[ProfileOf(p)]++
	}
	if len(seen) != int(numProfiles) {
		t.Fatalf("profiles dealt: %v", seen)
	}
	var sum uint32
	for _, w := range profileWeights {
		sum += w
	}
	if sum != 100 {
		t.Errorf("profile weights sum to %d, want 100", sum)
	}
	for p, n := range seen { // 400 phones: each share within 4 points of its weight
		if share := n * 100 / len(phones); share+4 < int(profileWeights[p]) || share > int(profileWeights[p])+4 {
			t.Errorf("%s: %d%% of the phones, want about %d%%", p, share, profileWeights[p])
		}
	}
	rules := Rules{ExcludeStatuses: []string{"SALE", "DNC"}, ExcludeFlags: []string{"dnc"}, CheckDNCList: true}
	want := map[Profile]string{
		NotFound: "not found", Callback: "", NoAnswer: "", Sold: "excluded: SALE", SoldElsewhere: "excluded: SALE",
		DNCFlagged: "excluded: DNCW", OnDNCList: "on dnc list", Transferred: "", DoNotCall: "excluded: DNC",
	}
	for _, p := range phones {
		prof := ProfileOf(p)
		e := s.Expect(p, rules)
		if e.Reason != want[prof] || e.Kept != (want[prof] == "") {
			t.Errorf("%s (%s): %+v, want reason %q", p, prof, e, want[prof])
		}
		switch prof {
		case NoAnswer:
			if e.LeadStatus != "A" || e.LeadCount != 2 {
				t.Errorf("%s: latest lead %+v, want the A lead of 2", p, e)
			}
		case SoldElsewhere:
			if e.LeadStatus != "CALLBK" {
				t.Errorf("%s: latest lead %+v, want CALLBK", p, e)
			}
		}
	}
	for _, p := range phones {
		if ProfileOf(p) == Transferred {
			if e := s.Expect(p, Rules{ExcludeFlags: []string{"success"}}); e.Reason != "excluded: XFER" {
				t.Errorf("success flag: %+v", e)
			}
			break
		}
	}
	if e := s.Expect("2025550100", Rules{KeepNotFound: true}); !e.Kept || e.LeadCount != 0 {
		t.Errorf("on_not_found keep: unknown phone gives %+v", e)
	}
}
