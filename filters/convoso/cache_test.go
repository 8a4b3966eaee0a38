package convoso

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/store"
	"github.com/etlhq/etl/filters/convoso/convosotest"
)

// flakyFake answers one lead search in three with 500 (a phone's first
// only, so that no phone but the victim runs out of retries) and, while broken
// is set, every search for the n-th distinct phone it is asked about: that
// phone runs out of retries. It returns the fake and the phones, seeded.
func flakyFake(t *testing.T, phones, n int, broken *atomic.Bool) (*convosotest.Server, []string, *string) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	searches := 0
	victim := new(string)
	fake := convosotest.NewServer(convosotest.Config{Fail500: func(ph string, attempt int) bool {
		mu.Lock()
		defer mu.Unlock()
		if !seen[ph] {
			seen[ph] = true
			if len(seen) == n {
				*victim = ph
			}
		}
		if ph == *victim && broken.Load() {
			return true
		}
		searches++
		return searches%3 == 0 && attempt == 1
	}})
	t.Cleanup(fake.Close)
	var list []string
	for i := 0; i < phones; i++ {
		list = append(list, fmt.Sprintf("561555%04d", i))
	}
	fake.Seed(list)
	return fake, list, victim
}

// partsOf splits phones into partitions of size records.
func partsOf(phones []string, size int) [][]etl.Record {
	var parts [][]etl.Record
	for i := 0; i < len(phones); i += size {
		var part []etl.Record
		for _, p := range phones[i:min(i+size, len(phones))] {
			part = append(part, rec(p, p))
		}
		parts = append(parts, part)
	}
	return parts
}

// newState returns the state the runs of a test share: running again
// with it resumes, as etl run does with its state directory.
func newState(t *testing.T) *store.Store {
	t.Helper()
	st := store.OpenMem()
	t.Cleanup(func() { st.Close() })
	return st
}

// answeredIn returns the phones whose lead search was answered with
// success among reqs, and every phone searched.
func answeredIn(reqs []convosotest.Request) (answered, searched map[string]bool) {
	answered, searched = map[string]bool{}, map[string]bool{}
	for _, r := range reqs {
		if r.Path != convosotest.LeadsPath {
			continue
		}
		searched[r.Phone] = true
		if r.Status == 200 && r.Code == 0 {
			answered[r.Phone] = true
		}
	}
	return answered, searched
}

// cacheKeys is the prefix of the filter's cache in the state: the
// layout etl documents (cache/STAGE NUL KEY, see etl/state.go).
var cacheKeys = []byte("cache/filter.convoso_status.f\x00")

// savedPhones returns the phones whose answers the state holds.
func savedPhones(t *testing.T, st *store.Store) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := st.Scan(cacheKeys, func(k, v []byte) error {
		key := string(k[len(cacheKeys):])
		if key == string(settingsKey) {
			return nil
		}
		if _, err := new(Filter).decodeAnswer(v); err != nil {
			t.Errorf("saved answer for %s: %v", key, err)
		}
		out[key] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// messages is a Reporter keeping the events' messages.
type messages struct {
	mu   sync.Mutex
	list []string
}

func (m *messages) Report(e etl.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.list = append(m.list, e.Message)
}

func (m *messages) has(s string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.ContainsFunc(m.list, func(msg string) bool { return strings.Contains(msg, s) })
}

const flakyAttrs = "exclude_statuses = [\"SALE\", \"DNC\"]\nconcurrency = 1\nmax_retries = 3"

// A flaky API makes one phone run out of retries: the run fails, and the
// resumed run asks only about the phones the failed one had no answer for,
// then gives what a clean run gives. (Concurrency 1: other phones are
// looked up while the victim waits to retry, and at most the one request
// in flight when the failure stops the run is answered and not obtained.)
func TestConvosoResumeReusesAnswers(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	fake, phones, victim := flakyFake(t, 60, 40, &broken)
	st := newState(t)

	_, _, err := runFilter(t, fake, flakyAttrs, etl.RunOptions{State: st}, partsOf(phones, 20)...)
	if err == nil || !strings.Contains(err.Error(), "******"+(*victim)[6:]) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("run 1: %v; want the victim phone's failure", err)
	}
	first := fake.Requests()
	answered, _ := answeredIn(first)
	if len(answered) < 39 || answered[*victim] {
		t.Fatalf("run 1 was answered for %d phones (victim %v), want the 39 before the victim at least", len(answered), answered[*victim])
	}
	saved := savedPhones(t, st)
	for ph := range saved {
		if !answered[ph] {
			t.Errorf("the checkpoint holds an answer for %s, which the fake never gave", ph)
		}
	}
	if len(saved) < len(answered)-1 {
		t.Fatalf("the checkpoint holds the answers of %d phones, want the %d answered (one in flight aside)", len(saved), len(answered))
	}

	broken.Store(false)
	sink, res, err := runFilter(t, fake, flakyAttrs, etl.RunOptions{State: st}, partsOf(phones, 20)...)
	if err != nil {
		t.Fatal(err)
	}
	_, searched := answeredIn(fake.Requests()[len(first):])
	for ph := range searched {
		if saved[ph] {
			t.Errorf("the resumed run asked again about %s, answered by the failed run", ph)
		}
	}
	if len(searched) != len(phones)-len(saved) {
		t.Errorf("the resumed run asked about %d phones, want the %d not answered", len(searched), len(phones)-len(saved))
	}
	if n := filterBlock(res).Counts["lookups resumed"]; n != int64(len(saved)) {
		t.Errorf("lookups resumed = %d, want %d", n, len(saved))
	}
	checkKept(t, fake, phones, sink)
	if saved := savedPhones(t, st); len(saved) != 0 {
		t.Errorf("the completed run left %d answers in the checkpoint", len(saved))
	}
	// The list source reads every partition again, done or not: the
	// checkpoint names each at least once.
	cp, err := etl.ReadCheckpoint(st)
	if err != nil || cp == nil {
		t.Fatalf("no checkpoint (%v)", err)
	}
	for _, p := range []string{"p0", "p1", "p2"} {
		if !cp.Done("source.list.in", p) {
			t.Errorf("the checkpoint lacks %s: %+v", p, cp.Sources)
		}
	}
}

// checkKept compares what the sink got with the fake's expectations.
func checkKept(t *testing.T, fake *convosotest.Server, phones []string, sink *seqSink) {
	t.Helper()
	kept := map[string]bool{}
	for _, r := range sink.recs {
		kept[r.String("id")] = true
	}
	for _, p := range phones {
		if e := fake.Expect(p, convosotest.Rules{ExcludeStatuses: []string{"SALE", "DNC"}}); e.Kept != kept[p] {
			t.Errorf("%s: kept %v, want %+v", p, kept[p], e)
		}
	}
}

// A run that completed keeps no answers: running it again asks about
// every phone.
func TestConvosoCompletedRunLooksUpAfresh(t *testing.T) {
	var broken atomic.Bool
	fake, phones, _ := flakyFake(t, 30, 0, &broken)
	st := newState(t)
	for run := 1; run <= 2; run++ {
		before := len(fake.Requests())
		if _, _, err := runFilter(t, fake, flakyAttrs, etl.RunOptions{State: st}, partsOf(phones, 10)...); err != nil {
			t.Fatal(err)
		}
		if _, searched := answeredIn(fake.Requests()[before:]); len(searched) != len(phones) {
			t.Errorf("run %d asked about %d phones, want all %d", run, len(searched), len(phones))
		}
	}
}

// Answers made with other settings are not reused: the resumed run asks
// again, and says why.
func TestConvosoAnswersWithOtherSettingsNotReused(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	fake, phones, _ := flakyFake(t, 30, 20, &broken)
	st := newState(t)
	if _, _, err := runFilter(t, fake, flakyAttrs, etl.RunOptions{State: st}, partsOf(phones, 10)...); err == nil {
		t.Fatal("run 1 succeeded")
	}
	if saved := savedPhones(t, st); len(saved) == 0 {
		t.Fatal("run 1 saved no answer: nothing to drop")
	}
	broken.Store(false)
	before := len(fake.Requests())
	said := &messages{}
	opts := etl.RunOptions{State: st, Events: said}
	edited := strings.Replace(flakyAttrs, `"SALE", "DNC"`, `"SALE", "DNC", "NI"`, 1)
	if _, _, err := runFilter(t, fake, edited, opts, partsOf(phones, 10)...); err != nil {
		t.Fatal(err)
	}
	if _, searched := answeredIn(fake.Requests()[before:]); len(searched) != len(phones) {
		t.Errorf("asked about %d phones after exclude_statuses changed, want all %d", len(searched), len(phones))
	}
	if !said.has("made with other settings") {
		t.Errorf("the report does not say why the answers were dropped: %q", said.list)
	}
}

// With on_lookup_error = "skip", a phone whose lookup keeps failing is
// dropped as "lookup failed", listed masked in Skipped, counted in the
// summary line, and not saved as an answer; the run completes.
func TestConvosoSkipFailedLookup(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{})
	defer fake.Close()
	seed(fake)
	fake.SetError(phThree, convosotest.APIError{Code: 7007, Text: "Search temporarily unavailable"})
	said := &messages{}
	// The answers the state holds when the partition is committed (a
	// completed run empties them at its end).
	st := newState(t)
	var savedCache map[string]bool
	opts := etl.RunOptions{
		State: st,
		Events: etl.ReporterFunc(func(e etl.Event) {
			said.Report(e)
			if e.Type == etl.EventPartition && e.Data["checkpoint"] == true {
				savedCache = savedPhones(t, st)
			}
		}),
	}
	sink, res, err := runFilter(t, fake, "max_retries = 1\non_lookup_error = \"skip\"", opts, allPhones())
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(sink.seq, "r3") {
		t.Errorf("the skipped phone's record was emitted: %v", sink.seq)
	}
	b := filterBlock(res)
	if b.Dropped["lookup failed"] != 1 || res.Skipped() != 1 {
		t.Fatalf("dropped %v, skipped %v", b.Dropped, b.Skipped)
	}
	if s := b.Skipped[0]; !strings.HasPrefix(s, "phone ******0003: ") || !strings.Contains(s, "7007") || strings.Contains(s, phThree) || strings.Contains(s, fake.Token()) {
		t.Errorf("skipped line %q: want the masked phone and the cause", s)
	}
	if !said.has("| lookup failed 1 |") {
		t.Errorf("the summary line does not count the phone: %q", said.list)
	}
	if saved := savedCache; len(saved) != 6 || saved[phThree] {
		t.Errorf("the checkpoint holds answers for %v; want the 6 other phones", slices.Sorted(maps.Keys(saved)))
	}
	// A plan with --unmask shows the phone whole.
	_, res, err = runFilter(t, fake, "max_retries = 0\non_lookup_error = \"skip\"", etl.RunOptions{Plan: true, Unmask: true}, allPhones())
	if err != nil || res.Skipped() != 1 || !strings.HasPrefix(filterBlock(res).Skipped[0], "phone "+phThree+": ") {
		t.Errorf("unmasked: %v %v", err, filterBlock(res).Skipped)
	}
}

// The default, on_lookup_error = "fail", still fails the run.
func TestConvosoLookupErrorFailsByDefault(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{Fail500: func(ph string, _ int) bool { return ph == phThree }})
	defer fake.Close()
	seed(fake)
	_, res, err := runFilter(t, fake, "max_retries = 1", etl.RunOptions{}, allPhones())
	if err == nil || !strings.Contains(err.Error(), "******0003") {
		t.Fatalf("run: %v, want the failure of ******0003", err)
	}
	if res.Skipped() != 0 {
		t.Errorf("skipped %d", res.Skipped())
	}
}
