package bland

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/phone"
	"github.com/etlhq/etl/etl/retry"
	"github.com/zclconf/go-cty/cty"
)

// Source is a running bland_calls block.
type Source struct {
	cfg    Config
	env    etl.Env
	http   *Client
	client lister // http, or a mock's in a test
}

// newSource builds the stage from a decoded config.
func newSource(cfg *Config, env etl.Env) (*Source, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = max(cfg.Concurrency, 2)
	rc := cfg.Settings.Client(&http.Client{Transport: transport}, retry.PerMinute(cfg.RequestsPerMinute), cfg.APIKey)
	rc.Meter = env.Meter
	if env.Logger != nil {
		// A debug line per request; Bland's query holds the date and the
		// paging, the key travels in a header.
		rc.Logger, rc.LogQuery = env.Logger, true
	}
	c := &Client{
		BaseURL: cfg.BaseURL, Key: cfg.APIKey, Limit: cfg.Limit, MaxPages: cfg.MaxPages, Query: cfg.Query, HTTP: rc,
		Skip: skipFor(env.Fields),
	}
	return &Source{cfg: *cfg, env: env, http: c, client: c}, nil
}

// skipFor returns the call fields records with these fields do not need.
func skipFor(fields map[string]bool) Skip {
	if fields == nil {
		return Skip{}
	}
	return Skip{Metadata: !fields["metadata"], Status: !fields["status"], AnsweredBy: !fields["answered_by"],
		CallLength: !fields["call_length"], BatchID: !fields["batch_id"]}
}

// Read lists the dates not yet done, up to Concurrency at once, and emits
// each date's records then its mark, in date order. The date being emitted
// streams: its records go out while its response is still being read, on
// this goroutine, so that decoding and building records run side by side.
// Later dates are fetched meanwhile and wait their turn, their calls packed
// in memory or, past a budget, in a spill file (see dateStream).
func (s *Source) Read(ctx context.Context, out etl.Output) error {
	s.http.HTTP.OnAttempt = func(a retry.Attempt) {
		a.Count(out.Count) // requests are counted per date, in markDate
		if a.Retry && s.env.Logger != nil {
			s.env.Logger.Warn("retrying request", "path", a.Path, "attempt", a.N, "status", a.Status, "wait", a.Wait, "err", a.Err)
		}
	}
	all := datesBetween(s.cfg.StartDate, s.cfg.EndDate)
	var dates []string
	for _, d := range all {
		if s.env.Done != nil && s.env.Done(d) {
			continue
		}
		dates = append(dates, d)
	}
	s.reportDates(len(dates), len(all)-len(dates))
	s.env.Meter.ExpectPartitions(len(dates), "dates")
	waiting := newWaitBudget(waitingBudget, s.env.ScratchDir)
	defer waiting.close() // last: after the fetches have ended
	streams := make([]*dateStream, len(dates))
	for i := range streams {
		streams[i] = newDateStream(waiting)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel below: no fetch outlives Read
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// slots bounds the dates fetched, waiting to be emitted, or emitted
	// and not yet done (checkpointed): a slot is freed once its date is
	// done, so that a crash costs at most Concurrency dates. And a date is
	// not started while the calls of dates waiting their turn fill the
	// budget: when downstream is slower than Bland, fetching further ahead
	// would only hold memory.
	slots := make(chan struct{}, max(s.cfg.Concurrency, 1))
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, d := range dates {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if err := waiting.wait(ctx); err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := streams[i]
				day, err := s.client.FetchDate(ctx, d, st.put)
				st.finish(day, err)
			}()
		}
	}()

	for i, date := range dates {
		st := streams[i]
		build := newRecordBuilder(date, s.env.Fields)
		invalid := 0
		for {
			calls, done, err := st.take(ctx)
			if err != nil {
				return err
			}
			n, err := build.emit(calls, out)
			invalid += n
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
		streams[i] = nil
		if i+1 < len(streams) {
			// Only this goroutine takes: the next date unpacks into the
			// same buffer instead of growing one of its own.
			streams[i+1].unpacked = st.unpacked
		}
		st.unpacked = nil
		if err := s.markDate(date, st.day, st.err, invalid, out); err != nil {
			return err
		}
		if s.env.AwaitDone == nil {
			<-slots
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.env.AwaitDone(ctx, date) == nil {
				<-slots
			}
		}()
	}
	return nil
}

// reportDates says, before the first request, how many dates this run
// fetches and so the least number of requests it sends: what a plan shows
// before it costs anything. done are the dates the checkpoint holds.
func (s *Source) reportDates(todo, done int) {
	rng := fmt.Sprintf("%s to %s", s.cfg.StartDate, s.cfg.EndDate)
	var msg string
	switch {
	case todo == 0:
		msg = fmt.Sprintf("%s: all %s from %s are done in the checkpoint: no request", s.env.Addr, plural(done, "date"), rng)
	case done == 0:
		msg = fmt.Sprintf("%s: %s to fetch, %s: at least %s (one per date, more where a date is paged or retried)",
			s.env.Addr, plural(todo, "date"), rng, plural(todo, "request"))
	default:
		msg = fmt.Sprintf("%s: %s to fetch of %s (%d done in the checkpoint): at least %s (one per date, more where a date is paged or retried)",
			s.env.Addr, plural(todo, "date"), rng, done, plural(todo, "request"))
	}
	s.env.Report(etl.EventInfo, "", msg, map[string]any{
		"start_date": s.cfg.StartDate.String(), "end_date": s.cfg.EndDate.String(),
		"dates": todo, "done": done, "requests_at_least": todo})
}

// markDate ends one date whose records were emitted: err is FetchDate's;
// an IncompleteError is a warning when on_incomplete = "warn", any other
// error fails the source and the date gets no mark.
func (s *Source) markDate(date string, day *Day, err error, invalid int, out etl.Output) error {
	incomplete := false
	if ie, ok := err.(*IncompleteError); ok && s.cfg.OnIncomplete == "warn" {
		incomplete = true
		s.env.Report(etl.EventWarning, date, ie.Warning(), map[string]any{
			"date": date, "total_count": ie.Total, "listed": ie.Got, "pages": ie.Pages})
	} else if err != nil {
		return err
	}
	calls := day.Calls
	for i := 0; i < day.Duplicates; i++ {
		out.Drop("duplicate call_id")
	}
	out.Count(retry.CountRequests, int64(day.Requests))
	out.Count("bytes", day.Bytes)
	out.Count("invalid phones", int64(invalid))
	// Today's calls are still being made: the date goes through, but is
	// not checkpointed, so that the next run lists it again, whole.
	open := date == today().String()
	mark := &etl.Mark{Source: s.env.Addr, Partition: date, Incomplete: incomplete, Open: open}
	etl.InfoBytes.Set(mark, day.Bytes)
	etl.InfoInvalidPhones.Set(mark, int64(invalid))
	infoCalls.Set(mark, int64(calls))
	infoDuplicates.Set(mark, int64(day.Duplicates))
	infoRequests.Set(mark, int64(day.Requests))
	infoTotalCount.Set(mark, int64(day.TotalCount))
	msg := fmt.Sprintf("%s: %d calls (%d invalid phones, %s) in %s, %s",
		date, calls, invalid, plural(day.Duplicates, "duplicate"), plural(day.Requests, "request"), humanBytes(day.Bytes))
	if incomplete {
		msg += fmt.Sprintf(", INCOMPLETE: %d of %d listed", calls, day.TotalCount)
	}
	if open {
		msg += "; today (UTC), not over: not checkpointed, the next run lists it again"
		s.env.Report(etl.EventInfo, date, fmt.Sprintf("%s is today (UTC) and not over: its calls so far go through, but it is not checkpointed, so the next run lists it again, whole", date), map[string]any{"date": date, "open": true})
	}
	data := map[string]any{"date": date, "incomplete": incomplete, "open": open}
	for k, v := range mark.Info {
		data[k] = v
	}
	s.env.Report(etl.EventProgress, date, msg, data)
	return out.EndPartition(mark)
}

// Counts of a date that only the report and the checkpoint show; bytes and
// invalid phones, which the stats sink reads, are etl's keys.
var (
	infoCalls      = etl.NewInfoKey("calls")
	infoDuplicates = etl.NewInfoKey("duplicates")
	infoRequests   = etl.NewInfoKey("requests")
	infoTotalCount = etl.NewInfoKey("total_count")
)

// recordBuilder turns calls into records. It keeps the values of fields
// that repeat from call to call (status, answered_by, batch_id, the date):
// a go-cty string costs a Unicode normalisation and an allocation each
// time, a good part of building a record.
type recordBuilder struct {
	date   cty.Value
	common map[string]cty.Value
	meta   etl.JSONDecoder // metadata objects repeat their keys
	// fields are the indexes in Fields of the fields to build: those of
	// Env.Fields, or all. The backfill reads 4 of the 14, and building the
	// others (the metadata object above all) was half of the source's time.
	fields []int
}

// maxCommon bounds the values kept, should a field thought to repeat not.
const maxCommon = 4096

func newRecordBuilder(date string, want map[string]bool) *recordBuilder {
	b := &recordBuilder{date: cty.StringVal(date), common: make(map[string]cty.Value)}
	for i, f := range Fields {
		if want == nil || want[f.Name] {
			b.fields = append(b.fields, i)
		}
	}
	return b
}

// emit turns calls into records and emits them in order, releasing each
// call once built; it returns how many had an invalid phone.
func (b *recordBuilder) emit(calls []Call, out etl.Output) (invalid int, err error) {
	for i := range calls {
		rec, ok := b.record(&calls[i])
		calls[i] = Call{} // let its strings go while the rest is emitted
		if !ok {
			invalid++
		}
		if err := out.Emit(rec); err != nil {
			return invalid, err
		}
	}
	return invalid, nil
}

// record turns a call into a record of the builder's fields; ok is false
// when its phone is invalid.
func (b *recordBuilder) record(c *Call) (etl.Record, bool) {
	raw := c.LeadPhone()
	p, reason, ok := phone.Normalize(raw) // always: invalid phones are counted
	rec := make(etl.Record, len(b.fields))
	for _, f := range b.fields {
		var v cty.Value
		switch Fields[f].Name {
		case "call_id":
			v = cty.StringVal(c.ID)
		case "created_at":
			v = etl.TimeVal(c.CreatedAt)
		case "phone":
			v = nullable(p)
		case "phone_invalid_reason":
			v = b.repeated(reason)
		case "raw_phone":
			v = nullable(raw)
		case "to":
			v = nullable(c.To)
		case "from":
			v = nullable(c.From)
		case "inbound":
			v = cty.BoolVal(c.Inbound)
		case "batch_id":
			v = b.repeated(c.BatchID)
		case "status":
			v = b.repeated(c.Status)
		case "answered_by":
			v = b.repeated(c.AnsweredBy)
		case "call_length":
			v = callLength(c)
		case "metadata":
			v = b.metadata(c.Metadata)
		case "date":
			v = b.date
		}
		rec[Fields[f].Name] = v
	}
	return rec, ok
}

func callLength(c *Call) cty.Value {
	if !c.HasLength {
		return cty.NullVal(cty.Number)
	}
	return cty.NumberFloatVal(c.CallLength)
}

// repeated is nullable for a value that recurs across calls.
func (b *recordBuilder) repeated(s string) cty.Value {
	if s == "" {
		return cty.NullVal(cty.String)
	}
	if v, ok := b.common[s]; ok {
		return v
	}
	v := cty.StringVal(s)
	if len(b.common) < maxCommon {
		b.common[s] = v
	}
	return v
}

func nullable(s string) cty.Value {
	if s == "" {
		return cty.NullVal(cty.String)
	}
	return cty.StringVal(s)
}

// metadata converts a call's metadata to cty; null when absent or
// unusable.
func (b *recordBuilder) metadata(raw []byte) cty.Value {
	if len(raw) == 0 {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	v, err := b.meta.Value(raw)
	if err != nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v
}

// plural writes "1 request", "2 requests".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
