package pipelines_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

// uncommentWhere returns the shipped backfill with its commented where
// example enabled, as its comment tells a user to do: the block's lines
// uncommented and the dedupe's input switched to it.
func uncommentWhere(t *testing.T, src string) string {
	t.Helper()
	const begin, end = "# filter \"where\" \"not_answered_long\" {\n", "# }\n"
	i := strings.Index(src, begin)
	j := strings.Index(src[i:], end)
	if i < 0 || j < 0 {
		t.Fatal("backfill.hcl has no commented where example: update this test")
	}
	block := src[i : i+j+len(end)]
	var lines []string
	for _, l := range strings.SplitAfter(block, "\n") {
		lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "# "), "#"))
	}
	out := strings.Replace(src, block, strings.Join(lines, ""), 1)
	const from = "input       = source.bland_calls.calls # or filter.where.not_answered_long"
	if !strings.Contains(out, from) {
		t.Fatal("the dedupe's input line changed: update this test")
	}
	return strings.Replace(out, from, "input       = filter.where.not_answered_long", 1)
}

// TestBackfillWhereExample enables the commented where example: it
// validates, drops exactly the calls a person answered that lasted over a
// minute, and no queued phone comes from such a call.
func TestBackfillWhereExample(t *testing.T) {
	dir := setup(t)
	path := filepath.Join(dir, "backfill.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(uncommentWhere(t, string(src))), 0o644); err != nil {
		t.Fatal(err)
	}
	if status, out, errOut := etlRun(t, "validate", "backfill.hcl"); status != 0 || !strings.Contains(out, "1 filter") && !strings.Contains(out, "2 filters") {
		t.Fatalf("validate: exit %d\n%s\n%s", status, out, errOut)
	}

	f := startFakes(t, nil)
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	long := map[string]bool{} // call ids a person answered, over a minute
	seen := map[string]bool{}
	for d := 0; d < days; d++ {
		date := time.Date(2025, 12, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		for _, c := range f.bland.Calls(date) {
			if !c.Duplicate && !seen[c.ID] && c.AnsweredBy == "human" && c.CallLength > 1 {
				long[c.ID] = true
			}
			seen[c.ID] = true
		}
	}
	if len(long) == 0 {
		t.Fatal("the fakes served no call a person answered for over a minute: the test proves nothing")
	}
	if got := reportNumber(t, out, `filter\.where\.not_answered_long +\d+ +\d+ +(\d+) \(answered by a person, over a minute`); got != len(long) {
		t.Errorf("where dropped %d calls, the fakes served %d answered by a person for over a minute\n%s", got, len(long), out)
	}
	queue := readQueue(t, dir)
	if len(queue) == 0 {
		t.Fatal("empty queue")
	}
	for phone, raw := range queue {
		var e struct {
			Metadata struct {
				CallID string `json:"call_id"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if long[e.Metadata.CallID] {
			t.Errorf("%s is queued from call %s, which a person answered for over a minute", phone, e.Metadata.CallID)
		}
	}
	// The source builds the two fields the filter reads besides the four
	// the backfill reads.
	t.Setenv("BLAND_API_KEY", "k")
	p, diags := etl.Load(path, etl.LoadOptions{Registry: etl.Default})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got, want := etl.Fingerprint(p)["source.bland_calls.calls"]["(fields)"], "answered_by,batch_id,call_id,call_length,created_at,phone"; got != want {
		t.Errorf("fields built: %q, want %q", got, want)
	}
}
