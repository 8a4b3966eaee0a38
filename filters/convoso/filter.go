package convoso

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/lookup"
	"github.com/etlhq/etl/etl/phone"
	"github.com/etlhq/etl/etl/retry"
	"github.com/zclconf/go-cty/cty"
)

// Filter is the convoso_status stage: the Convoso request, the verdict and
// the record it emits. The lookups themselves (one per phone per run, many
// in flight, records leaving as their phone is answered) are etl/lookup's.
type Filter struct {
	cfg     *Config
	env     etl.Env
	client  *Client
	api     api // client, or a mock's answers in a test
	lookups *lookup.Lookup[phone.Number, verdict]
	// syms numbers the statuses, list ids and drop reasons the verdicts
	// keep: a few distinct strings shared by 50,000 phones.
	syms symbols
	// cache holds the answers for a resumed run (see cache.go); the
	// settings they depend on are written with the first answer, once, so
	// that a run with no answer changes nothing in it.
	cache        etl.Table
	settingsKept bool
	settingsOnce sync.Once
	settingsErr  error
	catalogue    []Status        // read by Preflight
	excluded     map[string]bool // set by Stream

	out      etl.Output   // set by Stream, for counts
	checked  atomic.Int64 // phones whose lookup finished in this run
	progress sync.Mutex   // serialises progress events
	lastSent time.Time

	skipMu  sync.Mutex
	skipped []skippedPhone
}

// verdict is the answer for one phone, shared by every record carrying it
// and kept for the whole run: only what records get, not the leads. It
// holds no pointer (strings are the Filter's symbols, and a numeric lead
// id is a number), so that the answers of 50,000 phones are a few MB the
// collector never scans.
type verdict struct {
	// leadID is the latest lead's id when idNumber; otherwise idText is.
	leadID int64
	count  int32
	// reason is the drop reason; status, listID and idText are the latest
	// lead's, when found.
	reason, status, listID, idText sym
	keep, found                    bool // found: the latest lead's fields are set
	failed                         bool // the lookup failed and was skipped: not an answer
	idNumber                       bool
}

// setLead sets the latest lead's fields.
func (f *Filter) setLead(v *verdict, id, status, listID string) {
	v.found = true
	v.status, v.listID = f.syms.id(status), f.syms.id(listID)
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && strconv.FormatInt(n, 10) == id {
		v.leadID, v.idNumber = n, true
	} else {
		v.idText = f.syms.id(id) // not Convoso's numbers: kept as text
	}
}

// leadIDText is the latest lead's id as Convoso gave it.
func (f *Filter) leadIDText(v verdict) string {
	if v.idNumber {
		return strconv.FormatInt(v.leadID, 10)
	}
	return f.syms.str(v.idText)
}

// skippedPhone is a phone whose lookup failed, skipped.
type skippedPhone struct {
	phone string
	err   error
}

func newFilter(cfg *Config, env etl.Env) *Filter {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per request in flight: the default of 2 idle
	// connections per host would reconnect for most requests.
	transport.MaxIdleConnsPerHost = cfg.Concurrency
	// Answers are a kilobyte: not asking for gzip saves unpacking them,
	// and the transport's setting the header on every request (a tenth of
	// a lookup's allocations).
	transport.DisableCompression = true
	hc := cfg.Settings.Client(&http.Client{Transport: transport}, retry.PerSecond(cfg.RequestsPerSecond), cfg.AuthToken)
	hc.Meter = env.Meter
	f := &Filter{cfg: cfg, env: env, client: &Client{BaseURL: cfg.BaseURL, Token: cfg.AuthToken, HTTP: hc}}
	f.api = f.client
	f.lookups = lookup.New(lookup.Options{Concurrency: cfg.Concurrency, Meter: env.Meter, Unit: "phones"}, lookup.Funcs[phone.Number, verdict]{
		Key: f.key, Call: f.call, Emit: f.apply,
	})
	hc.Gate = f.lookups
	return f
}

// Preflight checks the auth token with one status-catalogue request before
// the run reads anything: a refused token fails the run before any Bland
// date is fetched or any file written. The catalogue is kept for
// exclude_flags.
func (f *Filter) Preflight(ctx context.Context) error {
	statuses, err := f.api.Statuses(ctx)
	if err != nil {
		return fmt.Errorf("checking the Convoso auth token: %w", err)
	}
	f.catalogue = statuses
	return nil
}

// Stream looks up each record's phone and emits the kept records.
func (f *Filter) Stream(ctx context.Context, in <-chan etl.Batch, out etl.Output) error {
	f.out = out
	f.progress.Lock()
	f.lastSent = time.Now() // the first progress line after 500 ms, not at the first phone
	f.progress.Unlock()
	f.client.HTTP.OnAttempt = func(a retry.Attempt) {
		out.Count(retry.CountRequests, 1)
		a.Count(out.Count)
		if a.Retry {
			f.env.Logger.Warn("retrying a Convoso request", "path", a.Path, "status", a.Status, "attempt", a.N, "wait", a.Wait.String(), "err", a.Err)
		}
	}
	var err error
	if f.excluded, err = f.excludedStatuses(ctx); err != nil {
		return err
	}
	err = f.lookups.Stream(ctx, in, out)
	f.reportProgress(true)
	if err == nil {
		f.reportOutcomes()
	}
	return err
}

// key is a record's phone, normalised; records without a valid one are
// dropped.
func (f *Filter) key(rec etl.Record) (phone.Number, string, error) {
	raw, ok, err := f.cfg.Phone.EvalString(rec)
	if err != nil {
		return 0, "", fmt.Errorf("phone: %w", err)
	}
	if !ok {
		return 0, "no phone", nil
	}
	ph, reason, ok := phone.Normalize(raw)
	if !ok {
		return 0, "invalid phone: " + reason, nil
	}
	num, _ := phone.ParseNumber(ph) // Normalize's phones always parse
	return num, "", nil
}

// call decides one phone. With on_lookup_error = "skip", a lookup that
// keeps failing is a verdict too: dropped as "lookup failed".
func (f *Filter) call(ctx context.Context, num phone.Number) (verdict, error) {
	ph := num.String()
	v, err := f.check(ctx, ph)
	if err != nil {
		var auth *AuthError
		// Never skip a refused token (every lookup would fail) or a
		// run that is stopping.
		if ctx.Err() != nil || errors.As(err, &auth) {
			return verdict{}, err
		}
		if f.cfg.OnLookupError != LookupErrorSkip {
			return verdict{}, fmt.Errorf("%w (run again to resume: the answers obtained so far are kept; raise max_retries, or set on_lookup_error = \"skip\" to finish without such a phone)", err)
		}
		v = f.skip(ph, err)
	}
	f.out.Count("phones checked", 1)
	f.checked.Add(1)
	f.reportProgress(false)
	return v, f.remember(num, v)
}

// reasonLookupFailed is the drop reason of a skipped phone's records.
const reasonLookupFailed = "lookup failed"

// skip records ph as skipped and returns its verdict: dropped.
func (f *Filter) skip(ph string, err error) verdict {
	// Debug, not Warn: the run lists every skipped phone in one warning at
	// its end, and a flaky API can skip hundreds.
	f.env.Logger.Debug("skipping a phone whose Convoso lookup failed (on_lookup_error = \"skip\")", "phone", phone.Mask(ph), "err", err)
	f.skipMu.Lock()
	defer f.skipMu.Unlock()
	f.skipped = append(f.skipped, skippedPhone{phone: ph, err: err})
	return verdict{reason: f.syms.id(reasonLookupFailed), failed: true}
}

// Skipped lists the phones skipped with on_lookup_error = "skip", each
// with why, masked to its last four digits unless the run unmasks: the
// report shows them, and the CLI exits 3 (etl.Skipper).
func (f *Filter) Skipped() []string {
	f.skipMu.Lock()
	defer f.skipMu.Unlock()
	lines := make([]string, 0, len(f.skipped))
	for _, s := range f.skipped {
		masked := phone.Mask(s.phone)
		shown := masked
		if f.env.Unmask {
			shown = s.phone
		}
		// The client's errors already name the phone, masked.
		cause := strings.TrimPrefix(s.err.Error(), "phone "+masked+": ")
		lines = append(lines, fmt.Sprintf("phone %s: %s", shown, cause))
	}
	slices.Sort(lines)
	return lines
}

// check decides one phone: excluded when any lead has an excluded status;
// else not found (unless kept); else, with check_dnc_list, dropped when on
// the DNC list, which is asked only then.
func (f *Filter) check(ctx context.Context, ph string) (verdict, error) {
	leads, _, err := f.api.Leads(ctx, ph)
	if err != nil {
		return verdict{}, err
	}
	v := verdict{count: int32(len(leads))}
	if l := latest(leads); l != nil {
		f.setLead(&v, l.ID, l.Status, l.ListID)
	}
	var hits []string
	reason := ""
	for _, l := range leads {
		if f.excluded[l.Status] {
			hits = append(hits, l.Status)
		}
		if l.Status == "" && reason == "" {
			// A lead whose status Convoso did not give might be a sale:
			// skip the phone (counted) rather than risk redialling it.
			reason = "lead without status"
		}
	}
	switch {
	case len(hits) > 0:
		reason = "excluded: " + slices.Min(hits)
	case reason != "":
	case len(leads) == 0 && f.cfg.OnNotFound == NotFoundDrop:
		reason = "not found"
	case f.cfg.CheckDNCList:
		on, _, err := f.api.OnDNC(ctx, ph, 0)
		if err != nil {
			return verdict{}, err
		}
		if on {
			reason = "on dnc list"
		}
	}
	v.reason, v.keep = f.syms.id(reason), reason == ""
	return v, nil
}

// sym numbers a string in a Filter's symbols; 0 is "".
type sym uint32

// symbols numbers the few distinct strings verdicts hold (statuses, list
// ids, drop reasons), each kept once with its go-cty value, which records
// then share. It has no bound: those are a few dozen values. A lead id
// that is not a number (Convoso's are) is a symbol too, one per phone for
// the run, as its string was before. Safe for concurrent use.
type symbols struct {
	mu   sync.RWMutex
	ids  map[string]sym
	strs []string
	vals []cty.Value
}

// id returns s's number, numbering it if new (a copy: s may point into an
// answer that must not stay alive).
func (t *symbols) id(s string) sym {
	if s == "" {
		return 0
	}
	t.mu.RLock()
	n, ok := t.ids[s]
	t.mu.RUnlock()
	if ok {
		return n
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.ids[s]; ok {
		return n
	}
	if t.ids == nil {
		t.ids, t.strs, t.vals = map[string]sym{}, []string{""}, []cty.Value{cty.StringVal("")}
	}
	s = strings.Clone(s)
	n = sym(len(t.strs))
	t.ids[s] = n
	t.strs, t.vals = append(t.strs, s), append(t.vals, cty.StringVal(s))
	return n
}

// str returns the string numbered n.
func (t *symbols) str(n sym) string {
	if n == 0 {
		return ""
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.strs[n]
}

// val returns the string numbered n as a go-cty value.
func (t *symbols) val(n sym) cty.Value {
	if n == 0 {
		return cty.StringVal("")
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.vals[n]
}

// apply emits rec with its lead fields, or counts its drop.
func (f *Filter) apply(rec etl.Record, v verdict, out etl.Output) error {
	if !v.keep {
		out.Drop(f.syms.str(v.reason))
		return nil
	}
	// The record's copy, sized for the four fields set here (one map per
	// kept record: a map of the fields to merge would be a second).
	kept := rec.Clone(4)
	kept["lead_count"] = leadCount(v.count)
	if v.found {
		if v.idNumber {
			kept["lead_id"] = cty.StringVal(strconv.FormatInt(v.leadID, 10))
		} else {
			kept["lead_id"] = f.syms.val(v.idText)
		}
		kept["lead_status"] = f.syms.val(v.status)
		kept["list_id"] = f.syms.val(v.listID)
	} else {
		null := cty.NullVal(cty.String)
		kept["lead_id"], kept["lead_status"], kept["list_id"] = null, null, null
		out.Count("kept not found", 1)
	}
	return out.Emit(kept)
}

// leadCounts are the lead_count values of phones with few leads, made
// once: go-cty allocates a number for every NumberIntVal.
var leadCounts = func() (vals [16]cty.Value) {
	for i := range vals {
		vals[i] = cty.NumberIntVal(int64(i))
	}
	return vals
}()

// leadCount is n as a lead_count value.
func leadCount(n int32) cty.Value {
	if n >= 0 && int(n) < len(leadCounts) {
		return leadCounts[n]
	}
	return cty.NumberIntVal(int64(n))
}

// latest returns the lead with the latest modified_at ("2006-01-02
// 15:04:05" compares as text), the greater id on a tie; nil for none.
func latest(leads []Lead) *Lead {
	var best *Lead
	for i := range leads {
		l := &leads[i]
		if best == nil || l.ModifiedAt > best.ModifiedAt || (l.ModifiedAt == best.ModifiedAt && idLess(best.ID, l.ID)) {
			best = l
		}
	}
	return best
}

// idLess orders ids numerically when both are digits, else as text.
func idLess(a, b string) bool {
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	if digits(a) && digits(b) && len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// excludedStatuses is exclude_statuses plus, with exclude_flags, the
// catalogue's statuses flagged so.
func (f *Filter) excludedStatuses(ctx context.Context) (map[string]bool, error) {
	excluded := map[string]bool{}
	for _, s := range f.cfg.ExcludeStatuses {
		excluded[s] = true
	}
	if len(f.cfg.ExcludeFlags) == 0 {
		return excluded, nil
	}
	statuses := f.catalogue
	if statuses == nil {
		var err error
		if statuses, err = f.api.Statuses(ctx); err != nil {
			return nil, fmt.Errorf("reading the status catalogue: %w", err)
		}
	}
	var added []string
	for _, s := range statuses {
		for _, flag := range f.cfg.ExcludeFlags {
			if (flag == "dnc" && s.DNC) || (flag == "success" && s.Success) || (flag == "final" && s.Final) {
				if !excluded[s.Code] {
					added = append(added, s.Code)
				}
				excluded[s.Code] = true
			}
		}
	}
	slices.Sort(added)
	added = slices.Compact(added)
	f.env.Report(etl.EventInfo, "", fmt.Sprintf("exclude_flags %v add statuses %v from the catalogue", f.cfg.ExcludeFlags, added),
		map[string]any{"flags": f.cfg.ExcludeFlags, "statuses": added})
	return excluded, nil
}
