package pipelines_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

// The backfill against a flaky Convoso: a run that fails on a phone out of
// retries is resumed without asking again about the phones it had
// answers for; a completed run, run again, asks about every phone; with
// on_lookup_error = "skip" the run completes without the phone and exits 3.

// flaky is a Convoso fault plan the tests switch while the fakes run.
type flaky struct {
	// oneInThree answers one lead search in three with 500.
	oneInThree atomic.Bool
	// broken makes every search for the victim answer 500.
	broken atomic.Bool

	mu       sync.Mutex
	victim   string // set, or chosen as the nth distinct phone asked about
	nth      int
	seen     map[string]bool
	searches int
}

func (f *flaky) fail(ph string, attempt int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen[ph] {
		f.seen[ph] = true
		if len(f.seen) == f.nth && f.victim == "" {
			f.victim = ph
		}
	}
	if ph == f.victim && f.broken.Load() {
		return true
	}
	f.searches++
	// A phone's first search only: no phone but the victim runs out of
	// retries, however the lookups interleave.
	return f.oneInThree.Load() && f.searches%3 == 0 && attempt == 1
}

func (f *flaky) victimPhone() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.victim
}

// startFlakyFakes is startFakes with Convoso's lead searches failing as
// fl says.
func startFlakyFakes(t *testing.T, fl *flaky) *fakes {
	t.Helper()
	fl.seen = map[string]bool{}
	return startFakesWith(t, blandtest.Config{Seed: 7, CallsPerDay: 40, PhonePool: phones, PayloadBytes: 100}, convosotest.Config{Fail500: fl.fail})
}

// editConvoso sets attributes of the copied pipeline's Convoso block: a
// quick backoff, and one lookup at a time so that no lookup is in flight
// when another's failure stops the run (every answer the fake gives is
// then one the run obtained).
func editConvoso(t *testing.T, dir string, extra ...string) {
	t.Helper()
	path := filepath.Join(dir, "backfill.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	attrs := append([]string{`concurrency = 1`, `max_retries = 3`, `backoff_base = "1ms"`, `backoff_max = "5ms"`}, extra...)
	edited := strings.Replace(string(src), "  concurrency      = 50\n", "  "+strings.Join(attrs, "\n  ")+"\n", 1)
	if edited == string(src) {
		t.Fatal("the Convoso block's concurrency line changed: update this test")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

// searches returns, among reqs, the phones whose lead search was answered
// with success, every phone searched, and the number of searches.
func searches(reqs []convosotest.Request) (answered, searched map[string]bool, n int) {
	answered, searched = map[string]bool{}, map[string]bool{}
	for _, r := range reqs {
		if r.Path != convosotest.LeadsPath {
			continue
		}
		n++
		searched[r.Phone] = true
		if r.Status == 200 && r.Code == 0 {
			answered[r.Phone] = true
		}
	}
	return answered, searched, n
}

func goldenQueue(t *testing.T) []byte {
	t.Helper()
	return mustRead(t, filepath.Join(testdataDir, "backfill-queue.golden.json"))
}

func TestBackfillResumeReusesConvosoAnswers(t *testing.T) {
	dir := setup(t)
	editConvoso(t, dir)
	fl := &flaky{nth: 30}
	fl.oneInThree.Store(true)
	fl.broken.Store(true)
	f := startFlakyFakes(t, fl)

	// Run 1: the 30th phone runs out of retries; the run fails (the
	// default on_lookup_error = "fail").
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	victim := fl.victimPhone()
	if status != 1 || victim == "" || !strings.Contains(errOut, "******"+victim[6:]) || strings.Contains(out+errOut, victim) ||
		!strings.Contains(errOut, "run again to resume: the answers obtained so far are kept") {
		t.Fatalf("run 1: exit %d, want 1 naming the masked victim (%s)\n%s\n%s", status, victim, out, errOut)
	}
	first := f.convoso.Requests()
	// Other phones are looked up while the victim waits to retry; the
	// one request in flight when it fails may be answered and not obtained.
	answered, _, _ := searches(first)
	if len(answered) < 29 {
		t.Fatalf("run 1 got answers for %d phones, want the 29 before the victim at least", len(answered))
	}
	state := dirBytes(t, filepath.Join(dir, "state"))
	if len(state) == 0 || bytes.Contains(state, []byte(f.convoso.Token())) || bytes.Contains(state, []byte(f.bland.Key())) {
		t.Errorf("no state, or a key appears in the state's files (%d bytes)", len(state))
	}

	// Run 2 resumes, the API still flaky but the victim answering: it asks
	// only about the phones run 1 had no answer for.
	fl.broken.Store(false)
	status, out, errOut = etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("run 2: exit %d\n%s\n%s", status, out, errOut)
	}
	second := f.convoso.Requests()[len(first):]
	_, searched, _ := searches(second)
	again := 0
	for ph := range searched {
		if answered[ph] {
			again++
		}
	}
	if again > 1 {
		t.Errorf("the resumed run asked again about %d phones answered by run 1, want the one in flight at most", again)
	}
	if !strings.Contains(out, fmt.Sprintf("lookups resumed %d", len(answered)-again)) {
		t.Errorf("the report does not count the %d answers reused:\n%s", len(answered)-again, out)
	}
	if q := mustRead(t, queuePath(dir)); !bytes.Equal(q, goldenQueue(t)) {
		t.Errorf("the resumed run's queue differs from a clean run's:\n%s", etltest.Diff(q, goldenQueue(t)))
	}

	// Run 3, of the finished pipeline, the API healthy: every phone is
	// looked up afresh, once.
	fl.oneInThree.Store(false)
	status, out, errOut = etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("run 3: exit %d\n%s\n%s", status, out, errOut)
	}
	_, all, n := searches(f.convoso.Requests()[len(first)+len(second):])
	if n != len(all) || len(all) < 60 {
		t.Errorf("the re-run sent %d lead searches for %d phones; want one per phone", n, len(all))
	}
	// Together, runs 1 and 2 asked about each phone, and run 2 only about
	// those run 1 had not answered (and the one in flight, counted above).
	if want := len(all) - len(answered) + again; len(searched) != want {
		t.Errorf("the resumed run asked about %d phones, want the %d run 1 had not answered and %d in flight", len(searched), want-again, again)
	}
	for ph := range answered {
		if !all[ph] {
			t.Errorf("%s answered in run 1 is not a phone of the pipeline", ph)
		}
	}
	if n := cachedAnswers(t, filepath.Join(dir, "state")); n != 0 {
		t.Errorf("a completed run's checkpoint holds %d answers", n)
	}
}

// TestBackfillSkipFailedLookup: by default a phone whose lookup keeps
// failing fails the run; with on_lookup_error = "skip" the run completes
// without it, lists it masked, counts it, and exits 3. Run again once
// Convoso answers, the finished pipeline looks the phone up and queues it.
func TestBackfillSkipFailedLookup(t *testing.T) {
	dir := setup(t)
	var queued map[string]json.RawMessage
	if err := json.Unmarshal(goldenQueue(t), &queued); err != nil {
		t.Fatal(err)
	}
	victim := slices.Sorted(maps.Keys(queued))[len(queued)/2] // a phone a clean run queues
	fl := &flaky{victim: victim}
	fl.broken.Store(true)
	f := startFlakyFakes(t, fl)

	editConvoso(t, dir)
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 || !strings.Contains(errOut, "******"+victim[6:]) {
		t.Fatalf("default on_lookup_error: exit %d, want 1\n%s\n%s", status, out, errOut)
	}

	setupAgain(t, dir)
	editConvoso(t, dir, `on_lookup_error = "skip"`)
	// A plan that skipped a lookup is incomplete: 3, not 2 for its changes.
	if status, out, errOut := etlRun(t, append([]string{"plan", "--detailed-exitcode"}, f.args(dir)...)...); status != 3 {
		t.Fatalf("plan with a lookup skipped: exit %d, want 3\n%s\n%s", status, out, errOut)
	}
	status, out, errOut = etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 3 {
		t.Fatalf("skip: exit %d, want 3\n%s\n%s", status, out, errOut)
	}
	all := out + errOut
	if !strings.Contains(all, "skipped 1 item(s)") || !strings.Contains(all, "phone ******"+victim[6:]+": ") || strings.Contains(all, victim) {
		t.Errorf("the report does not list the skipped phone masked:\n%s", all)
	}
	if !strings.Contains(out, "| lookup failed 1 |") {
		t.Errorf("the Convoso line does not count the phone:\n%s", out)
	}
	q := readQueue(t, dir)
	if _, ok := q[victim]; ok {
		t.Error("the skipped phone was queued")
	}
	if len(q) != len(queued)-1 {
		t.Errorf("queue holds %d entries, want the clean run's %d but the skipped phone", len(q), len(queued)-1)
	}
	if dates, n := checkpointDates(filepath.Join(dir, "state")), cachedAnswers(t, filepath.Join(dir, "state")); len(dates) != days || n != 0 {
		t.Fatalf("checkpoint after a run with a phone skipped: %d dates, %d answers cached", len(dates), n)
	}

	fl.broken.Store(false)
	status, out, errOut = etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("re-run: exit %d\n%s\n%s", status, out, errOut)
	}
	if _, ok := readQueue(t, dir)[victim]; !ok {
		t.Error("the re-run did not queue the phone once Convoso answered")
	}
}

// setupAgain restores the shipped pipeline in dir (setup without a new
// directory).
func setupAgain(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "backfill.hcl"), mustRead(t, pipelineFile), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cachedAnswers counts the Convoso answers the state at path keeps for a
// resumed run.
func cachedAnswers(t *testing.T, path string) int {
	t.Helper()
	st, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	usage, err := etl.Usage(st)
	if err != nil {
		t.Fatal(err)
	}
	return int(usage["filter.convoso_status.redialable (cache)"].Keys)
}
