package runreport_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/runreport"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func readEvents(t *testing.T, path string) []etl.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := runreport.ReadEvents(f)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the events give now (go test -update rewrites it after a review of the diff):\n%s", path, got)
	}
}

// The report's data for each saved stream under testdata is its golden
// file: the per-date rows, outcomes, requests, times and changes a page
// shows.
func TestBuildGolden(t *testing.T) {
	streams, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if len(streams) == 0 {
		t.Fatal("no streams under testdata")
	}
	for _, path := range streams {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := json.MarshalIndent(runreport.Build(readEvents(t, path)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(filepath.Base(path), ".jsonl")+".golden.json", append(b, '\n'))
		})
	}
}

// The demo's stream holds a plan then a run: the report is the run's, and
// its figures agree with the run's own events.
func TestBuildDemo(t *testing.T) {
	events := readEvents(t, "testdata/demo.jsonl")
	r := runreport.Build(events)
	if r.Mode != "run" || r.Status != "ok" {
		t.Fatalf("mode %s, status %s", r.Mode, r.Status)
	}
	if len(r.Partitions) != 1 || len(r.Partitions[0].Rows) != 38 || r.Partitions[0].Block != "sink.stats.daily" {
		t.Fatalf("partitions %+v", r.Partitions)
	}
	var calls, fresh float64
	for _, row := range r.Partitions[0].Rows {
		calls += row.Values[0]
		fresh += row.Values[2]
	}
	last := r.Partitions[0].Rows[37].Values[3]
	if fresh != last {
		t.Errorf("new phones add up to %v, the last cumulative count is %v", fresh, last)
	}
	var source map[string]any
	for _, e := range events {
		if e.Type == etl.EventBlock && e.Block == "source.bland_calls.calls" {
			source = e.Data // the run's, the last one
		}
	}
	if out := source["out"].(float64); calls != out {
		t.Errorf("calls per date add up to %v, the source emitted %v", calls, out)
	}
	if len(r.Outcomes) != 1 || r.Outcomes[0].Of != "phones" || r.Outcomes[0].Counts[0].Name != "kept" {
		t.Errorf("outcomes %+v", r.Outcomes)
	}
	if len(r.APIs) != 2 || r.APIs[0].Block != "source.bland_calls.calls" || r.APIs[0].Requests != 38 {
		t.Errorf("apis %+v", r.APIs)
	}
	if len(r.Stages) != 5 {
		t.Errorf("stages %+v", r.Stages)
	}
	if i := slices.IndexFunc(r.Changes, func(c runreport.Change) bool { return c.Block == "sink.redial_queue.queue" }); i < 0 || r.Changes[i].Size == nil || r.Changes[i].Plan {
		t.Errorf("changes %+v", r.Changes)
	}
	if !slices.Contains(r.Settings, runreport.Setting{Name: "var.excluded_statuses", Value: `["SALE", "DNC"]`}) {
		t.Errorf("settings %v", r.Settings)
	}
}

// option is the part of an ECharts option the tests read.
type option struct {
	XAxis  []axis `json:"xAxis"`
	YAxis  []axis `json:"yAxis"`
	Series []struct {
		Type string            `json:"type"`
		Data []json.RawMessage `json:"data"`
	} `json:"series"`
}

type axis struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// drawn counts the data items of an option with a value other than 0.
func (o option) drawn(t *testing.T) int {
	n := 0
	for _, s := range o.Series {
		for _, raw := range s.Data {
			var item struct {
				Value *float64 `json:"value"`
			}
			if err := json.Unmarshal(raw, &item); err != nil {
				var v float64 // a plain value
				if json.Unmarshal(raw, &v) != nil {
					t.Fatalf("data item %s", raw)
				}
				item.Value = &v
			}
			if item.Value != nil && *item.Value != 0 {
				n++
			}
		}
	}
	return n
}

// The demo's charts: each in the page's order, with named axes, a
// caption, and as many drawn items as it says; the page loads nothing.
func TestPageDemo(t *testing.T) {
	r := runreport.Build(readEvents(t, "testdata/demo.jsonl"))
	charts, err := runreport.Charts(r)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range charts {
		ids = append(ids, c.ID)
		var o option
		if err := json.Unmarshal([]byte(c.Option), &o); err != nil {
			t.Fatalf("chart %s: option %v", c.ID, err)
		}
		if n := o.drawn(t); c.Marks == 0 || n < c.Marks {
			t.Errorf("chart %s draws %d items, says %d", c.ID, n, c.Marks)
		}
		named := 0
		for _, a := range append(o.XAxis, o.YAxis...) {
			if a.Name != "" {
				named++
			}
		}
		if named == 0 || c.Caption == "" {
			t.Errorf("chart %s: %d axis names, caption %q", c.ID, named, c.Caption)
		}
	}
	wantIDs := []string{"calls-per-date", "new-phones-per-date", "outcomes-filter-convoso-status-redialable", "api-requests", "stage-time", "change-sink-redial-queue-queue"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("charts %v, want %v", ids, wantIDs)
	}

	var b bytes.Buffer
	if err := runreport.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// The embedded ECharts library is the one script with a body of its
	// own; the rest of the page must reference nothing outside it.
	lib := regexp.MustCompile(`(?s)<script id="echarts">.*?</script>`)
	if !lib.MatchString(page) {
		t.Fatal("the page does not embed ECharts")
	}
	rest := lib.ReplaceAllString(page, "")
	for _, bad := range []string{"src=", "href=\"http", "url(", "@import", "<link"} {
		if strings.Contains(rest, bad) {
			t.Errorf("the page contains %q: it must load nothing", bad)
		}
	}
	for _, id := range wantIDs {
		if !strings.Contains(rest, `<div class="echart" id="chart-`+id+`"`) {
			t.Errorf("the page has no element for chart %s", id)
		}
	}
}

// A pipeline whose events hold no partitions, outcomes, requests or sized
// change gets only the charts its events fill.
func TestChartsOnlyForWhatTheEventsHold(t *testing.T) {
	now := time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC)
	events := []etl.Event{
		{Time: now, Type: etl.EventStart, Data: map[string]any{"mode": "run", "pipeline": "p.hcl"}},
		{Time: now, Type: etl.EventBlock, Block: "source.gen.nums", Data: map[string]any{"in": 0.0, "out": 30.0, "counts": map[string]any{}, "elapsed_seconds": 0.5, "input_wait_seconds": 0.0, "output_wait_seconds": 0.1}},
		{Time: now, Type: etl.EventBlock, Block: "sink.collect.out", Data: map[string]any{"in": 30.0, "out": 0.0, "counts": map[string]any{}, "elapsed_seconds": 0.5, "input_wait_seconds": 0.4, "output_wait_seconds": 0.0}},
		{Time: now, Type: etl.EventChange, Block: "sink.collect.out", Data: map[string]any{"changed": true, "summary": "wrote 30 records"}},
		{Time: now, Type: etl.EventSummary, Data: map[string]any{"mode": "run", "elapsed_seconds": 0.5}},
	}
	charts, err := runreport.Charts(runreport.Build(events))
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 1 || charts[0].ID != "stage-time" || charts[0].Marks != 4 {
		t.Fatalf("charts %+v, want the stage times only (4 bars: work and a wait each)", charts)
	}
}

// ReadEvents skips what is not a JSON line and names the line of an
// object that is not an event.
func TestReadEvents(t *testing.T) {
	events, err := runreport.ReadEvents(strings.NewReader("=== etl run\n\n{\"type\":\"summary\",\"message\":\"run finished\"}\n"))
	if err != nil || len(events) != 1 || events[0].Message != "run finished" {
		t.Fatalf("events %v, err %v", events, err)
	}
	if _, err := runreport.ReadEvents(strings.NewReader("{\"type\":\"info\"}\n{\"type\": 3}\n")); err == nil || !strings.Contains(err.Error(), "line 2: ") {
		t.Errorf("err %v, want one naming line 2", err)
	}
}
