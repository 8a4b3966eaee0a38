package convosotest

import (
	"encoding/json"
	"testing"
)

// TestLeadsAnswerBytes holds the struct-encoded lead search answer to the
// bytes the map-encoded one served (keys sorted by name), with ids as
// strings and as numbers.
func TestLeadsAnswerBytes(t *testing.T) {
	for _, num := range []func(string) any{
		func(s string) any { return s },
		func(s string) any { return json.Number(s) },
	} {
		entry := leadEntry{
			ID: num("71"), LeadID: num("71"), ListID: num("1001"),
			Status: "NA", StatusName: "No Answer",
			PhoneNumber: "2015550123", PhoneCode: "1",
			FirstName: "Test", LastName: "Lead71",
			CreatedAt: "2025-11-02 10:00:00", ModifiedAt: "2025-11-03 11:00:00",
			CalledCount: num("3"),
		}
		got, err := json.Marshal(leadsAnswer{Success: true, Data: leadsPage{Offset: 0, Limit: 10, Total: num("1"), Entries: []leadEntry{entry}}})
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(map[string]any{"success": true, "data": map[string]any{
			"offset": 0, "limit": 10, "total": num("1"), "entries": []map[string]any{{
				"id": num("71"), "lead_id": num("71"), "list_id": num("1001"),
				"status": "NA", "status_name": "No Answer",
				"phone_number": "2015550123", "phone_code": "1",
				"first_name": "Test", "last_name": "Lead71",
				"created_at": "2025-11-02 10:00:00", "modified_at": "2025-11-03 11:00:00",
				"called_count": num("3"),
			}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("struct answer\n%s\nmap answer\n%s", got, want)
		}
	}
}
