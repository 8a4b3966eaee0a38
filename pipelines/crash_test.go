package pipelines_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

// The fault tests of the backfill: a run that is killed, interrupted or
// served faults must end with the same files as a clean run, without
// fetching a finished date again.

// crashEnd gives the crash tests more dates, so that a kill lands mid-run.
const crashEnd = "2025-12-12"

// crashArgs points the shipped pipeline at the fakes for 12 dates.
func (f *fakes) crashArgs(dir string) []string {
	args := f.args(dir)
	for i, a := range args {
		if a == "end_date="+endDate {
			args[i] = "end_date=" + crashEnd
		}
	}
	return args
}

// startSlowFakes serves each Bland date after 250 ms, so that a run of 12
// dates, 4 at a time, lasts at least 750 ms: long enough to be killed at
// several points.
func startSlowFakes(t *testing.T) *fakes {
	var faults []blandtest.Fault
	for d := 1; d <= 12; d++ {
		faults = append(faults, blandtest.Fault{Date: fmt.Sprintf("2025-12-%02d", d), Latency: 250 * time.Millisecond, Times: -1})
	}
	return startFakes(t, faults)
}

// referenceRun runs the pipeline once, uninterrupted, in its own directory
// and returns the queue and stats files.
func referenceRun(t *testing.T, f *fakes) (queue, stats []byte) {
	t.Helper()
	dir := t.TempDir()
	if status, out, errOut := etlRun(t, append([]string{"run"}, f.crashArgs(dir)...)...); status != 0 {
		t.Fatalf("reference run: exit %d\n%s\n%s", status, out, errOut)
	}
	return mustRead(t, queuePath(dir)), mustRead(t, statsPath(dir))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// subprocess starts `etl ARGS` as a child process: this test binary, which
// TestMain turns into etl.
func subprocess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ETL_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// doneDates reads the finished dates of the checkpoint, if any.
func doneDates(t *testing.T, path string) map[string]bool {
	t.Helper()
	done := map[string]bool{}
	for _, name := range checkpointDates(path) {
		done[name] = true
	}
	return done
}

// checkpointDates lists the dates the state at path holds (none when it
// cannot be read).
func checkpointDates(path string) []string {
	st, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return nil
	}
	defer st.Close()
	cp, err := etl.ReadCheckpoint(st)
	if err != nil || cp == nil {
		return nil
	}
	var names []string
	for _, p := range cp.Sources["source.bland_calls.calls"] {
		names = append(names, p.Name)
	}
	return names
}

// TestBackfillSurvivesSIGKILL kills `etl run` at random points, runs it
// again each time, and checks that no date finished before a kill is
// fetched after it and that the final files equal an uninterrupted run's.
func TestBackfillSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := setup(t)
	f := startSlowFakes(t)
	wantQueue, wantStats := referenceRun(t, f)

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("kill points seeded with %d", seed)
	state := filepath.Join(dir, "state")
	args := append([]string{"run"}, f.crashArgs(dir)...)
	kills := 0
	for attempt := 0; attempt < 8; attempt++ {
		doneBefore := doneDates(t, state)
		seen := len(f.bland.Requests())
		cmd, out := subprocess(t, args...)
		finished := make(chan error, 1)
		go func() { finished <- cmd.Wait() }()
		var err error
		killed := false
		if kills < 4 {
			// The first kill lands early, before any checkpoint; the others
			// a random moment after the run has checkpointed a new date, so
			// that they fall at different points of the run.
			var killAt <-chan time.Time
			if attempt == 0 {
				killAt = time.After(time.Duration(50+rng.IntN(150)) * time.Millisecond)
			} else {
				killAt = afterProgress(dir, len(doneBefore), time.Duration(rng.IntN(250))*time.Millisecond)
			}
			select {
			case err = <-finished:
			case <-killAt:
				cmd.Process.Signal(syscall.SIGKILL)
				<-finished
				killed = true
				kills++
			}
		} else {
			err = <-finished
		}
		for _, r := range f.bland.Requests()[seen:] {
			if doneBefore[r.Date] {
				t.Errorf("attempt %d fetched %s, which the checkpoint already held", attempt, r.Date)
			}
		}
		if !killed {
			if err != nil {
				t.Fatalf("attempt %d failed: %v\n%s", attempt, err, out)
			}
			break
		}
		t.Logf("attempt %d killed with %d dates checkpointed", attempt, len(doneDates(t, state)))
	}
	if kills == 0 {
		t.Fatal("no run was killed: the kill points came too late")
	}
	if got := mustRead(t, queuePath(dir)); !bytes.Equal(got, wantQueue) {
		t.Errorf("queue after %d kills differs from an uninterrupted run's:\n%s", kills, etltest.Diff(got, wantQueue))
	}
	if got := mustRead(t, statsPath(dir)); !bytes.Equal(got, wantStats) {
		t.Errorf("stats after %d kills differ from an uninterrupted run's:\n%s", kills, etltest.Diff(got, wantStats))
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "data", "*", ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left behind: %v", leftovers)
	}
}

// TestBackfillSIGINT: the run stops within a second, says where it stopped,
// keeps its checkpoint and exits 130; the next run finishes the job.
func TestBackfillSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := setup(t)
	f := startSlowFakes(t)
	wantQueue, wantStats := referenceRun(t, f)
	args := append([]string{"run"}, f.crashArgs(dir)...)
	cmd, out := subprocess(t, args...)
	// Interrupt once the run has checkpointed a date (so its signal handler
	// is installed and it has a place to report), however slowly the
	// machine starts the process and commits: the stats file's first row
	// comes before the date's commit, by more than 50 ms under -race on a
	// busy machine.
	<-afterCommit(dir, 50*time.Millisecond)
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	// Promptly: well before the run would have finished (the slow fakes
	// take several seconds), with room for a loaded machine.
	if took := time.Since(sent); took > 3*time.Second {
		t.Errorf("stopped %s after SIGINT", took)
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out)
	}
	if !strings.Contains(out.String(), "interrupted after 2025-12-") || !strings.Contains(out.String(), "checkpointed in this run") {
		t.Errorf("output does not say where it stopped:\n%s", out)
	}
	if _, err := os.Stat(queuePath(dir)); err == nil {
		t.Error("an interrupted run wrote the queue")
	}
	done := doneDates(t, filepath.Join(dir, "state"))
	seen := len(f.bland.Requests())
	if status, o, e := etlRun(t, args...); status != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", status, o, e)
	}
	for _, r := range f.bland.Requests()[seen:] {
		if done[r.Date] {
			t.Errorf("resumed run fetched %s again", r.Date)
		}
	}
	if !bytes.Equal(mustRead(t, queuePath(dir)), wantQueue) || !bytes.Equal(mustRead(t, statsPath(dir)), wantStats) {
		t.Error("files after SIGINT and resume differ from an uninterrupted run's")
	}
}

// fastRetries returns the shipped pipeline with short retry waits, so that
// fault tests finish in seconds; nothing else changes.
func fastRetries(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "backfill.hcl")
	src := string(mustRead(t, path))
	src = strings.Replace(src, "  concurrency = 4\n", "  concurrency = 4\n  backoff_base = \"5ms\"\n  backoff_max = \"20ms\"\n  max_retries = 4\n", 1)
	src = strings.Replace(src, "  concurrency      = 50\n", "  concurrency      = 50\n  backoff_base     = \"5ms\"\n  backoff_max      = \"20ms\"\n", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBackfillTransientFaults: 500s, 429s with and without Retry-After and
// bodies cut off mid-JSON, spread over the dates: the files equal a clean
// run's (the golden files).
func TestBackfillTransientFaults(t *testing.T) {
	dir := setup(t)
	fastRetries(t, dir)
	faults := []blandtest.Fault{
		{Date: "2025-12-01", Status: 500},
		{Date: "2025-12-02", Status: 429, RetryAfter: "0"},
		{Date: "2025-12-02", Status: 429},
		{Date: "2025-12-03", CutAfter: 700},
		{Date: "2025-12-04", Status: 502, Times: 2},
		{Date: "2025-12-05", CutAfter: 50},
		{Date: "2025-12-05", Status: 503, RetryAfter: "0"},
	}
	f := startFakes(t, faults)
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 0 {
		t.Fatalf("exit %d\n%s\n%s", status, out, errOut)
	}
	golden(t, "backfill-queue.golden.json", mustRead(t, queuePath(dir)))
	golden(t, "backfill-stats.golden.json", mustRead(t, statsPath(dir)))
	if n := len(f.bland.Requests()); n <= days {
		t.Errorf("only %d requests: the faults were not served", n)
	}
}

// TestBackfillPersistentFault: a date that always answers 500 fails the run
// after its retries, naming the date; the dates before it stay
// checkpointed and are not fetched again by the next run.
func TestBackfillPersistentFault(t *testing.T) {
	dir := setup(t)
	fastRetries(t, dir)
	f := startFakes(t, []blandtest.Fault{{Date: "2025-12-04", Status: 500, Times: -1}})
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", status, out, errOut)
	}
	if !strings.Contains(errOut, "2025-12-04") || !strings.Contains(errOut, "500") || !strings.Contains(errOut, "/v1/calls") {
		t.Errorf("error does not name the date, status and path:\n%s", errOut)
	}
	if n := f.bland.RequestsFor("2025-12-04"); n != 5 {
		t.Errorf("2025-12-04 requested %d times, want 5 (1 + max_retries 4)", n)
	}
	done := doneDates(t, filepath.Join(dir, "state"))
	for _, d := range []string{"2025-12-01", "2025-12-02", "2025-12-03"} {
		if !done[d] {
			t.Errorf("%s is not in the checkpoint after the failure: %v", d, done)
		}
	}
	if done["2025-12-04"] {
		t.Error("the failed date is checkpointed")
	}
}

// TestBackfillUnwritableOutput: a data_dir that cannot be created stops the
// run before any API request.
func TestBackfillUnwritableOutput(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, []byte("a file, not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"run"}, f.args(dir, "--var", "data_dir="+filepath.Join(blocker, "data"))...)
	status, out, errOut := etlRun(t, args...)
	if status != 1 || !strings.Contains(errOut, blocker) {
		t.Fatalf("exit %d, want 1 with an error naming %s\n%s\n%s", status, blocker, out, errOut)
	}
	if n := len(f.bland.Requests()) + len(f.convoso.Requests()); n != 0 {
		t.Errorf("%d API requests before the unwritable output stopped the run", n)
	}
}

// TestBackfillDiskFull runs the backfill into a tiny tmpfs that fills up
// while the queue is written: the run fails, the previous queue file is
// intact and no temp file is left. Needs mount (root); skipped otherwise.
func TestBackfillDiskFull(t *testing.T) {
	dir := setup(t)
	f := startFakes(t, nil)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", data).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the write-failure case is covered by etl/atomicfile's tests", err)
	}
	defer exec.Command("umount", data).Run()
	if err := os.MkdirAll(filepath.Dir(queuePath(dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	previous := []byte(`{"9995550000": {"lead_id": "1", "phone_number": "9995550000", "status": "pending", "attempts": 0, "last_attempt": null, "next_attempt": null, "created_at": "2025-10-01T10:00:00.000Z", "metadata": {}}}`)
	if err := os.WriteFile(queuePath(dir), previous, 0o644); err != nil {
		t.Fatal(err)
	}
	// Fill the file system but for a few KB: enough for the stats, not for
	// the merged queue.
	var st syscall.Statfs_t
	syscall.Statfs(data, &st)
	free := int64(st.Bavail) * int64(st.Bsize)
	if err := os.WriteFile(filepath.Join(data, "filler"), make([]byte, free-12*1024), 0o644); err != nil {
		t.Fatal(err)
	}
	status, out, errOut := etlRun(t, append([]string{"run"}, f.args(dir)...)...)
	if status != 1 || !strings.Contains(errOut, "no space left") {
		t.Fatalf("exit %d, want 1 with ENOSPC\n%s\n%s", status, out, errOut)
	}
	if got := mustRead(t, queuePath(dir)); !bytes.Equal(got, previous) {
		t.Errorf("the previous queue file was changed by the failed write:\n%s", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(queuePath(dir)))
	for _, e := range entries {
		if e.Name() != filepath.Base(queuePath(dir)) && !strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// afterCommit returns a channel that receives once the run in dir has
// committed to its state (the store's write-ahead log is empty until the
// first commit, a partition's), and extra after that.
func afterCommit(dir string, extra time.Duration) <-chan time.Time {
	return after(extra, func() bool {
		// A new log holds its 16-byte header; a commit makes it longer.
		logs, _ := filepath.Glob(filepath.Join(dir, "state", "log", "state-*.log"))
		return slices.ContainsFunc(logs, func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Size() > 16 })
	})
}

// afterProgress fires extra after the stats file under dir holds more
// than done dates. The stats sink rewrites it (atomically) after each
// date, and a date is committed as soon as the stats sink and dedupe have
// it: the file is how far the run has got, readable while the run holds
// its state's lock.
func afterProgress(dir string, done int, extra time.Duration) <-chan time.Time {
	return after(extra, func() bool {
		var rows []json.RawMessage
		data, err := os.ReadFile(statsPath(dir))
		return err == nil && json.Unmarshal(data, &rows) == nil && len(rows) > done
	})
}

// after returns a channel that receives extra after reached first holds
// (polled every 5 ms, for 10 s at most: a run that never gets there is
// interrupted anyway, and the test then fails on what it finds).
func after(extra time.Duration, reached func() bool) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !reached(); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(extra)
		ch <- time.Now()
	}()
	return ch
}
