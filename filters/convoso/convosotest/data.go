package convosotest

import (
	"fmt"
	"hash/fnv"
	"slices"
)

// Lead is one lead of a phone, on one list.
type Lead struct {
	ID          string
	ListID      string
	Status      string
	CreatedAt   string // "2006-01-02 15:04:05", Convoso's format
	ModifiedAt  string
	CalledCount int
}

// Status is an entry of the status catalogue.
type Status struct {
	Code, Name          string
	Final, Success, DNC bool
}

// DefaultStatuses is the catalogue the fake serves unless told otherwise.
// DNCW is a DNC code that a pipeline's exclude_statuses would typically
// miss: exclude_flags = ["dnc"] catches it through the catalogue.
var DefaultStatuses = []Status{
	{Code: "NEW", Name: "New Lead"},
	{Code: "NA", Name: "No Answer"},
	{Code: "A", Name: "Answering Machine"},
	{Code: "CALLBK", Name: "Call Back"},
	{Code: "SALE", Name: "Sale", Final: true, Success: true},
	{Code: "XFER", Name: "Transferred", Final: true, Success: true},
	{Code: "WRONG", Name: "Wrong Number", Final: true},
	{Code: "DNC", Name: "Do Not Call", Final: true, DNC: true},
	{Code: "DNCW", Name: "Do Not Call (wireless)", Final: true, DNC: true},
}

// Profile is what Seed gives a phone.
type Profile int

// The profiles Seed deals out, by hash of the phone, in the shares of
// profileWeights.
const (
	NotFound      Profile = iota // no lead
	Callback                     // one lead, CALLBK
	NoAnswer                     // two leads NA and A on two lists; the A lead is the latest
	Sold                         // one lead, SALE
	SoldElsewhere                // CALLBK lead (latest) and an older SALE lead on another list
	DNCFlagged                   // one lead, DNCW: excluded only via the catalogue's dnc flag
	OnDNCList                    // one lead, NA, and the phone is on the DNC list
	Transferred                  // one lead, XFER: excluded only via the catalogue's success flag
	DoNotCall                    // two leads: NA, then DNC (latest) when the lead asked not to be called again
	numProfiles
)

var profileNames = [...]string{"not found", "callback", "no answer", "sold", "sold elsewhere", "dnc flagged", "on dnc list", "transferred", "do not call"}

// profileWeights are the profiles' shares, in percent, as a call center's
// lists hold them: half the leads still to be reached, one in five sold
// or transferred, one in eight not found, one in six DNC (by status or on
// the DNC list), so that the demo's outcome chart has every bar.
var profileWeights = [numProfiles]uint32{
	NotFound: 12, Callback: 22, NoAnswer: 30, Sold: 10, SoldElsewhere: 4,
	DNCFlagged: 4, OnDNCList: 5, Transferred: 5, DoNotCall: 8,
}

// String names the profile.
func (p Profile) String() string {
	if p >= 0 && int(p) < len(profileNames) {
		return profileNames[p]
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// ProfileOf returns the profile Seed gives phone: a hash of the number, so
// it does not depend on which other phones are seeded.
func ProfileOf(phone string) Profile {
	h := fnv.New32a()
	h.Write([]byte(phone))
	v := h.Sum32() % 100
	for p, w := range profileWeights {
		if v < w {
			return Profile(p)
		}
		v -= w
	}
	return NoAnswer // unreachable while the weights sum to 100
}

// leadsFor builds the leads of a seeded phone. Lead and list ids and times
// derive from the phone's hash, so they are stable.
func leadsFor(phone string, p Profile) (leads []Lead, onDNC bool) {
	h := fnv.New32a()
	h.Write([]byte(phone))
	n := int(h.Sum32() % 100000)
	lead := func(i int, status string, day, hour int) Lead {
		return Lead{
			ID:          fmt.Sprint(100000 + n*4 + i),
			ListID:      fmt.Sprint(3800 + (n+i)%50),
			Status:      status,
			CreatedAt:   fmt.Sprintf("2025-11-%02d 10:00:00", 1+(n+i)%28),
			ModifiedAt:  fmt.Sprintf("2025-12-%02d %02d:%02d:00", day, hour, n%60),
			CalledCount: 1 + (n+i)%5,
		}
	}
	switch p {
	case Callback:
		return []Lead{lead(0, "CALLBK", 10, 9)}, false
	case NoAnswer:
		return []Lead{lead(0, "NA", 3, 9), lead(1, "A", 12, 15)}, false
	case Sold:
		return []Lead{lead(0, "SALE", 5, 11)}, false
	case SoldElsewhere:
		return []Lead{lead(0, "SALE", 2, 8), lead(1, "CALLBK", 20, 17)}, false
	case DNCFlagged:
		return []Lead{lead(0, "DNCW", 7, 10)}, false
	case OnDNCList:
		return []Lead{lead(0, "NA", 8, 13)}, true
	case Transferred:
		return []Lead{lead(0, "XFER", 9, 14)}, false
	case DoNotCall:
		return []Lead{lead(0, "NA", 4, 10), lead(1, "DNC", 15, 16)}, false
	}
	return nil, false
}

// Expectation is what the convoso_status filter must do with a phone.
type Expectation struct {
	Kept bool
	// Reason is why a phone is dropped, in the filter's words:
	// "not found", "on dnc list", "excluded: SALE".
	Reason string
	// LeadID, LeadStatus and ListID are those of the latest modified lead;
	// empty for a phone with none.
	LeadID, LeadStatus, ListID string
	LeadCount                  int
}

// Rules are the filter settings an expectation depends on.
type Rules struct {
	ExcludeStatuses []string
	ExcludeFlags    []string // "dnc", "success", "final"
	CheckDNCList    bool
	KeepNotFound    bool // on_not_found = "keep"
}

// Expect says what the filter, set up with rules, must do with phone given
// the fake's current data. A phone is excluded when any of its leads has an
// excluded status (the alphabetically first such status names the drop);
// else a phone without leads is not found (unless kept); else, with
// CheckDNCList, a phone on the DNC list is dropped. The DNC list is asked
// only about phones that would otherwise be kept.
func (s *Server) Expect(phone string, rules Rules) Expectation {
	s.mu.Lock()
	leads := slices.Clone(s.leads[phone])
	onDNC := s.dnc[phone]
	excluded := map[string]bool{}
	for _, c := range rules.ExcludeStatuses {
		excluded[c] = true
	}
	for _, st := range s.statuses {
		for _, f := range rules.ExcludeFlags {
			if (f == "dnc" && st.DNC) || (f == "success" && st.Success) || (f == "final" && st.Final) {
				excluded[st.Code] = true
			}
		}
	}
	s.mu.Unlock()

	e := Expectation{LeadCount: len(leads)}
	if latest := Latest(leads); latest != nil {
		e.LeadID, e.LeadStatus, e.ListID = latest.ID, latest.Status, latest.ListID
	}
	var hits []string
	for _, l := range leads {
		if excluded[l.Status] {
			hits = append(hits, l.Status)
		}
	}
	slices.Sort(hits)
	switch {
	case len(hits) > 0:
		e.Reason = "excluded: " + hits[0]
	case len(leads) == 0 && !rules.KeepNotFound:
		e.Reason = "not found"
	case rules.CheckDNCList && onDNC:
		e.Reason = "on dnc list"
	default:
		e.Kept = true
	}
	return e
}

// Latest returns the lead with the latest ModifiedAt (the greatest id on a
// tie), or nil.
func Latest(leads []Lead) *Lead {
	var best *Lead
	for i := range leads {
		l := &leads[i]
		if best == nil || l.ModifiedAt > best.ModifiedAt || (l.ModifiedAt == best.ModifiedAt && idLess(best.ID, l.ID)) {
			best = l
		}
	}
	return best
}

// idLess orders numeric ids numerically.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// SampleLeads are the phones of pipelines/testdata/leads.csv, the sample
// of pipelines/import-leads.hcl, normalized: the demo's fakes seed them,
// so that the import runs against them as shipped. Their profiles cover
// kept (callback, no answer), sold, do not call and not found.
var SampleLeads = []string{"2125550100", "2125550101", "2125550107", "2125550108", "2125550110", "2125550117"}
