package pipelines_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/cmd/etl/cli"
	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

var testdataDir, pipelineFile string

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMain lets the test binary act as the etl command when ETL_TEST_MAIN
// is set: the crash tests run it as a subprocess and SIGKILL it, while the
// fake APIs stay up in the parent.
func TestMain(m *testing.M) {
	// Tests chdir into temp dirs; find the golden files and the shipped
	// pipeline from here.
	testdataDir, _ = filepath.Abs("testdata")
	pipelineFile, _ = filepath.Abs("backfill.hcl")
	if os.Getenv("ETL_TEST_MAIN") == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ(), etl.Default))
	}
	os.Exit(m.Run())
}

const (
	startDate = "2025-12-01"
	endDate   = "2025-12-06"
	days      = 6
	phones    = 80
)

// fakes are the two APIs a backfill talks to.
type fakes struct {
	bland   *blandtest.Server
	convoso *convosotest.Server
}

func startFakes(t testing.TB, faults []blandtest.Fault) *fakes {
	t.Helper()
	return startFakesWith(t, blandtest.Config{Seed: 7, CallsPerDay: 40, PhonePool: phones, PayloadBytes: 100, Faults: faults}, convosotest.Config{})
}

// startFakesWith starts fakes of both APIs as configured, seeds Convoso
// with every phone of Bland's pool, and points the keys at them.
func startFakesWith(t testing.TB, bc blandtest.Config, cc convosotest.Config) *fakes {
	t.Helper()
	f := &fakes{bland: blandtest.NewServer(bc), convoso: convosotest.NewServer(cc)}
	f.convoso.Seed(blandtest.Pool(bc.PhonePool))
	t.Cleanup(f.bland.Close)
	t.Cleanup(f.convoso.Close)
	t.Setenv("BLAND_API_KEY", f.bland.Key())
	t.Setenv("CONVOSO_AUTH_TOKEN", f.convoso.Token())
	return f
}

// args returns the flags that point the shipped pipeline at the fakes and
// at dir.
func (f *fakes) args(dir string, extra ...string) []string {
	a := []string{
		"backfill.hcl",
		"--var", "start_date=" + startDate,
		"--var", "end_date=" + endDate,
		"--var", "bland_url=" + f.bland.URL(),
		"--var", "convoso_url=" + f.convoso.URL(),
		"--var", "data_dir=" + filepath.Join(dir, "data"),
		"--state", filepath.Join(dir, "state"),
	}
	return append(a, extra...)
}

// etlRun runs the CLI in-process and returns its exit status and output.
func etlRun(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	status := cli.Main(args, &out, &errb, os.Environ(), etl.Default)
	return status, out.String(), errb.String()
}

func queuePath(dir string) string {
	return filepath.Join(dir, "data", "redial-queue", "redial-queue_2025-12.json")
}

func statsPath(dir string) string { return filepath.Join(dir, "data", "backfill-stats.json") }

func readQueue(t testing.TB, dir string) map[string]json.RawMessage {
	t.Helper()
	return readQueueAt(t, queuePath(dir))
}

// readQueueAt reads the queue file at path.
func readQueueAt(t testing.TB, path string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var q map[string]json.RawMessage
	if err := json.Unmarshal(data, &q); err != nil {
		t.Fatalf("queue file is not a JSON object: %v", err)
	}
	return q
}

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	etltest.Golden(t, filepath.Join(testdataDir, name), got, *update)
}

// setup copies the shipped pipeline into a temp dir, unchanged.
func setup(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(pipelineFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "backfill.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir
}

func TestBackfillRunGolden(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	for d := 0; d < days; d++ {
		date := time.Date(2025, 12, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if n := f.bland.RequestsFor(date); n != 1 {
			t.Errorf("%s requested %d times, want exactly once", date, n)
		}
	}
	q, err := os.ReadFile(queuePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "backfill-queue.golden.json", q)
	s, err := os.ReadFile(statsPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "backfill-stats.golden.json", s)

	// The report's counts are the files' counts.
	queue := readQueue(t, dir)
	kept := reportNumber(t, out, `kept (\d+)`)
	added := reportNumber(t, out, `added (\d+) entries`)
	if kept != len(queue) || added != len(queue) {
		t.Errorf("report says kept %d, added %d; the queue holds %d entries\n%s", kept, added, len(queue), out)
	}
	var rows []map[string]any
	if err := json.Unmarshal(s, &rows); err != nil {
		t.Fatal(err)
	}
	totalCalls := 0
	for _, r := range rows {
		totalCalls += int(r["totalCalls"].(float64))
	}
	if got := reportNumber(t, out, `TOTALS: (\d+) calls`); got != totalCalls {
		t.Errorf("report TOTALS %d calls, stats file %d", got, totalCalls)
	}
	if strings.Contains(out+errOut, f.bland.Key()) || strings.Contains(out+errOut, f.convoso.Token()) {
		t.Error("a key appears in the output")
	}
	state := dirBytes(t, filepath.Join(dir, "state"))
	if len(state) == 0 || bytes.Contains(state, []byte(f.bland.Key())) || bytes.Contains(state, []byte(f.convoso.Token())) {
		t.Errorf("no state, or a key appears in the state's files (%d bytes)", len(state))
	}
}

// dirBytes returns the contents of every file under dir, one after another.
func dirBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			all = append(all, b...)
		}
		return nil
	})
	return all
}

func reportNumber(t testing.TB, out, pattern string) int {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("report has no %q:\n%s", pattern, out)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func TestBackfillPlanWritesNothing(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	// Once on an empty directory, once after a run (with a queue, stats
	// and a checkpoint to leave alone).
	for i := 0; i < 2; i++ {
		before := etltest.HashTree(t, dir, true)
		status, out, errOut := etlRun(t, append([]string{"plan", "--detailed-exitcode"}, f.args(dir)...)...)
		if i == 0 && status != 2 {
			t.Fatalf("plan exit %d, want 2 (changes)\n%s\n%s", status, out, errOut)
		}
		if after := etltest.HashTree(t, dir, true); after != before {
			t.Fatalf("plan changed the directory tree")
		}
		if !strings.Contains(out, "would") {
			t.Errorf("plan output shows no planned change:\n%s", out)
		}
		if status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...); status != 0 {
			t.Fatalf("run exit %d\n%s\n%s", status, out, errOut)
		}
	}
}

func TestBackfillMergeKeepsExistingEntries(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	// A queue that already holds a foreign entry and one of our phones,
	// written by the queue processor in its own style.
	ours := blandtest.Phone(3)
	existing := fmt.Sprintf(`{
  "9995550000": {"lead_id": "1", "phone_number": "9995550000", "status": "done", "attempts": 3, "last_attempt": "2025-11-01T10:00:00.000Z", "next_attempt": null, "created_at": "2025-10-01T10:00:00.000Z", "metadata": {}},
  "%s": {"lead_id": "2", "phone_number": "%s", "status": "pending", "attempts": 1, "last_attempt": null, "next_attempt": "2025-12-01T16:00:00.000Z", "created_at": "2025-10-02T10:00:00.000Z", "metadata": {"x": 1}}
}`, ours, ours)
	if err := os.MkdirAll(filepath.Dir(queuePath(dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(queuePath(dir), []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	var before map[string]json.RawMessage
	json.Unmarshal([]byte(existing), &before)

	if status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...); status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	after := readQueue(t, dir)
	for phone, entry := range before {
		if !bytes.Equal(compact(t, after[phone]), compact(t, entry)) {
			t.Errorf("existing entry %s changed:\n got %s\nwant %s", phone, after[phone], entry)
		}
	}
	if len(after) <= len(before) {
		t.Fatalf("nothing was added: %d entries", len(after))
	}
	// A second run adds nothing and leaves the file as it was.
	first, _ := os.ReadFile(queuePath(dir))
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	second, _ := os.ReadFile(queuePath(dir))
	if !bytes.Equal(first, second) {
		t.Error("a second run changed the queue file")
	}
	if n := reportNumber(t, out, `added (\d+) entries`); n != 0 {
		t.Errorf("second run added %d entries", n)
	}
}

func compact(t testing.TB, raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return b.Bytes()
}

func TestBackfillBadQueueStopsBeforeAnyRequest(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	if err := os.MkdirAll(filepath.Dir(queuePath(dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := []byte(`{"5615550000": {"lead_id": `)
	if err := os.WriteFile(queuePath(dir), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", status, out, errOut)
	}
	if !strings.Contains(errOut, queuePath(dir)) {
		t.Errorf("error does not name the queue file:\n%s", errOut)
	}
	if n := len(f.bland.Requests()) + len(f.convoso.Requests()); n != 0 {
		t.Errorf("%d API requests were sent before the bad queue file stopped the run", n)
	}
	if got, _ := os.ReadFile(queuePath(dir)); !bytes.Equal(got, bad) {
		t.Error("the bad queue file was modified")
	}
}

func TestBackfillMissingKeyNamesVariable(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	os.Unsetenv("BLAND_API_KEY")
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 || !strings.Contains(errOut, "BLAND_API_KEY") {
		t.Fatalf("exit %d, stderr does not name BLAND_API_KEY:\n%s\n%s", status, out, errOut)
	}
	if n := len(f.bland.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestBackfillBadDateIsDiagnostic(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	for _, tc := range []struct{ start, want string }{
		{"2025-13-01", "start_date"},
		{"2026-02-01", "start_date"}, // after end_date
	} {
		args := append([]string{"validate"}, f.args(dir, "--var", "start_date="+tc.start)...)
		args = slicesDelete(args, "--state")
		status, _, errOut := etlRun(t, args...)
		if status != 1 || !regexp.MustCompile(`backfill.hcl:\d+:\d+: error`).MatchString(errOut) || !strings.Contains(errOut, tc.want) {
			t.Errorf("start_date=%s: exit %d, stderr:\n%s", tc.start, status, errOut)
		}
	}
}

// slicesDelete removes flag and its value from args.
func slicesDelete(args []string, flag string) []string {
	for i, a := range args {
		if a == flag {
			return append(args[:i:i], args[i+2:]...)
		}
	}
	return args
}

// TestBackfillNarrowedRangeRefusesCheckpoint: a checkpoint holding dates
// outside start_date..end_date is refused (its state carries those dates),
// while widening the range resumes and fetches only the new dates.
func TestBackfillNarrowedRangeRefusesCheckpoint(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	if status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...); status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	status, _, errOut := etlRun(t, append([]string{"run"}, f.args(dir, "--var", "end_date=2025-12-03")...)...)
	if status != 1 || !strings.Contains(errOut, "no longer reads (2025-12-04 … 2025-12-06)") || !strings.Contains(errOut, "--fresh") {
		t.Errorf("narrowed range: exit %d\n%s", status, errOut)
	}
	seen := len(f.bland.Requests())
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir, "--var", "end_date=2025-12-08")...)...)
	if status != 0 {
		t.Fatalf("widened range: exit %d\n%s\n%s", status, out, errOut)
	}
	var fetched []string
	for _, r := range f.bland.Requests()[seen:] {
		fetched = append(fetched, r.Date)
	}
	if strings.Join(fetched, ",") != "2025-12-07,2025-12-08" && strings.Join(fetched, ",") != "2025-12-08,2025-12-07" {
		t.Errorf("widened run fetched %v, want only 2025-12-07 and 2025-12-08", fetched)
	}
}

// TestBackfillWrongConvosoTokenFailsFirst: a refused Convoso token stops
// the run before any Bland request and before any file is written.
func TestBackfillWrongConvosoTokenFailsFirst(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	t.Setenv("CONVOSO_AUTH_TOKEN", "wrong-token")
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 || !strings.Contains(errOut, "Auth token is invalid") || strings.Contains(out+errOut, "wrong-token") {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	if n := len(f.bland.Requests()); n != 0 {
		t.Errorf("%d Bland requests before the token was refused", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("files were written before the token was refused")
	}
}

// TestBackfillBuildsOnlyTheFieldsItReads pins what bland_calls is asked to
// build for the shipped pipeline: the fields its blocks read (lead_id is
// Convoso's, not the source's). A block reading a new field changes this
// list, and with it the checkpoint's fingerprint.
func TestBackfillBuildsOnlyTheFieldsItReads(t *testing.T) {
	t.Setenv("BLAND_API_KEY", "k")
	t.Setenv("CONVOSO_AUTH_TOKEN", "t")
	p, diags := etl.Load(pipelineFile, etl.LoadOptions{Registry: etl.Default})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := etl.Fingerprint(p)["source.bland_calls.calls"]["(fields)"]
	if want := "batch_id,call_id,created_at,phone"; got != want {
		t.Errorf("fields built: %q, want %q", got, want)
	}
}

// TestBackfillReadingANewFieldRefusesCheckpoint edits the pipeline so that
// the queue's metadata reads a field the first run did not build (to):
// dedupe's saved records lack it, so the checkpoint must be refused, and a
// fresh run must then fill the new field in.
func TestBackfillReadingANewFieldRefusesCheckpoint(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	if status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...); status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	path := filepath.Join(dir, "backfill.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `source = "bland_backfill" }`, `source = "bland_backfill", to = record.to }`, 1)
	if edited == string(src) {
		t.Fatal("the pipeline's metadata attribute changed: update this test")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 || !strings.Contains(errOut, "the pipeline now reads record fields the saved records lack: to (") || !strings.Contains(errOut, "--fresh") {
		t.Fatalf("reading a new field: exit %d\n%s", status, errOut)
	}
	os.Remove(queuePath(dir))
	if status, out, errOut := etlRun(t, append([]string{"run", "--fresh"}, f.args(dir)...)...); status != 0 {
		t.Fatalf("fresh run: exit %d\n%s\n%s", status, out, errOut)
	}
	for ph, raw := range readQueue(t, dir) {
		var e struct {
			Metadata struct {
				To *string `json:"to"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Metadata.To == nil || *e.Metadata.To == "" {
			t.Fatalf("entry %s lacks metadata.to: %s", ph, raw)
		}
	}
}

// TestBackfillFreshRunStoppedEarlyKeepsCheckpoint: --fresh discards the
// checkpoint only once the run has started; a fresh run stopped by a
// refused token leaves it for the next run to resume from.
func TestBackfillFreshRunStoppedEarlyKeepsCheckpoint(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	if status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...); status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	state := filepath.Join(dir, "state")
	before := checkpointDates(state)
	if len(before) == 0 {
		t.Fatal("no checkpoint")
	}
	// A wrong Convoso token is refused by the preflight; a wrong Bland key
	// by the first request, once the run has started: neither run has
	// anything to checkpoint, so neither deletes the old checkpoint.
	for _, c := range []struct{ env, want string }{{"CONVOSO_AUTH_TOKEN", "Auth token is invalid"}, {"BLAND_API_KEY", "401 Unauthorized: Invalid API key (the credentials were refused: check the API key"}} {
		good := os.Getenv(c.env)
		t.Setenv(c.env, "wrong-key")
		if status, _, errOut := etlRun(t, append([]string{"run", "--fresh"}, f.args(dir)...)...); status != 1 || !strings.Contains(errOut, c.want) {
			t.Fatalf("%s wrong: exit %d\n%s", c.env, status, errOut)
		}
		if after := checkpointDates(state); !slices.Equal(after, before) {
			t.Fatalf("%s wrong: the checkpoint did not survive a fresh run stopped at its start: %v, was %v", c.env, after, before)
		}
		t.Setenv(c.env, good)
	}
}
