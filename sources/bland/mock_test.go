package bland

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func mockSource(t *testing.T, data string) (*Source, error) {
	t.Helper()
	cfg := defaultConfig()
	if err := cfg.StartDate.DecodeValue(cty.StringVal("2025-12-01")); err != nil {
		t.Fatal(err)
	}
	if err := cfg.EndDate.DecodeValue(cty.StringVal("2025-12-02")); err != nil {
		t.Fatal(err)
	}
	s, err := newSource(cfg, etl.Env{})
	if err != nil {
		t.Fatal(err)
	}
	m := etl.Mock{}
	if data != "" {
		expr, diags := hclsyntax.ParseExpression([]byte(data), "t", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		m.Data, _ = expr.Value(nil)
	}
	return s, s.Mock(m)
}

// A mocked source lists the mock's calls as the client lists the API's:
// each call id once, repeats counted; a date not named has no calls.
func TestMockLists(t *testing.T) {
	s, err := mockSource(t, `{ calls = { "2025-12-01" = [
		{ call_id = "a", created_at = "2025-12-01T10:00:00Z", to = "5615550100", call_length = 1.5 },
		{ call_id = "a", created_at = "2025-12-01T10:00:00Z", to = "5615550100" },
		{ call_id = "b", created_at = "2025-12-01T11:00:00Z", from = "5615550101", inbound = true },
	] } }`)
	if err != nil {
		t.Fatal(err)
	}
	var got []Call
	day, err := s.client.FetchDate(context.Background(), "2025-12-01", func(c []Call) error { got = append(got, c...); return nil })
	if err != nil || day.Calls != 2 || day.Duplicates != 1 || len(got) != 2 || got[0].CallLength != 1.5 || !got[1].Inbound {
		t.Errorf("FetchDate = %+v, %v; calls %+v", day, err, got)
	}
	day, err = s.client.FetchDate(context.Background(), "2025-12-02", func([]Call) error { t.Error("calls delivered for an empty date"); return nil })
	if err != nil || day.Calls != 0 {
		t.Errorf("empty date: %+v, %v", day, err)
	}
}

// Mock data that the API could not send is refused, naming where.
func TestMockRefused(t *testing.T) {
	for data, want := range map[string]string{
		`{ calls = { "2025-11-30" = [] } }`:                                            `calls["2025-11-30"]: not a date from start_date 2025-12-01 to end_date 2025-12-02`,
		`{ calls = { "2025-12-01" = [{ created_at = "2025-12-01T10:00:00Z" }] } }`:     `calls["2025-12-01"][0]: no call_id`,
		`{ calls = { "2025-12-01" = [{ call_id = "a", created_at = "yesterday" }] } }`: `calls["2025-12-01"][0]: call a: created_at "yesterday" is not an RFC 3339 time`,
		`{ calls = { "2025-12-01" = [{ call_id = "a", phone = "1" }] } }`:              `calls["2025-12-01"][0]: unknown field "phone"`,
	} {
		if _, err := mockSource(t, data); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", data, err, want)
		}
	}
}

// Without a mock every date fails, so that the test says which block
// needs one.
func TestNotMocked(t *testing.T) {
	s, err := mockSource(t, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.client.FetchDate(context.Background(), "2025-12-01", nil)
	if !errors.Is(err, etl.ErrNotMocked) || !strings.Contains(err.Error(), "date 2025-12-01: GET /v1/calls") {
		t.Errorf("error %v", err)
	}
}
