package convoso

import (
	"context"
	"fmt"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
	"github.com/zclconf/go-cty/cty"
)

// api is what the filter asks Convoso: the HTTP client, or in a test the
// answers its mock gives (etl.Mockable).
type api interface {
	Leads(ctx context.Context, ph string) ([]Lead, int, error)
	OnDNC(ctx context.Context, ph string, campaign int) (bool, int, error)
	Statuses(ctx context.Context) ([]Status, error)
}

// mockDoc is what `etl plugins convoso_status` says of the mock.
const mockDoc = `leads: each phone's leads (lead_id, list_id, status, modified_at as
"2006-01-02 15:04:05"); a phone not named has none. dnc: the phones on the
DNC list. statuses: the status catalogue (code, final, success, dnc), for
exclude_flags. The filter's own rules run on them.
  mock "filter.convoso_status.redialable" {
    leads = { "5615550100" = [{ lead_id = "1", status = "SALE", modified_at = "2025-12-01 10:00:00" }] }
    dnc   = ["5615550101"]
  }`

// mockData is a convoso_status mock: each phone's leads, the DNC list and
// the status catalogue (for exclude_flags).
//
//	mock "filter.convoso_status.redialable" {
//	  leads = { "5615550100" = [{ lead_id = "1", status = "SALE", modified_at = "2025-12-01 10:00:00" }] }
//	  dnc   = ["5615550101"]
//	}
type mockData struct {
	Leads    map[string][]mockLead `json:"leads"`
	DNC      []string              `json:"dnc"`
	Statuses []mockStatus          `json:"statuses"`
}

type mockLead struct {
	LeadID     string `json:"lead_id"`
	ListID     string `json:"list_id"`
	Status     string `json:"status"`
	ModifiedAt string `json:"modified_at"`
}

type mockStatus struct {
	Code    string `json:"code"`
	Final   bool   `json:"final"`
	Success bool   `json:"success"`
	DNC     bool   `json:"dnc"`
}

// Mock makes the filter answer from the mock instead of Convoso: its own
// rules (any lead in an excluded status, the latest lead's fields, the DNC
// list asked only for phones otherwise kept, on_not_found) run on them. A
// phone the mock does not name has no leads; without a mock the first
// request fails, naming the block that needs one.
func (f *Filter) Mock(m etl.Mock) error {
	if m.Data == cty.NilVal {
		f.api = notMocked{}
		return nil
	}
	var d mockData
	if err := etl.DecodeMock(m.Data, &d); err != nil {
		return err
	}
	mk := &mockAPI{leads: map[string][]Lead{}, dnc: map[string]bool{}}
	norm := func(what, raw string) (string, error) {
		ph, reason, ok := phone.Normalize(raw)
		if !ok {
			return "", fmt.Errorf("%s: %q is not a phone (%s)", what, raw, reason)
		}
		return ph, nil
	}
	for raw, leads := range d.Leads {
		ph, err := norm(fmt.Sprintf("leads[%q]", raw), raw)
		if err != nil {
			return err
		}
		for _, l := range leads {
			mk.leads[ph] = append(mk.leads[ph], Lead{ID: l.LeadID, ListID: l.ListID, Status: l.Status, ModifiedAt: l.ModifiedAt})
		}
	}
	for i, raw := range d.DNC {
		ph, err := norm(fmt.Sprintf("dnc[%d]", i), raw)
		if err != nil {
			return err
		}
		mk.dnc[ph] = true
	}
	for _, s := range d.Statuses {
		mk.statuses = append(mk.statuses, Status{Code: s.Code, Final: s.Final, Success: s.Success, DNC: s.DNC})
	}
	f.api = mk
	return nil
}

// mockAPI answers from a mock, one request per question.
type mockAPI struct {
	leads    map[string][]Lead
	dnc      map[string]bool
	statuses []Status
}

func (m *mockAPI) Leads(_ context.Context, ph string) ([]Lead, int, error) {
	return m.leads[ph], 1, nil
}

func (m *mockAPI) OnDNC(_ context.Context, ph string, _ int) (bool, int, error) {
	return m.dnc[ph], 1, nil
}

func (m *mockAPI) Statuses(context.Context) ([]Status, error) { return m.statuses, nil }

// notMocked is the api of a test that gives the filter no mock.
type notMocked struct{}

func (notMocked) Leads(_ context.Context, ph string) ([]Lead, int, error) {
	return nil, 0, fmt.Errorf("phone %s: POST %s: %w", phone.Mask(ph), leadsPath, etl.ErrNotMocked)
}

func (notMocked) OnDNC(_ context.Context, ph string, _ int) (bool, int, error) {
	return false, 0, fmt.Errorf("phone %s: POST %s: %w", phone.Mask(ph), dncPath, etl.ErrNotMocked)
}

func (notMocked) Statuses(context.Context) ([]Status, error) {
	return nil, fmt.Errorf("POST %s: %w", statusPath, etl.ErrNotMocked)
}
