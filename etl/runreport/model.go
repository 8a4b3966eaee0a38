package runreport

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/retry"
)

// Report is what a run's events say, arranged for the page. Build makes
// it; its JSON form is what the golden tests compare.
type Report struct {
	Mode     string    `json:"mode"`   // run or plan
	Status   string    `json:"status"` // ok, failed, interrupted, or unknown (the stream stops early)
	Message  string    `json:"message"`
	Pipeline string    `json:"pipeline,omitempty"`
	Started  time.Time `json:"started"`
	Elapsed  float64   `json:"elapsed_seconds"`
	Settings []Setting `json:"settings"`
	// Partitions are the per-partition tables (the stats sink's rows).
	Partitions []PartitionTable `json:"partitions"`
	Outcomes   []BlockOutcomes  `json:"outcomes"`
	APIs       []API            `json:"apis"`
	Stages     []Stage          `json:"stages"`
	Changes    []Change         `json:"changes"`
	Warnings   []string         `json:"warnings"`
}

// Setting is one row of the settings table.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PartitionTable holds one block's partition events: a row per partition
// (a date), a column per numeric field of the events' data.
type PartitionTable struct {
	Block   string         `json:"block"`
	Columns []string       `json:"columns"` // data field names, in display order
	Rows    []PartitionRow `json:"rows"`
}

// PartitionRow is a partition's values, one per column.
type PartitionRow struct {
	Partition  string    `json:"partition"`
	Incomplete bool      `json:"incomplete,omitempty"`
	Values     []float64 `json:"values"`
}

// BlockOutcomes are a block's outcomes (etl.Outcomes).
type BlockOutcomes struct {
	Block string `json:"block"`
	etl.Outcomes
}

// API is a block that calls an API: its requests, retries and 429s.
type API struct {
	Block     string `json:"block"`
	Requests  int64  `json:"requests"`
	Retries   int64  `json:"retries"`
	Status429 int64  `json:"429s"`
}

// Stage is a block's time, in seconds.
type Stage struct {
	Block     string  `json:"block"`
	Elapsed   float64 `json:"elapsed"`
	Work      float64 `json:"work"`
	WaitIn    float64 `json:"waiting_for_input"`
	WaitOut   float64 `json:"waiting_for_output"`
	RecordsIn int64   `json:"records_in"`
	Out       int64   `json:"records_out"`
}

// Change is what a sink changed or would change.
type Change struct {
	Block   string      `json:"block"`
	Changed bool        `json:"changed"`
	Plan    bool        `json:"plan"`
	Summary string      `json:"summary"`
	Counts  []etl.Count `json:"counts,omitempty"`
	Size    *etl.Size   `json:"size,omitempty"`
}

// Known partition fields of the stats sink, in the order and with the
// names of its terminal table; other numeric fields follow, by name.
var knownColumns = []struct{ field, label string }{
	{"totalCalls", "calls"},
	{"uniquePhonesToday", "unique"},
	{"newPhonesToday", "new"},
	{"cumulativeUniquePhones", "total unique"},
	{"invalidPhones", "invalid"},
	{"bytes", "size"},
}

// ColumnLabel is the table heading of a partition field.
func ColumnLabel(field string) string {
	for _, k := range knownColumns {
		if k.field == field {
			return k.label
		}
	}
	return field
}

// Build sums the events of one command up. When the stream holds several
// commands (a demo's plan then run), the last one is taken.
func Build(events []etl.Event) *Report {
	events = lastCommand(events)
	r := &Report{Mode: "run", Status: "unknown", Settings: []Setting{}, Partitions: []PartitionTable{}, Outcomes: []BlockOutcomes{},
		APIs: []API{}, Stages: []Stage{}, Changes: []Change{}, Warnings: []string{}}
	if len(events) > 0 {
		r.Started = events[0].Time
	}
	tables := map[string]*PartitionTable{}
	var order []string
	for _, e := range events {
		switch e.Type {
		case etl.EventStart:
			r.start(e)
		case etl.EventInfo:
			if vars, ok := e.Data["variables"].(map[string]any); ok && !r.hasVariables() {
				r.addVariables(vars)
			}
			// A block's figures for every partition, restored ones
			// included, as partition events would carry them.
			items, _ := e.Data[etl.DataPartitions].([]any)
			for _, item := range items {
				data, _ := item.(map[string]any)
				name, _ := data[etl.DataPartition].(string)
				pe := etl.Event{Type: etl.EventPartition, Block: e.Block, Partition: name, Data: data}
				if t := partitionTable(tables, pe); t != nil && !slices.Contains(order, e.Block) {
					order = append(order, e.Block)
				}
			}
		case etl.EventPartition:
			if t := partitionTable(tables, e); t != nil && !slices.Contains(order, e.Block) {
				order = append(order, e.Block)
			}
		case etl.EventBlock:
			r.block(e)
		case etl.EventChange:
			r.change(e)
		case etl.EventWarning:
			r.Warnings = append(r.Warnings, e.Message)
		case etl.EventSummary:
			r.Status, r.Message = "ok", e.Message
			r.Mode = str(e.Data, "mode", r.Mode)
			r.Elapsed = num(e.Data, "elapsed_seconds")
		case etl.EventError:
			r.Status, r.Message = str(e.Data, "status", "failed"), e.Message
			if !e.Time.IsZero() && !r.Started.IsZero() {
				r.Elapsed = e.Time.Sub(r.Started).Seconds()
			}
		}
	}
	for _, b := range order {
		r.Partitions = append(r.Partitions, *tables[b])
	}
	return r
}

// lastCommand returns the events from the last "start" event on (all of
// them when there is none).
func lastCommand(events []etl.Event) []etl.Event {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type == etl.EventStart {
			return events[i:]
		}
	}
	return events
}

// start takes the settings of the start event.
func (r *Report) start(e etl.Event) {
	r.Mode = str(e.Data, "mode", r.Mode)
	r.Pipeline = str(e.Data, "pipeline", "")
	r.Started = e.Time
	for _, k := range []struct{ key, name string }{
		{"pipeline", "pipeline"}, {"state", "state"}, {"report", "report"},
		{"version", "etl version"}, {"commit", "etl commit"}, {"go_version", "Go version"},
	} {
		if v := str(e.Data, k.key, ""); v != "" {
			r.Settings = append(r.Settings, Setting{k.name, v})
		}
	}
	if vars, ok := e.Data["variables"].(map[string]any); ok {
		r.addVariables(vars)
	}
}

func (r *Report) hasVariables() bool {
	return slices.ContainsFunc(r.Settings, func(s Setting) bool { return strings.HasPrefix(s.Name, "var.") })
}

// addVariables adds the variables, as the CLI rendered (and masked) them.
func (r *Report) addVariables(vars map[string]any) {
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		r.Settings = append(r.Settings, Setting{"var." + name, fmt.Sprint(vars[name])})
	}
}

// partitionTable adds a partition event with numeric data to its block's
// table; it returns nil for an event without any.
func partitionTable(tables map[string]*PartitionTable, e etl.Event) *PartitionTable {
	var fields []string
	for k, v := range e.Data {
		if _, ok := v.(float64); ok {
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 || e.Partition == "" {
		return nil
	}
	t := tables[e.Block]
	if t == nil {
		t = &PartitionTable{Block: e.Block, Columns: orderColumns(fields)}
		tables[e.Block] = t
	}
	row := PartitionRow{Partition: e.Partition, Values: make([]float64, len(t.Columns))}
	row.Incomplete, _ = e.Data["incomplete"].(bool)
	for i, c := range t.Columns {
		row.Values[i] = num(e.Data, c)
	}
	// A partition reported again (a date listed again) replaces its row.
	if i := slices.IndexFunc(t.Rows, func(r PartitionRow) bool { return r.Partition == e.Partition }); i >= 0 {
		t.Rows[i] = row
	} else {
		t.Rows = append(t.Rows, row)
	}
	slices.SortStableFunc(t.Rows, func(a, b PartitionRow) int { return strings.Compare(a.Partition, b.Partition) })
	return t
}

// orderColumns puts the known fields first, in their order, then the
// others by name.
func orderColumns(fields []string) []string {
	var cols []string
	for _, k := range knownColumns {
		if slices.Contains(fields, k.field) {
			cols = append(cols, k.field)
		}
	}
	for _, f := range slices.Sorted(slices.Values(fields)) {
		if !slices.Contains(cols, f) {
			cols = append(cols, f)
		}
	}
	return cols
}

// block takes a block event: time, API counts, outcomes.
func (r *Report) block(e etl.Event) {
	counts, _ := e.Data["counts"].(map[string]any)
	if _, ok := counts[retry.CountRequests]; ok {
		r.APIs = append(r.APIs, API{Block: e.Block, Requests: int64(num(counts, retry.CountRequests)),
			Retries: int64(num(counts, retry.CountRetries)), Status429: int64(num(counts, retry.Count429s))})
	}
	if _, ok := e.Data["elapsed_seconds"]; ok {
		s := Stage{Block: e.Block, Elapsed: num(e.Data, "elapsed_seconds"), WaitIn: num(e.Data, "input_wait_seconds"),
			WaitOut: num(e.Data, "output_wait_seconds"), RecordsIn: int64(num(e.Data, "in")), Out: int64(num(e.Data, "out"))}
		s.Work = max(0, s.Elapsed-s.WaitIn-s.WaitOut)
		r.Stages = append(r.Stages, s)
	}
	if o, ok := e.Data["outcomes"].(map[string]any); ok {
		bo := BlockOutcomes{Block: e.Block, Outcomes: etl.Outcomes{Of: str(o, "of", "items"), Counts: counts2(o["counts"])}}
		if len(bo.Counts) > 0 {
			r.Outcomes = append(r.Outcomes, bo)
		}
	}
}

// change takes a change event.
func (r *Report) change(e etl.Event) {
	c := Change{Block: e.Block, Summary: str(e.Data, "summary", e.Message), Counts: counts2(e.Data["counts"])}
	c.Changed, _ = e.Data["changed"].(bool)
	c.Plan, _ = e.Data["plan"].(bool)
	if s, ok := e.Data["size"].(map[string]any); ok {
		c.Size = &etl.Size{Unit: str(s, "unit", "items"), Before: int64(num(s, "before")), After: int64(num(s, "after"))}
	}
	r.Changes = append(r.Changes, c)
}

// counts2 reads a JSON list of {"name", "count"}.
func counts2(v any) []etl.Count {
	list, _ := v.([]any)
	var out []etl.Count
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			out = append(out, etl.Count{Name: str(m, "name", ""), N: int64(num(m, "count"))})
		}
	}
	return out
}

func num(m map[string]any, k string) float64 {
	f, _ := m[k].(float64)
	return f
}

func str(m map[string]any, k, def string) string {
	if s, ok := m[k].(string); ok && s != "" {
		return s
	}
	return def
}
