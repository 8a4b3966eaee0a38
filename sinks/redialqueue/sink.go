package redialqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
	"github.com/etlhq/etl/etl/phone"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// entry is one queue entry as the dialer's queue processor expects it; the
// field order is the order in the file.
type entry struct {
	LeadID      *string         `json:"lead_id"`
	PhoneNumber string          `json:"phone_number"`
	Status      string          `json:"status"`
	Attempts    int             `json:"attempts"`
	LastAttempt *string         `json:"last_attempt"`
	NextAttempt string          `json:"next_attempt"`
	CreatedAt   string          `json:"created_at"`
	Metadata    json.RawMessage `json:"metadata"`
}

// Drop reasons shown in the report.
const (
	dropNoPhone      = "no phone"
	dropInvalidPhone = "invalid phone"
)

// sink collects the last entry per phone and merges them into the file at
// the end of input. It runs in the engine's single goroutine for the stage.
type sink struct {
	cfg  Config
	path string
	env  etl.Env

	// pending holds the entry (compact JSON) of the last record per phone,
	// keyed by the phone's 10 digits: the engine's scratch table.
	pending etl.Table
	// drops counts dropped records until they are handed to an Output.
	drops map[string]int64
	// initial is the file as read when the sink was built, without its
	// entries (plan mode compares against it; apply mode re-reads under the
	// lock, and keeps nothing of it meanwhile).
	initial *queue

	change etl.Change

	// nextAttempt is next_attempt rendered once when it does not read the
	// record (as in backfill.hcl); "" otherwise.
	nextAttempt string
	// metaVals and metaJSON are reused by every record's metadata (see
	// metadata): the entry's json.Marshal copies the bytes.
	metaVals []cty.Value
	metaJSON []byte
	// entryJSON is reused by every record's entry: the table copies it.
	entryJSON []byte
	// current and leadID are every record's entry, reused: it is
	// rendered at once (an entry each was 4% of the scale run's
	// allocations).
	current entry
	leadID  string
}

// lockWait is how long a run waits for another run's merge to finish.
var lockWait = 30 * time.Second

// maxMerges bounds how often the merge is redone when the file keeps
// changing under it.
const maxMerges = 5

func newSink(c Config, env etl.Env) (*sink, error) {
	s := &sink{cfg: c, path: c.Path, env: env, drops: map[string]int64{}}
	if _, ok := c.NextAttempt.Constant(); ok {
		// An error stays for Write to report with the record's phone.
		s.nextAttempt, _ = milliTime(c.NextAttempt, nil)
	}
	// Read and validate now, before any source sends a request: a broken
	// queue file must stop the run before it costs API calls.
	q, err := readQueue(s.path)
	if err != nil {
		return nil, err
	}
	if env.Plan {
		// The plan compares against the file as read now; it needs its
		// phones, not their entries.
		q.members = nil
		s.initial = q
	} else {
		if err := atomicfile.CheckWritable(filepath.Dir(s.path), "queue directory"); err != nil {
			return nil, err
		}
		// Leftovers of a run killed while writing the queue. (A concurrent
		// etl run mid-write would lose its temp file and fail loudly; the
		// queue itself is never touched here.)
		if err := atomicfile.RemoveStale(s.path); err != nil && env.Logger != nil {
			env.Logger.Warn("removing stale temp files", "path", s.path, "err", err)
		}
	}
	return s, nil
}

// Write keeps the record's entry as the latest for its phone.
func (s *sink) Write(_ context.Context, rec etl.Record) error {
	raw, ok, err := s.cfg.Key.EvalString(rec)
	if err != nil {
		return err
	}
	if !ok || raw == "" {
		s.drops[dropNoPhone]++
		return nil
	}
	ph, _, valid := phone.Normalize(raw)
	if !valid {
		s.drops[dropInvalidPhone]++
		return nil
	}
	e := &s.current
	if err := s.fillEntry(e, ph, rec); err != nil {
		return fmt.Errorf("queue entry for phone %s: %w", phone.Mask(ph), err)
	}
	b, ok := appendEntry(s.entryJSON[:0], e)
	if ok {
		s.entryJSON = b
	} else if b, err = json.Marshal(e); err != nil {
		return fmt.Errorf("queue entry for phone %s: %w", phone.Mask(ph), err)
	}
	return s.pending.Set([]byte(ph), b) // the table copies b
}

// appendEntry appends e as json.Marshal renders it, without reflection,
// for the entries of every record the sink receives. ok is false when a
// string holds <, > or &, which json.Marshal escapes and etl's string
// encoder does not, or U+2028 or U+2029, which json.Marshal escapes even
// inside the metadata: the caller then uses json.Marshal. e.Metadata must
// be compact JSON, as the sink renders it.
func appendEntry(b []byte, e *entry) (_ []byte, ok bool) {
	for _, s := range [...]string{e.PhoneNumber, e.Status, e.NextAttempt, e.CreatedAt, deref(e.LeadID), deref(e.LastAttempt)} {
		if marshalEscapes(s) {
			return b, false
		}
	}
	if marshalEscapes(e.Metadata) {
		return b, false
	}
	optional := func(b []byte, s *string) []byte {
		if s == nil {
			return append(b, "null"...)
		}
		return etl.AppendJSONString(b, *s)
	}
	b = optional(append(b, `{"lead_id":`...), e.LeadID)
	b = etl.AppendJSONString(append(b, `,"phone_number":`...), e.PhoneNumber)
	b = etl.AppendJSONString(append(b, `,"status":`...), e.Status)
	b = strconv.AppendInt(append(b, `,"attempts":`...), int64(e.Attempts), 10)
	b = optional(append(b, `,"last_attempt":`...), e.LastAttempt)
	b = etl.AppendJSONString(append(b, `,"next_attempt":`...), e.NextAttempt)
	b = etl.AppendJSONString(append(b, `,"created_at":`...), e.CreatedAt)
	b = append(b, `,"metadata":`...)
	if e.Metadata == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, e.Metadata...)
	}
	return append(b, '}'), true
}

// marshalEscapes reports whether s holds what json.Marshal escapes and
// etl.AppendJSONString does not: <, >, &, U+2028 and U+2029 (E2 80 A8/A9).
func marshalEscapes[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>', '&':
			return true
		case 0xE2:
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				return true
			}
		}
	}
	return false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// entry returns the pending entry of ph.
func (s *sink) entry(ph string) ([]byte, error) {
	b, ok, err := s.pending.Get([]byte(ph))
	if err == nil && !ok {
		err = fmt.Errorf("no pending entry for %s", phone.Mask(ph))
	}
	return b, err
}

// UseScratch takes the table the pending entries wait in.
func (s *sink) UseScratch(t etl.Table) error {
	s.pending = t
	return nil
}

// fillEntry makes e the queue entry of a record. e.LeadID may point to
// s.leadID, which the next record's entry changes.
func (s *sink) fillEntry(e *entry, ph string, rec etl.Record) error {
	*e = entry{PhoneNumber: ph, Status: "pending", Metadata: json.RawMessage("{}")}
	lead, ok, err := s.cfg.LeadID.EvalString(rec)
	if err != nil {
		return fmt.Errorf("lead_id: %w", err)
	}
	if ok {
		s.leadID = lead
		e.LeadID = &s.leadID
	}
	if e.CreatedAt, err = milliTime(s.cfg.CreatedAt, rec); err != nil {
		return fmt.Errorf("created_at: %w", err)
	}
	if e.NextAttempt = s.nextAttempt; e.NextAttempt == "" {
		if e.NextAttempt, err = milliTime(s.cfg.NextAttempt, rec); err != nil {
			return fmt.Errorf("next_attempt: %w", err)
		}
	}
	if s.cfg.Metadata.IsSet() {
		if e.Metadata, err = s.metadata(rec); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	return nil
}

// metadata renders the metadata attribute for rec. The usual metadata, an
// object constructor of strings, is rendered from its attributes without
// building the object (etl.Expr.AttrValues), into a buffer the next record
// reuses: it ran for every record the sink received, about six per entry
// in the queue.
func (s *sink) metadata(rec etl.Record) (json.RawMessage, error) {
	names, vals, ok := s.cfg.Metadata.AttrValues(rec, s.metaVals)
	s.metaVals = vals[:0]
	if ok {
		if b, ok := appendStringsObject(s.metaJSON[:0], names, vals); ok {
			s.metaJSON = b
			return b, nil
		}
	}
	v, err := s.cfg.Metadata.Eval(rec)
	if err != nil {
		return nil, err
	}
	return metadataJSON(v)
}

// milliTime evaluates a time attribute and renders it RFC 3339 UTC with
// milliseconds, as the queue processor reads it.
func milliTime(x etl.Expr, rec etl.Record) (string, error) {
	s, ok, err := x.EvalString(rec)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("is null")
	}
	if m, ok := etl.MilliTime(s); ok {
		return m, nil // a source's time, already in etl.TimeLayout
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC().Format(etl.MilliLayout), nil
}

// metadataJSON renders an object or map value as JSON; null is {}.
func metadataJSON(v cty.Value) (json.RawMessage, error) {
	if v.IsNull() {
		return json.RawMessage("{}"), nil
	}
	if b, ok := stringsObject(v); ok {
		return b, nil
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("value is not known")
	}
	if t := v.Type(); !t.IsObjectType() && !t.IsMapType() {
		return nil, fmt.Errorf("want an object, got %s", t.FriendlyName())
	}
	return ctyjson.Marshal(v, v.Type())
}

// stringsObject renders an object whose attributes are all strings or
// nulls, the usual metadata, with the bytes ctyjson.Marshal would give
// (keys sorted, strings escaped as encoding/json does but for <, > and &,
// which the entry's json.Marshal escapes in both), at a fraction of its
// cost. ok is false for any other value.
func stringsObject(v cty.Value) (b json.RawMessage, ok bool) {
	if !v.IsKnown() || v.IsMarked() || !v.Type().IsObjectType() {
		return nil, false
	}
	b = append(b, '{')
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if b, ok = appendStringAttr(b, k.AsString(), e); !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

// appendStringsObject appends the object of the attributes names (sorted,
// as go-cty orders them) with values vals as stringsObject renders it.
func appendStringsObject(b []byte, names []string, vals []cty.Value) (_ []byte, ok bool) {
	b = append(b, '{')
	for i, name := range names {
		if b, ok = appendStringAttr(b, name, vals[i]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendStringAttr appends one attribute of a strings object after the
// opening brace or a previous attribute; ok is false when v is not a
// known, unmarked string or null.
func appendStringAttr(b []byte, name string, v cty.Value) ([]byte, bool) {
	if !v.IsKnown() || v.IsMarked() || (!v.IsNull() && v.Type() != cty.String) {
		return b, false
	}
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(etl.AppendJSONString(b, name), ':')
	if v.IsNull() {
		return append(b, "null"...), true
	}
	return etl.AppendJSONString(b, v.AsString()), true
}

// EndPartition hands the partition's drop counts to the report. The
// entries stay in memory until Finish (see Plugin.Buffers).
func (s *sink) EndPartition(_ context.Context, _ *etl.Mark, out etl.Output) error {
	s.flushDrops(out)
	return nil
}

func (s *sink) flushDrops(out etl.Output) {
	if out == nil {
		return
	}
	for reason, n := range s.drops {
		for ; n > 0; n-- {
			out.Drop(reason)
		}
	}
	clear(s.drops)
}

// Finish merges the entries into the file (apply) or works out what the
// merge would do (plan).
func (s *sink) Finish(_ context.Context, out etl.Output) error {
	s.flushDrops(out)
	var res mergeResult
	var err error
	if s.env.Plan {
		res, err = plan(s.initial, s.pending)
	} else {
		res, err = s.merge()
	}
	if err != nil {
		return err
	}
	if out != nil {
		out.Count("added", int64(len(res.added)))
		out.Count("already queued", int64(res.already))
		// Counted only when they occur: a good file's report is unchanged.
		for name, n := range map[string]int{
			"queued under another key":  res.elsewhereCount,
			"queued under several keys": len(res.multi),
			"not queue entries":         res.oddCount,
		} {
			if n > 0 {
				out.Count(name, int64(n))
			}
		}
	}
	s.warn(res)
	s.change = s.describe(res)
	return nil
}

// Change is the change the merge made, or would make in plan mode.
func (s *sink) Change() etl.Change { return s.change }
