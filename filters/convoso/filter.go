package convoso

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
	"github.com/etlhq/etl/etl/retry"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"
)

// Filter is the convoso_status stage, an etl.Streamer: it reads batches
// itself so that up to Concurrency lookups stay in flight across batch and
// partition boundaries, and emits in input order through a reorder window.
type Filter struct {
	cfg    *Config
	env    etl.Env
	client *Client

	checked  atomic.Int64 // phones whose lookup finished
	progress sync.Mutex   // serialises progress events
	lastSent time.Time

	// outcomes counts distinct phones by verdict ("kept", "excluded: SALE",
	// "not found", ...): the report is per phone, while drops are per
	// record (a phone may arrive several times with emit = "updates").
	outcomesMu sync.Mutex
	outcomes   map[string]int64

	catalogue []Status // read by Preflight

	// settled is closed (and replaced) whenever a lookup finishes: the
	// writer waits on it rather than on a channel per lookup, which would
	// cost 96 bytes for each of the run's phones.
	settledMu sync.Mutex
	settled   chan struct{}
	// words numbers the few distinct lead statuses, list ids and drop
	// reasons that every verdict repeats (wordList[0] is "").
	words    map[string]uint16
	wordList []string
	// cache holds the answers for a resumed run (see cache.go); skipped,
	// the phones whose lookup failed with on_lookup_error = "skip",
	// guarded by settledMu.
	cache   etl.Table
	skipped []skippedPhone

	// resumed holds the answers restored from the checkpoint that no
	// record has used yet; only the reader touches it once Stream runs.
	resumed map[phone.Number]*lookup
}

// skippedPhone is a phone whose lookup failed, skipped.
type skippedPhone struct {
	phone string
	err   error
}

// settledChan returns the channel closed by the next finished lookup.
func (f *Filter) settledChan() chan struct{} {
	f.settledMu.Lock()
	defer f.settledMu.Unlock()
	if f.settled == nil {
		f.settled = make(chan struct{})
	}
	return f.settled
}

// settle publishes l's verdict for num and wakes the writer. A failed
// lookup (skipped) is not an answer: it is not saved for a resumed run.
func (f *Filter) settle(num phone.Number, l *lookup, v verdict, failed bool) error {
	f.settledMu.Lock()
	defer f.settledMu.Unlock()
	err := f.fill(l, v)
	if !failed && err == nil {
		err = f.remember(num, v)
	}
	l.ready.Store(true)
	if f.settled != nil {
		close(f.settled)
		f.settled = nil
	}
	return err
}

// fill sets l's fields from v; f.settledMu is held.
func (f *Filter) fill(l *lookup, v verdict) error {
	var err error
	l.keep, l.found, l.count, l.leadID = v.keep, v.found, v.count, v.latest.id
	if l.reason, err = f.wordIndex(v.reason); err == nil {
		if l.status, err = f.wordIndex(v.latest.status); err == nil {
			l.list, err = f.wordIndex(v.latest.listID)
		}
	}
	return err
}

// maxWords bounds the distinct statuses, list ids and reasons.
const maxWords = 1 << 16

// wordIndex numbers s; f.settledMu is held.
func (f *Filter) wordIndex(s string) (uint16, error) {
	if i, ok := f.words[s]; ok {
		return i, nil
	}
	if f.words == nil {
		f.words, f.wordList = map[string]uint16{"": 0}, []string{""}
		if s == "" {
			return 0, nil
		}
	}
	if len(f.wordList) >= maxWords {
		return 0, fmt.Errorf("more than %d distinct lead statuses and list ids", maxWords)
	}
	s = strings.Clone(s) // never a view into a response
	i := uint16(len(f.wordList))
	f.words[s] = i
	f.wordList = append(f.wordList, s)
	return i, nil
}

// verdictOf returns the verdict a settled lookup holds.
func (f *Filter) verdictOf(l *lookup) verdict {
	f.settledMu.Lock()
	defer f.settledMu.Unlock()
	return verdict{keep: l.keep, found: l.found, count: l.count, reason: f.wordList[l.reason],
		latest: leadFields{id: l.leadID, status: f.wordList[l.status], listID: f.wordList[l.list]}}
}

// wait blocks until l is settled.
func (f *Filter) wait(ctx context.Context, l *lookup) error {
	for {
		ch := f.settledChan()
		if l.ready.Load() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Preflight checks the auth token with one status-catalogue request before
// the run reads anything: a refused token fails the run before any Bland
// date is fetched or any file written. The catalogue is kept for
// exclude_flags.
func (f *Filter) Preflight(ctx context.Context) error {
	statuses, err := f.client.Statuses(ctx)
	if err != nil {
		return fmt.Errorf("checking the Convoso auth token: %w", err)
	}
	f.catalogue = statuses
	return nil
}

// verdict is the answer for one phone, shared by every record carrying it.
// It is kept for the whole run (a phone seen again reuses it), once per
// phone: only what records get, not the leads the answer was made of.
type verdict struct {
	keep   bool
	found  bool // latest is set
	count  int32
	reason string // drop reason
	latest leadFields
}

// leadFields is what a kept record gets of its phone's latest lead.
type leadFields struct {
	id, status, listID string
}

// lookup is one phone's verdict, filled by its goroutine (see settle);
// ready is set once it is. It is kept for the whole run, once per phone, so
// it is small: the lead id, and numbers for the words (see wordIndex).
type lookup struct {
	ready                atomic.Bool
	keep, found          bool
	reason, status, list uint16
	count                int32
	leadID               string
}

// item is one entry of the reorder window: a record with its lookup (nil
// when the record has no usable phone, with drop set), or a mark.
type item struct {
	rec  etl.Record
	l    *lookup
	drop string
	mark *etl.Mark
}

func newFilter(cfg *Config, env etl.Env) *Filter {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per lookup in flight: the default of 2 idle
	// connections per host would reconnect for most requests.
	transport.MaxIdleConnsPerHost = cfg.Concurrency
	hc := cfg.Settings.Client(&http.Client{Transport: transport}, retry.PerSecond(cfg.RequestsPerSecond), cfg.AuthToken)
	return &Filter{cfg: cfg, env: env, client: &Client{BaseURL: cfg.BaseURL, Token: cfg.AuthToken, HTTP: hc}}
}

// Stream looks up each record's phone and emits the kept records in input
// order, each mark after the records before it.
func (f *Filter) Stream(ctx context.Context, in <-chan etl.Batch, out etl.Output) error {
	f.client.HTTP.OnAttempt = func(a retry.Attempt) {
		out.Count("requests", 1)
		if a.Retry {
			out.Count("retries", 1)
			f.env.Logger.Warn("retrying a Convoso request", "path", a.Path, "status", a.Status, "attempt", a.N, "wait", a.Wait.String(), "err", a.Err)
		}
	}
	excluded, err := f.excludedStatuses(ctx)
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	window := make(chan item, max(256, 4*f.cfg.Concurrency))
	slots := make(chan struct{}, f.cfg.Concurrency)

	// Reader: starts lookups (one per distinct phone per run) and queues
	// every record and mark in input order.
	g.Go(func() error {
		defer close(window)
		cache := map[phone.Number]*lookup{}
		for {
			var b etl.Batch
			var ok bool
			select {
			case b, ok = <-in:
			case <-gctx.Done():
				return gctx.Err()
			}
			if !ok {
				return nil
			}
			for _, rec := range b.Records {
				it, err := f.itemFor(gctx, g, rec, cache, slots, excluded, out)
				if err != nil {
					return err
				}
				if err := send(gctx, window, it); err != nil {
					return err
				}
			}
			if b.Mark != nil {
				if err := send(gctx, window, item{mark: b.Mark}); err != nil {
					return err
				}
			}
		}
	})

	// Writer: emits in input order, waiting for each record's lookup.
	g.Go(func() error {
		for it := range window {
			if it.mark != nil {
				if err := out.EndPartition(it.mark); err != nil {
					return err
				}
				continue
			}
			if it.l == nil {
				out.Drop(it.drop)
				continue
			}
			if err := f.wait(gctx, it.l); err != nil {
				return err
			}
			if err := f.apply(it.rec, f.verdictOf(it.l), out); err != nil {
				return err
			}
		}
		return gctx.Err()
	})
	err = g.Wait()
	f.reportProgress(true)
	if err == nil {
		f.reportOutcomes()
	}
	return err
}

// countOutcome records one phone's verdict.
func (f *Filter) countOutcome(v verdict) {
	key := "kept"
	if !v.keep {
		key = v.reason
	}
	f.outcomesMu.Lock()
	defer f.outcomesMu.Unlock()
	if f.outcomes == nil {
		f.outcomes = map[string]int64{}
	}
	f.outcomes[key]++
}

// reportOutcomes prints the Convoso results per phone, as the original
// script did: "Convoso: 2000 phones checked | excluded SALE 25, DNC 8 |
// on DNC list 3 | not found 100 | kept 1864".
func (f *Filter) reportOutcomes() {
	f.outcomesMu.Lock()
	defer f.outcomesMu.Unlock()
	var total int64
	var excluded []string
	data := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(f.outcomes)) {
		n := f.outcomes[k]
		total += n
		data[k] = n
		if status, ok := strings.CutPrefix(k, "excluded: "); ok {
			excluded = append(excluded, fmt.Sprintf("%s %d", status, n))
		}
	}
	parts := []string{fmt.Sprintf("Convoso: %d phones checked", total)}
	if len(excluded) > 0 {
		parts = append(parts, "excluded "+strings.Join(excluded, ", "))
	}
	if n := f.outcomes["on dnc list"]; n > 0 {
		parts = append(parts, fmt.Sprintf("on DNC list %d", n))
	}
	for _, k := range slices.Sorted(maps.Keys(f.outcomes)) {
		if k != "kept" && k != "not found" && k != "on dnc list" && !strings.HasPrefix(k, "excluded: ") {
			parts = append(parts, fmt.Sprintf("%s %d", k, f.outcomes[k])) // e.g. "lead without status"
		}
	}
	parts = append(parts, fmt.Sprintf("not found %d", f.outcomes["not found"]), fmt.Sprintf("kept %d", f.outcomes["kept"]))
	data["phones_checked"] = total
	f.env.Report(etl.EventInfo, "", strings.Join(parts, " | "), map[string]any{"phones": data})
}

// itemFor evaluates rec's phone and finds or starts its lookup.
func (f *Filter) itemFor(ctx context.Context, g *errgroup.Group, rec etl.Record, cache map[phone.Number]*lookup,
	slots chan struct{}, excluded map[string]bool, out etl.Output) (item, error) {
	raw, ok, err := f.cfg.Phone.EvalString(rec)
	if err != nil {
		return item{}, fmt.Errorf("phone: %w", err)
	}
	if !ok {
		return item{rec: rec, drop: "no phone"}, nil
	}
	ph, reason, ok := phone.Normalize(raw)
	if !ok {
		return item{rec: rec, drop: "invalid phone: " + reason}, nil
	}
	num, _ := phone.ParseNumber(ph) // Normalize's phones always parse
	if l, ok := cache[num]; ok {
		out.Count("lookups reused", 1)
		return item{rec: rec, l: l}, nil
	}
	if l, ok := f.resumed[num]; ok {
		// Answered by the run this one resumes: not asked again.
		delete(f.resumed, num)
		cache[num] = l
		out.Count("lookups resumed", 1)
		f.countOutcome(f.verdictOf(l))
		return item{rec: rec, l: l}, nil
	}
	l := &lookup{}
	cache[num] = l
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return item{}, ctx.Err()
	}
	g.Go(func() error {
		v, err := f.check(ctx, ph, excluded)
		failed := err != nil
		if failed {
			if !f.skippable(ctx, err) {
				// The slot is kept: no lookup starts while the failure
				// stops the run, so none is answered and then lost.
				return err
			}
			v = f.skip(ph, err)
		}
		<-slots
		if err := f.settle(num, l, v, failed); err != nil {
			return err
		}
		f.countOutcome(v)
		out.Count("phones checked", 1)
		f.checked.Add(1)
		f.reportProgress(false)
		return nil
	})
	return item{rec: rec, l: l}, nil
}

// reasonLookupFailed is the drop reason of a skipped phone's records.
const reasonLookupFailed = "lookup failed"

// skippable reports whether err, the failure of one phone's lookup, skips
// the phone rather than failing the run: only with on_lookup_error =
// "skip", and never for a refused token (every lookup would fail) or a run
// that is stopping.
func (f *Filter) skippable(ctx context.Context, err error) bool {
	var auth *AuthError
	return f.cfg.OnLookupError == LookupErrorSkip && ctx.Err() == nil && !errors.As(err, &auth)
}

// skip records ph as skipped and returns its verdict: dropped.
func (f *Filter) skip(ph string, err error) verdict {
	f.env.Logger.Warn("skipping a phone whose Convoso lookup failed (on_lookup_error = \"skip\")", "phone", phone.Mask(ph), "err", err)
	f.settledMu.Lock()
	f.skipped = append(f.skipped, skippedPhone{phone: ph, err: err})
	f.settledMu.Unlock()
	return verdict{reason: reasonLookupFailed}
}

// Skipped lists the phones skipped with on_lookup_error = "skip", each
// with why, masked to its last four digits unless the run unmasks: the
// report shows them, and the CLI exits 3 (etl.Skipper).
func (f *Filter) Skipped() []string {
	f.settledMu.Lock()
	defer f.settledMu.Unlock()
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
func (f *Filter) check(ctx context.Context, ph string, excluded map[string]bool) (verdict, error) {
	leads, _, err := f.client.Leads(ctx, ph)
	if err != nil {
		return verdict{}, err
	}
	v := verdict{count: int32(len(leads))}
	if l := latest(leads); l != nil {
		// Copies: the verdict must not keep the page of leads alive.
		v.found = true
		v.latest = leadFields{id: strings.Clone(l.ID), status: l.Status, listID: l.ListID} // the others are interned by settle
	}
	var hits []string
	for _, l := range leads {
		if excluded[l.Status] {
			hits = append(hits, l.Status)
		}
	}
	if len(hits) > 0 {
		slices.Sort(hits)
		v.reason = "excluded: " + hits[0]
		return v, nil
	}
	for _, l := range leads {
		if l.Status == "" {
			// A lead whose status Convoso did not give might be a sale:
			// skip the phone (counted) rather than risk redialling it.
			v.reason = "lead without status"
			return v, nil
		}
	}
	if len(leads) == 0 && f.cfg.OnNotFound == NotFoundDrop {
		v.reason = "not found"
		return v, nil
	}
	if f.cfg.CheckDNCList {
		on, _, err := f.client.OnDNC(ctx, ph, 0)
		if err != nil {
			return verdict{}, err
		}
		if on {
			v.reason = "on dnc list"
			return v, nil
		}
	}
	v.keep = true
	return v, nil
}

// apply emits rec with its lead fields, or counts its drop.
func (f *Filter) apply(rec etl.Record, v verdict, out etl.Output) error {
	if !v.keep {
		out.Drop(v.reason)
		return nil
	}
	fields := etl.Record{
		"lead_id":     cty.NullVal(cty.String),
		"lead_status": cty.NullVal(cty.String),
		"list_id":     cty.NullVal(cty.String),
		"lead_count":  cty.NumberIntVal(int64(v.count)),
	}
	if v.found {
		fields["lead_id"] = cty.StringVal(v.latest.id)
		fields["lead_status"] = cty.StringVal(v.latest.status)
		fields["list_id"] = cty.StringVal(v.latest.listID)
	} else {
		out.Count("kept not found", 1)
	}
	return out.Emit(rec.With(fields))
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
	if isDigits(a) && isDigits(b) && len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
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
		if statuses, err = f.client.Statuses(ctx); err != nil {
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

// reportProgress sends a progress event at most every half second, and
// always at the end.
func (f *Filter) reportProgress(final bool) {
	f.progress.Lock()
	defer f.progress.Unlock()
	now := time.Now()
	if !final && now.Sub(f.lastSent) < 500*time.Millisecond {
		return
	}
	f.lastSent = now
	n := f.checked.Load()
	f.env.Report(etl.EventProgress, "", fmt.Sprintf("convoso: %d phones checked", n), map[string]any{"phones_checked": n, etl.FinalProgress: final})
}

func send(ctx context.Context, ch chan<- item, it item) error {
	select {
	case ch <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
