package convoso

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Lead is what the filter keeps of one Convoso lead.
type Lead struct {
	ID         string // lead_id, or id when lead_id is absent
	ListID     string
	Status     string
	ModifiedAt string // "2006-01-02 15:04:05" as Convoso sends it
}

// LeadPage is one answer of lead search (or DNC search: its entries carry
// an id and a phone and nothing else the filter needs).
type LeadPage struct {
	Offset, Limit, Total int
	Leads                []Lead
}

// Status is an entry of the status catalogue.
type Status struct {
	Code                string
	Final, Success, DNC bool
}

// APIError is an answer with "success": false. Convoso sends these with
// HTTP 200, so the status code alone says nothing.
type APIError struct {
	Code int
	Text string
}

// Error renders the code and Convoso's text.
func (e *APIError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("Convoso answered success=false: %s", e.Text)
	}
	return fmt.Sprintf("Convoso answered success=false, code %d: %s", e.Code, e.Text)
}

// authCodes are the codes Convoso uses for a refused auth_token.
var authCodes = map[int]bool{5001: true, 5002: true, 401: true, 403: true}

// IsAuth reports whether the error says the auth_token was refused: no
// retry can help, and the run must stop at once.
func (e *APIError) IsAuth() bool {
	return authCodes[e.Code] || strings.Contains(strings.ToLower(e.Text), "auth")
}

// envelope is the outer object of every answer.
type envelope struct {
	Success flexBool        `json:"success"`
	Code    flexInt         `json:"code"`
	Text    flexString      `json:"text"`
	Data    json.RawMessage `json:"data"`
}

type rawPage struct {
	Offset  flexInt           `json:"offset"`
	Limit   flexInt           `json:"limit"`
	Total   flexInt           `json:"total"`
	Entries []json.RawMessage `json:"entries"`
}

type rawLead struct {
	ID         flexString `json:"id"`
	LeadID     flexString `json:"lead_id"`
	ListID     flexString `json:"list_id"`
	Status     flexString `json:"status"`
	ModifiedAt flexString `json:"modified_at"`
}

type rawStatus struct {
	Status  flexString `json:"status"`
	Final   flexBool   `json:"final"`
	Success flexBool   `json:"success"`
	DNC     flexBool   `json:"dnc"`
}

// decodeEnvelope checks success and returns data; a success:false answer
// is an *APIError.
func decodeEnvelope(body []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decoding the answer: %w", err)
	}
	if !env.Success {
		text := string(env.Text)
		if text == "" {
			text = "(no text)"
		}
		return nil, &APIError{Code: int(env.Code), Text: text}
	}
	return env.Data, nil
}

// DecodeLeads reads an answer of /v1/leads/search or /v1/dnc/search.
// Numbers may come as JSON numbers or strings. Entries of other shapes
// than objects are an error, as is a lead without an id.
func DecodeLeads(body []byte) (*LeadPage, error) {
	if p, ok := decodeLeadsFast(body); ok {
		return p, nil
	}
	if p, ok := decodeLeadsAtOnce(body); ok {
		return p, nil
	}
	return decodeLeadsStepwise(body)
}

// leadsAnswer is a whole answer of lead search, for decodeLeadsAtOnce.
type leadsAnswer struct {
	Success flexBool   `json:"success"`
	Code    flexInt    `json:"code"` // read for the errors envelope's reading gives
	Text    flexString `json:"text"`
	Data    *struct {
		Offset  flexInt   `json:"offset"`
		Limit   flexInt   `json:"limit"`
		Total   flexInt   `json:"total"`
		Entries []rawLead `json:"entries"`
	} `json:"data"`
}

// decodeLeadsAtOnce decodes a good answer in one json.Unmarshal, where the
// stepwise decoding reads the body three times (envelope, page, each
// entry): a fifth of the lookups' CPU at 50,000 phones. ok is false for
// anything but a successful answer with every lead identified, and
// decodeLeadsStepwise then gives the answer or the precise error. Where
// both accept an answer without duplicate keys, they agree
// (FuzzDecodeLeads); with duplicate keys (which no JSON reader agrees on)
// this one merges them as encoding/json does.
func decodeLeadsAtOnce(body []byte) (p *LeadPage, ok bool) {
	var a leadsAnswer
	if json.Unmarshal(body, &a) != nil || !a.Success || a.Data == nil {
		return nil, false
	}
	d := a.Data
	p = &LeadPage{Offset: int(d.Offset), Limit: int(d.Limit), Total: int(d.Total), Leads: make([]Lead, 0, len(d.Entries))}
	if p.Total < 0 || p.Offset < 0 {
		return nil, false
	}
	for _, l := range d.Entries {
		lead, ok := l.lead()
		if !ok {
			return nil, false
		}
		p.Leads = append(p.Leads, lead)
	}
	return p, true
}

// lead is what the filter keeps of l; ok is false when l has no id.
func (l rawLead) lead() (Lead, bool) {
	id := string(l.LeadID)
	if id == "" {
		id = string(l.ID)
	}
	return Lead{ID: id, ListID: string(l.ListID), Status: string(l.Status), ModifiedAt: string(l.ModifiedAt)}, id != ""
}

// decodeLeadsStepwise decodes the envelope, then the page, then each entry,
// so that an error says which part was wrong.
func decodeLeadsStepwise(body []byte) (*LeadPage, error) {
	data, err := decodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	var raw rawPage
	if isNull(data) {
		return nil, errors.New("decoding the answer: success without data")
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decoding the answer's data: %w", err)
	}
	p := &LeadPage{Offset: int(raw.Offset), Limit: int(raw.Limit), Total: int(raw.Total), Leads: make([]Lead, 0, len(raw.Entries))}
	if p.Total < 0 || p.Offset < 0 {
		return nil, fmt.Errorf("decoding the answer: negative total %d or offset %d", p.Total, p.Offset)
	}
	for i, e := range raw.Entries {
		var l rawLead
		if err := json.Unmarshal(e, &l); err != nil {
			return nil, fmt.Errorf("decoding entry %d: %w", i, err)
		}
		lead, ok := l.lead()
		if !ok {
			return nil, fmt.Errorf("decoding entry %d: no id", i)
		}
		p.Leads = append(p.Leads, lead)
	}
	return p, nil
}

// DecodeStatuses reads an answer of /v1/status/search.
func DecodeStatuses(body []byte) ([]Status, error) {
	data, err := decodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	var raw []rawStatus
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decoding the status catalogue: %w", err)
	}
	out := make([]Status, 0, len(raw))
	for i, s := range raw {
		if s.Status == "" {
			return nil, fmt.Errorf("decoding the status catalogue: entry %d has no status", i)
		}
		out = append(out, Status{Code: string(s.Status), Final: bool(s.Final), Success: bool(s.Success), DNC: bool(s.DNC)})
	}
	return out, nil
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// flexString accepts a JSON string, number or null (""), since Convoso
// sends ids either way.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 1 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		// No escape and valid UTF-8: the string is the bytes between the
		// quotes (the whole answer was checked to be JSON before this is
		// called). Five fields a lead; a nested json.Unmarshal each was
		// most of decoding an answer.
		*s = flexString(b[1 : len(b)-1])
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case isJSONInt(b):
		*s = flexString(b) // what json.Number would hold
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %.20s", b)
		}
		*s = flexString(n.String())
	}
	return nil
}

// isJSONInt reports whether b is a JSON integer: -?(0|[1-9][0-9]*).
func isJSONInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// flexInt accepts an integer as a JSON number or a string ("" and null
// are 0).
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 32)
	if err != nil {
		return fmt.Errorf("want an integer, got %q", string(s))
	}
	*n = flexInt(v)
	return nil
}

// flexBool accepts true/false, "Y"/"N", "1"/"0", "true"/"false" and 1/0;
// null is false.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "true":
		*f = true
		return nil
	case "false", "null":
		*f = false
		return nil
	}
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToUpper(strings.TrimSpace(string(s))) {
	case "Y", "YES", "1", "TRUE":
		*f = true
	case "N", "NO", "0", "FALSE", "":
		*f = false
	default:
		return fmt.Errorf("want a yes/no flag, got %q", string(s))
	}
	return nil
}
