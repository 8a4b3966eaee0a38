package pipelines_test

import (
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

// TestBackfillKillRefetchesOnlyDatesInFlight measures what a SIGKILL costs:
// 30 dates of 200 calls over 1,000 phones, every request taking 300 ms
// (Bland and Convoso alike). The run is killed at several points, each a
// random moment after the checkpoint has gained a date, and resumed; the
// dates requested again after a kill must be at most the source's
// concurrency (4): the dates in flight, fetched or on their way to their
// commit, not every date whose lookups were still going on (the rule
// before: 20 to 26 dates here).
func TestBackfillKillRefetchesOnlyDatesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	const concurrency, nDates, nPhones = 4, 30, 1000
	dir := setup(t)
	f := startFakesWith(t,
		blandtest.Config{Seed: 11, CallsPerDay: 200, PhonePool: nPhones, PayloadBytes: 100, Latency: 300 * time.Millisecond},
		convosotest.Config{Latency: 300 * time.Millisecond})
	args := append([]string{"run"}, f.args(dir)...)
	for i, a := range args {
		if a == "end_date="+endDate {
			args[i] = "end_date=2025-12-30"
		}
	}
	state := filepath.Join(dir, "state")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills, worst := 0, 0
	for attempt := 0; attempt < 8; attempt++ {
		seen := len(f.bland.Requests())
		requested := map[string]bool{}
		for _, r := range f.bland.Requests() {
			requested[r.Date] = true
		}
		doneBefore := len(checkpointDates(state))
		cmd, out := subprocess(t, args...)
		finished := make(chan error, 1)
		go func() { finished <- cmd.Wait() }()
		killed := false
		if kills < 3 && doneBefore < nDates-6 {
			select {
			case err := <-finished:
				if err != nil {
					t.Fatalf("attempt %d failed: %v\n%s", attempt, err, out)
				}
			case <-afterProgress(dir, doneBefore, time.Duration(200+rng.IntN(600))*time.Millisecond):
				cmd.Process.Signal(syscall.SIGKILL)
				<-finished
				killed = true
				kills++
			}
		} else if err := <-finished; err != nil {
			t.Fatalf("attempt %d failed: %v\n%s", attempt, err, out)
		}
		if attempt > 0 {
			again := 0
			for _, r := range f.bland.Requests()[seen:] {
				if requested[r.Date] {
					again++
					requested[r.Date] = false // count a date once
				}
			}
			t.Logf("attempt %d (after kill %d): %d date(s) requested again", attempt, kills-btoi(killed), again)
			worst = max(worst, again)
			if again > concurrency {
				t.Errorf("attempt %d requested %d dates again, more than the source's concurrency (%d)", attempt, again, concurrency)
			}
		}
		if !killed {
			break
		}
	}
	if kills == 0 {
		t.Fatal("no run was killed")
	}
	t.Logf("%d kills: at most %d date(s) fetched again per kill", kills, worst)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
