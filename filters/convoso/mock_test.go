package convoso

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func mockFilter(t *testing.T, data string) (*Filter, error) {
	t.Helper()
	f := newFilter(defaultConfig(), etl.Env{})
	m := etl.Mock{}
	if data != "" {
		expr, diags := hclsyntax.ParseExpression([]byte(data), "t", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		m.Data, _ = expr.Value(nil)
	}
	return f, f.Mock(m)
}

// A mocked filter answers from the mock: phones written in any NANP form,
// a phone not named has no leads, the DNC list and the catalogue.
func TestMockAnswers(t *testing.T) {
	f, err := mockFilter(t, `{
		leads    = { "+1 (561) 555-0100" = [{ lead_id = "1", status = "SALE", modified_at = "2025-12-01 10:00:00" }] }
		dnc      = ["5615550101"]
		statuses = [{ code = "SALE", success = true }]
	}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leads, _, err := f.api.Leads(ctx, "5615550100")
	if err != nil || len(leads) != 1 || leads[0].Status != "SALE" || leads[0].ID != "1" {
		t.Errorf("Leads = %+v, %v", leads, err)
	}
	if leads, _, _ := f.api.Leads(ctx, "5615550199"); len(leads) != 0 {
		t.Errorf("a phone not in the mock has leads %+v", leads)
	}
	if on, _, _ := f.api.OnDNC(ctx, "5615550101", 0); !on {
		t.Error("the DNC phone is not on the list")
	}
	if on, _, _ := f.api.OnDNC(ctx, "5615550100", 0); on {
		t.Error("a phone not listed is on the DNC list")
	}
	if st, _ := f.api.Statuses(ctx); len(st) != 1 || !st[0].Success {
		t.Errorf("Statuses = %+v", st)
	}
}

func TestMockRefused(t *testing.T) {
	for data, want := range map[string]string{
		`{ leads = { "12" = [] } }`:                           `leads["12"]: "12" is not a phone`,
		`{ dnc = ["x"] }`:                                     `dnc[0]: "x" is not a phone`,
		`{ leads = { "5615550100" = [{ state = "SALE" }] } }`: `leads["5615550100"][0]: unknown field "state"; the fields there are lead_id, list_id, status, modified_at`,
	} {
		if _, err := mockFilter(t, data); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", data, err, want)
		}
	}
}

// Without a mock every request fails, naming what it asked.
func TestNotMocked(t *testing.T) {
	f, err := mockFilter(t, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.api.Leads(context.Background(), "5615550100")
	if !errors.Is(err, etl.ErrNotMocked) || !strings.Contains(err.Error(), "phone ******0100: POST /v1/leads/search") {
		t.Errorf("error %v", err)
	}
}
