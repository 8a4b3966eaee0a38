package pipelines_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etlhq/etl/etl/phone"
	"github.com/etlhq/etl/filters/convoso/convosotest"
)

// importFakes starts the Convoso fake seeded as the demo seeds it (the
// sample's phones among them) and returns the flags that point
// import-leads.hcl at it and at dir.
func importFakes(t *testing.T, dir string) (*convosotest.Server, []string) {
	t.Helper()
	c := convosotest.NewServer(convosotest.Config{})
	t.Cleanup(c.Close)
	c.Seed(convosotest.SampleLeads)
	t.Setenv("CONVOSO_AUTH_TOKEN", c.Token())
	return c, []string{
		filepath.Join(filepath.Dir(pipelineFile), "import-leads.hcl"),
		"--var", "leads_csv=" + filepath.Join(testdataDir, "leads.csv"),
		"--var", "convoso_url=" + c.URL(),
		"--var", "data_dir=" + filepath.Join(dir, "data"),
		"--state", filepath.Join(dir, "state"),
	}
}

func importQueuePath(dir string) string {
	return filepath.Join(dir, "data", "redial-queue", "redial-queue_2026-01.json")
}

// The sample's phones are known to the fakes: each valid one is seeded.
func TestSampleLeadsSeeded(t *testing.T) {
	f, err := os.Open(filepath.Join(testdataDir, "leads.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var blank, dup int
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if strings.TrimSpace(r[0]) == "" {
			blank++
			continue
		}
		p, _, ok := phone.Normalize(r[0])
		if !ok {
			continue
		}
		if seen[p] {
			dup++
		}
		seen[p] = true
		if !slices.Contains(convosotest.SampleLeads, p) {
			t.Errorf("phone %s of the sample is not in convosotest.SampleLeads: the demo's fakes do not know it", p)
		}
	}
	if blank != 1 || dup != 1 {
		t.Errorf("the sample has %d blank phones and %d duplicates, want one of each", blank, dup)
	}
}

// The import queues the sample's redialable phones, once each, drops the
// row without a phone as "no phone", and matches what the Convoso fake
// says of each phone.
func TestImportLeadsGolden(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c, args := importFakes(t, dir)
	status, out, errOut := etlRun(t, append([]string{"plan"}, args...)...)
	if status != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", status, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("the plan wrote the data directory")
	}
	status, out, errOut = etlRun(t, append([]string{"run"}, args...)...)
	if status != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", status, out, errOut)
	}
	q, err := os.ReadFile(importQueuePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "import-leads-queue.golden.json", q)
	if !strings.Contains(out, "no phone 1") {
		t.Errorf("the blank phone is not counted as \"no phone\":\n%s", out)
	}
	rules := convosotest.Rules{ExcludeStatuses: []string{"SALE", "DNC"}}
	var want []string
	for _, p := range convosotest.SampleLeads {
		if c.Expect(p, rules).Kept {
			want = append(want, p)
		}
	}
	var got []string
	for k := range readQueueAt(t, importQueuePath(dir)) {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("queued %q, the fake keeps %q", got, want)
	}
}

// An import into a queue that already holds phones never overwrites them,
// under whatever spelling they are queued.
func TestImportLeadsNeverClobbers(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, args := importFakes(t, dir)
	existing := `{
  "+12125550100": {"lead_id": "9", "phone_number": "2125550100", "status": "called", "attempts": 3, "last_attempt": "2026-01-02T15:00:00.000Z", "next_attempt": "2026-01-09T16:00:00.000Z", "created_at": "2025-12-01T10:00:00.000Z", "metadata": {}}
}
`
	os.MkdirAll(filepath.Dir(importQueuePath(dir)), 0o755)
	os.WriteFile(importQueuePath(dir), []byte(existing), 0o644)
	status, out, errOut := etlRun(t, append([]string{"run"}, args...)...)
	if status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	q := readQueueAt(t, importQueuePath(dir))
	if string(q["+12125550100"]) != `{"lead_id": "9", "phone_number": "2125550100", "status": "called", "attempts": 3, "last_attempt": "2026-01-02T15:00:00.000Z", "next_attempt": "2026-01-09T16:00:00.000Z", "created_at": "2025-12-01T10:00:00.000Z", "metadata": {}}` {
		t.Errorf("the entry already queued changed: %s", q["+12125550100"])
	}
	if _, again := q["2125550100"]; again {
		t.Error("a phone already queued under another spelling was queued again")
	}
	if !strings.Contains(out, "1 already queued") {
		t.Errorf("the change does not say it was already queued:\n%s", out)
	}
}

// The export writes the pending entries as CSV, the columns the floor
// manager asked for, and lists the entry of another shape it left out.
func TestExportQueueGolden(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	queue := `{
  "2125550100": {"lead_id": "100401", "phone_number": "2125550100", "status": "pending", "attempts": 0, "last_attempt": null, "next_attempt": "2026-01-08T16:00:00.000Z", "created_at": "2026-01-05T14:05:00.000Z", "metadata": {"first_name": "Ann"}},
  "2125550101": {"lead_id": "100402", "phone_number": "2125550101", "status": "called", "attempts": 1, "last_attempt": "2026-01-08T16:00:00.000Z", "next_attempt": "2026-01-09T16:00:00.000Z", "created_at": "2026-01-05T15:30:00.000Z", "metadata": {}},
  "2125550110": {"lead_id": null, "phone_number": "2125550110", "status": "pending", "attempts": 0, "last_attempt": null, "next_attempt": "2026-01-08T16:00:00.000Z", "created_at": "2026-01-07T08:45:00.000Z", "metadata": {}},
  "2125550111": {"phone_number": "2125550111", "status": "pending", "attempts": "two"}
}
`
	qp := importQueuePath(dir)
	os.MkdirAll(filepath.Dir(qp), 0o755)
	os.WriteFile(qp, []byte(queue), 0o644)
	args := []string{filepath.Join(filepath.Dir(pipelineFile), "export-queue.hcl"), "--var", "data_dir=" + filepath.Join(dir, "data"), "--state", filepath.Join(dir, "state")}
	status, out, errOut := etlRun(t, append([]string{"plan", "--show-entries"}, args...)...)
	if status != 3 || !strings.Contains(out, "would write 2 rows") || !strings.Contains(out, "(would create it)") {
		t.Fatalf("plan: exit %d\n%s\n%s", status, out, errOut)
	}
	csvPath := filepath.Join(dir, "data", "exports", "pending_2026-01.csv")
	if _, err := os.Stat(filepath.Dir(csvPath)); err == nil {
		t.Error("the plan wrote the exports directory")
	}
	status, out, errOut = etlRun(t, append([]string{"run"}, args...)...)
	if status != 3 {
		t.Fatalf("run: exit %d, want 3 (an entry skipped)\n%s\n%s", status, out, errOut)
	}
	if !strings.Contains(errOut, `field "attempts": want a number, got a string`) || !strings.Contains(out, "not pending 1") {
		t.Errorf("the odd entry is not listed, or the called one not counted:\n%s\n%s", out, errOut)
	}
	got, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "export-queue.golden.csv", got)
	q, _ := os.ReadFile(qp)
	if string(q) != queue {
		t.Error("the export changed the queue file")
	}
}
