package runreport_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

var (
	figureRE = regexp.MustCompile(`(?s)<figure class="chart" data-chart="([^"]+)" data-marks="(\d+)">(.*?)</figure>`)
	fillRE   = regexp.MustCompile(`(?i)fill:(#[0-9a-f]{6})`)
	strokeRE = regexp.MustCompile(`(?i)stroke:(#[0-9a-f]{6})`)
)

// The demo's page has every chart, each drawing its data in the palette's
// colours, and nothing that loads or runs anything.
func TestPageDemo(t *testing.T) {
	var b bytes.Buffer
	if err := runreport.WriteEvents(&b, readEvents(t, "testdata/demo.jsonl")); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	var ids []string
	for _, m := range figureRE.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
		want, _ := strconv.Atoi(m[2])
		marks := 0
		for _, re := range []*regexp.Regexp{fillRE, strokeRE} {
			for _, c := range re.FindAllStringSubmatch(m[3], -1) {
				if slices.Contains(runreport.Palette, strings.ToLower(c[1])) {
					marks++
				}
			}
		}
		if want == 0 || marks < want {
			t.Errorf("chart %s draws %d marks in the palette's colours, want %d (and more than 0)", m[1], marks, want)
		}
		if !strings.Contains(m[3], "<figcaption><b>How to read it:</b>") || !strings.Contains(m[3], "<svg") {
			t.Errorf("chart %s lacks its SVG or its caption", m[1])
		}
	}
	wantIDs := []string{"calls-per-date", "new-phones-per-date", "outcomes-filter-convoso-status-redialable", "api-requests", "stage-time", "change-sink-redial-queue-queue"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("charts %v, want %v", ids, wantIDs)
	}
	for _, bad := range []string{"<script", "src=", "href=\"http", "xlink:href", "url(", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: it must load nothing", bad)
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
