package stats

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/sources/bland"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

// notStatsFiles are files at the stats path that this sink did not write
// (or that were cut short), with what the error must say about each.
var notStatsFiles = []struct{ name, content, want string }{
	{"truncated", "[\n  {\n    \"date\": \"2025-12-01\",\n    \"totalCalls\": 4\n", "line 4 before the array is closed (truncated?)"},
	{"empty", "", "it is empty"},
	{"blank", " \n", "it is empty"},
	{"null", "null\n", "the top level is not an array of rows"},
	{"an object", `{"date": "2025-12-01"}`, "the top level is not an array of rows"},
	{"garbage", "calls,phones\n1,2\n", "line 1: invalid character 'c'"},
	{"row not an object", `[{"date": "2025-12-01"}, 3]`, "row 2 is not an object"},
	{"row without a date", "[\n  {\"totalCalls\": 3}\n]\n", "line 2: row 1 has no date"},
	{"wrong type", `[{"date": "2025-12-01", "totalCalls": "many"}]`, "row 1: totalCalls is a JSON string, where a stats row holds a whole number"},
	{"data after the array", `[{"date": "2025-12-01"}] []`, "data after the array"},
}

// TestNotAStatsFileStopsTheRun: a file at the stats path that is not a
// stats file fails run and plan alike while the pipeline is built (so
// before any source starts), naming the file, what is wrong and the fix,
// and nothing in the directory changes.
func TestNotAStatsFileStopsTheRun(t *testing.T) {
	for _, tt := range notStatsFiles {
		for _, plan := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s plan=%v", tt.name, plan), func(t *testing.T) {
				h := newHarness(t)
				path := filepath.Join(h.dir, "out", "backfill-stats.json")
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
				out := filepath.Dir(path) // h.dir also gets the harness's pipeline file
				before := etltest.HashTree(t, out, true)
				n := reads.Load()
				_, err := h.run(daysPipeline, etl.RunOptions{Plan: plan})
				if err == nil {
					t.Fatal("the run accepted it")
				}
				for _, want := range []string{"stats file " + path + " is not a stats file", tt.want, "left untouched", "Move it away"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if reads.Load() != n {
					t.Error("the source was started")
				}
				if etltest.HashTree(t, out, true) != before {
					t.Error("the file or its directory was touched")
				}
			})
		}
	}
}

// TestNotAStatsFileSendsNoRequest: with the real Bland source against its
// fake, a broken stats file stops the run before Bland's preflight or any
// listing request.
func TestNotAStatsFileSendsNoRequest(t *testing.T) {
	srv := blandtest.NewServer(blandtest.Config{Seed: 1, CallsPerDay: 5, PhonePool: 10})
	defer srv.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "backfill-stats.json")
	bad := []byte("[\n  {\"date\": \"2025-12-01\", \"totalCa")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`
source "bland_calls" "calls" {
  base_url   = %q
  api_key    = %q
  start_date = "2025-12-01"
  end_date   = "2025-12-02"
}
sink "stats" "daily" {
  input = source.bland_calls.calls
  key   = record.phone
  path  = %q
}
`, srv.URL(), srv.Key(), path)
	pf := filepath.Join(t.TempDir(), "p.hcl")
	os.WriteFile(pf, []byte(src), 0o644)
	reg := etl.NewRegistry()
	Register(reg)
	bland.Register(reg)
	for _, plan := range []bool{true, false} {
		p, diags := etl.Load(pf, etl.LoadOptions{Registry: reg})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		_, err := p.Run(t.Context(), etl.RunOptions{Plan: plan})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("plan=%v: err = %v, want one naming %s", plan, err, path)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Fatalf("plan=%v: %d Bland requests were sent before the broken stats file stopped the run", plan, n)
		}
		if got, _ := os.ReadFile(path); string(got) != string(bad) {
			t.Fatal("the broken stats file was modified")
		}
	}

	// The same pipeline with the file moved away, as the error says, runs
	// and sends requests: the check above is not vacuous.
	os.Rename(path, path+".broken")
	p, _ := etl.Load(pf, etl.LoadOptions{Registry: reg})
	if _, err := p.Run(t.Context(), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(srv.Requests()) == 0 {
		t.Error("no request after the file was moved away")
	}
}

// TestReplacedFileKeptAsBak: the first write of a run keeps the file the
// run started with as .bak, byte for byte, and the later writes of the
// same run (one per date) leave that backup alone.
func TestReplacedFileKeptAsBak(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, "out", "backfill-stats.json")
	old := "[\n{\"date\": \"2025-11-30\", \"totalCalls\": 9, \"note\": \"an earlier run's, hand-edited\"}\n]\n"
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := h.run(daysPipeline, etl.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bak, err := os.ReadFile(path + ".bak"); err != nil || string(bak) != old {
		t.Errorf(".bak = %q (%v), want the file the run replaced", bak, err)
	}
	if rows := readRows(t, path); len(rows) != 4 {
		t.Errorf("file holds %d rows, want 4", len(rows))
	}
	if c := res.Changes[0]; !strings.Contains(c.Summary, "+4 rows, 1 removed") {
		t.Errorf("change %q", c.Summary)
	}

	// A second run with the same rows writes nothing: no new backup.
	bak1, _ := os.ReadFile(path + ".bak")
	before := etltest.HashTree(t, filepath.Dir(path), true)
	if _, err := h.run(daysPipeline, etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if etltest.HashTree(t, filepath.Dir(path), true) != before {
		t.Error("a run with nothing new rewrote the file or its backup")
	}

	// A run with other rows replaces the file again: .bak is now the
	// first run's output.
	first, _ := os.ReadFile(path)
	if _, err := h.run(strings.Replace(daysPipeline, `"5615550003", "5615550004"]`, `"5615550003"]`, 1), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if bak, _ := os.ReadFile(path + ".bak"); string(bak) != string(first) || string(bak) == string(bak1) {
		t.Error(".bak is not the version the third run replaced")
	}
}
