package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/sources/bland/blandtest"
)

// TestDemo runs `etl demo` (what `make demo` runs) on a small data set:
// the README's first command must keep working.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(filepath.Join("..", "..", "..")) // the repo root, where pipelines/backfill.hcl is
	var out, errb bytes.Buffer
	status := Main([]string{"demo", "--dir", dir, "--calls-per-day", "30", "--phones", "60"}, &out, &errb, nil, testRegistry())
	if status != exitOK {
		t.Fatalf("exit %d\n%s\n%s", status, out.String(), errb.String())
	}
	for _, want := range []string{"=== etl plan", "=== etl run", "(one per date)", "Outputs:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	queue, err := os.ReadFile(filepath.Join(dir, "redial-queue", "redial-queue_2026-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries map[string]map[string]any
	if err := json.Unmarshal(queue, &entries); err != nil || len(entries) == 0 {
		t.Fatalf("queue: %v, %d entries", err, len(entries))
	}
	var rows []struct {
		Date          string `json:"date"`
		TotalCalls    int    `json:"totalCalls"`
		InvalidPhones int    `json:"invalidPhones"`
	}
	stats, _ := os.ReadFile(filepath.Join(dir, "backfill-stats.json"))
	if err := json.Unmarshal(stats, &rows); err != nil || len(rows) != 38 {
		t.Fatalf("stats: %v, %d rows, want 38 dates", err, len(rows))
	}
	// The demo serves blandtest.Demo's call-center data: the rows are its
	// dates, quiet ones and the closed Christmas Day included.
	for _, r := range rows {
		calls, err := blandtest.Generate(blandtest.Demo(30, 60), r.Date)
		if err != nil {
			t.Fatal(err)
		}
		if st := blandtest.StatsOf(calls); r.TotalCalls != st.Unique || r.InvalidPhones != st.InvalidPhones {
			t.Errorf("%s: %d calls, %d invalid; the demo's data has %d and %d", r.Date, r.TotalCalls, r.InvalidPhones, st.Unique, st.InvalidPhones)
		}
		if r.Date == "2025-12-25" && r.TotalCalls != 0 {
			t.Errorf("Christmas Day: %d calls, want the call center closed", r.TotalCalls)
		}
	}
}
