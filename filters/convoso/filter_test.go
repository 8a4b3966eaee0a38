package convoso

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/zclconf/go-cty/cty"
)

// listSource emits the test's partitions of records.
type listSource struct {
	parts [][]etl.Record
	env   etl.Env
}

func (s *listSource) Read(_ context.Context, out etl.Output) error {
	for i, part := range s.parts {
		for _, r := range part {
			if err := out.Emit(r); err != nil {
				return err
			}
		}
		if err := out.EndPartition(&etl.Mark{Source: s.env.Addr, Partition: fmt.Sprintf("p%d", i)}); err != nil {
			return err
		}
	}
	return nil
}

// seqSink keeps records and marks in the order they arrive: "id" of each
// record, "|pN" for a mark.
type seqSink struct {
	mu   sync.Mutex
	seq  []string
	recs []etl.Record
}

func (s *seqSink) Write(_ context.Context, r etl.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = append(s.seq, r.String("id"))
	s.recs = append(s.recs, r)
	return nil
}

func (s *seqSink) EndPartition(_ context.Context, m *etl.Mark, _ etl.Output) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = append(s.seq, "|"+m.Partition)
	return nil
}

type emptyConfig struct{}

// runFilter runs list → convoso_status (attrs) → seq sink against fake.
func runFilter(t *testing.T, fake *convosotest.Server, attrs string, opts etl.RunOptions, parts ...[]etl.Record) (*seqSink, *etl.Result, error) {
	t.Helper()
	reg := etl.NewRegistry()
	Register(reg)
	sink := &seqSink{}
	etl.RegisterSource(reg, etl.Spec[emptyConfig]{Type: "list"},
		func(_ *emptyConfig, env etl.Env) (etl.Source, error) { return &listSource{parts: parts, env: env}, nil })
	etl.RegisterSink(reg, etl.Spec[emptyConfig]{Type: "seq"},
		func(*emptyConfig, etl.Env) (etl.Sink, error) { return sink, nil })
	src := fmt.Sprintf(`
source "list" "in" {}
filter "convoso_status" "f" {
  input        = source.list.in
  base_url     = %q
  phone        = record.phone
  backoff_base = "5ms"
  backoff_max  = "20ms"
  timeout      = "5s"
%s
}
sink "seq" "out" {
  input = filter.convoso_status.f
}
`, fake.URL(), attrs)
	if !strings.Contains(attrs, "auth_token") {
		src = strings.Replace(src, "phone        = record.phone", fmt.Sprintf("phone        = record.phone\n  auth_token   = %q", fake.Token()), 1)
	}
	path := filepath.Join(t.TempDir(), "p.etl.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	res, err := p.Run(context.Background(), opts)
	return sink, res, err
}

func rec(id, phone string) etl.Record {
	return etl.Record{"id": cty.StringVal(id), "phone": cty.StringVal(phone)}
}

func filterBlock(res *etl.Result) etl.BlockResult {
	for _, b := range res.Blocks {
		if b.Addr.Type == "convoso_status" {
			return b
		}
	}
	return etl.BlockResult{}
}

func lead(id, list, status, modified string) convosotest.Lead {
	return convosotest.Lead{ID: id, ListID: list, Status: status, ModifiedAt: modified}
}

const (
	phCallback  = "5615550001"
	phSoldOther = "5615550002" // CALLBK latest on one list, SALE on another
	phThree     = "5615550003" // three redialable leads
	phNone      = "5615550004"
	phOnDNC     = "5615550005"
	phDNCW      = "5615550006" // DNCW: a DNC code missing from exclude_statuses
	phXfer      = "5615550007"
)

func seed(fake *convosotest.Server) {
	fake.SetLeads(phCallback, lead("11", "3862", "CALLBK", "2025-12-20 09:00:00"))
	fake.SetLeads(phSoldOther, lead("21", "3862", "CALLBK", "2025-12-20 09:00:00"), lead("22", "3863", "SALE", "2025-11-01 09:00:00"))
	fake.SetLeads(phThree, lead("31", "3801", "NA", "2025-12-02 09:00:00"), lead("32", "3802", "A", "2025-12-19 18:30:00"), lead("33", "3803", "NA", "2025-12-19 08:00:00"))
	fake.SetLeads(phOnDNC, lead("51", "3862", "NA", "2025-12-01 09:00:00"))
	fake.AddDNC(phOnDNC)
	fake.SetLeads(phDNCW, lead("61", "3862", "DNCW", "2025-12-01 09:00:00"))
	fake.SetLeads(phXfer, lead("71", "3862", "XFER", "2025-12-01 09:00:00"))
}

func allPhones() []etl.Record {
	var recs []etl.Record
	for i, p := range []string{phCallback, phSoldOther, phThree, phNone, phOnDNC, phDNCW, phXfer} {
		recs = append(recs, rec(fmt.Sprint("r", i+1), p))
	}
	return recs
}

func TestConvosoStatusRules(t *testing.T) {
	tests := []struct {
		name    string
		attrs   string
		kept    string // ids kept, in order
		dropped map[string]int64
	}{
		{
			name:    "any lead with an excluded status excludes the phone",
			attrs:   `exclude_statuses = ["SALE", "DNC"]`,
			kept:    "r1,r3,r5,r6,r7",
			dropped: map[string]int64{"excluded: SALE": 1, "not found": 1},
		},
		{
			name:    "not found kept on request",
			attrs:   "exclude_statuses = [\"SALE\"]\non_not_found = \"keep\"",
			kept:    "r1,r3,r4,r5,r6,r7",
			dropped: map[string]int64{"excluded: SALE": 1},
		},
		{
			name:    "DNC list",
			attrs:   "exclude_statuses = [\"SALE\"]\ncheck_dnc_list = true",
			kept:    "r1,r3,r6,r7",
			dropped: map[string]int64{"excluded: SALE": 1, "not found": 1, "on dnc list": 1},
		},
		{
			name:    "exclude_flags dnc catches a DNC code missing from the list",
			attrs:   "exclude_statuses = [\"SALE\"]\nexclude_flags = [\"dnc\"]",
			kept:    "r1,r3,r5,r7",
			dropped: map[string]int64{"excluded: SALE": 1, "not found": 1, "excluded: DNCW": 1},
		},
		{
			name:    "exclude_flags success",
			attrs:   `exclude_flags = ["success"]`,
			kept:    "r1,r3,r5,r6",
			dropped: map[string]int64{"excluded: SALE": 1, "not found": 1, "excluded: XFER": 1},
		},
		{
			name:    "no exclusion",
			attrs:   ``,
			kept:    "r1,r2,r3,r5,r6,r7",
			dropped: map[string]int64{"not found": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := convosotest.NewServer(convosotest.Config{})
			defer fake.Close()
			seed(fake)
			sink, res, err := runFilter(t, fake, tt.attrs, etl.RunOptions{}, allPhones())
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, r := range sink.recs {
				kept = append(kept, r.String("id"))
			}
			slices.Sort(kept) // records leave as their phone is answered
			if got := strings.Join(kept, ","); got != tt.kept {
				t.Errorf("kept %s, want %s", got, tt.kept)
			}
			b := filterBlock(res)
			if fmt.Sprint(b.Dropped) != fmt.Sprint(tt.dropped) {
				t.Errorf("dropped %v, want %v", b.Dropped, tt.dropped)
			}
			if b.Counts["phones checked"] != 7 {
				t.Errorf("phones checked %d, want 7", b.Counts["phones checked"])
			}
			// Outcomes count phones (one record each here): kept
			// first, then exclusions, the DNC list, not found.
			want := []etl.Count{{Name: "kept", N: int64(len(kept))}}
			for _, k := range slices.SortedFunc(maps.Keys(tt.dropped), func(a, b string) int {
				return cmp.Or(cmp.Compare(outcomeRank(a), outcomeRank(b)), cmp.Compare(a, b))
			}) {
				want = append(want, etl.Count{Name: k, N: tt.dropped[k]})
			}
			if b.Outcomes == nil || b.Outcomes.Of != "phones" || !slices.Equal(b.Outcomes.Counts, want) {
				t.Errorf("outcomes %+v, want %v", b.Outcomes, want)
			}
		})
	}
}

// outcomeRank orders the test's drop reasons as the report shows them
// (excluded statuses then by name).
func outcomeRank(k string) int {
	switch {
	case strings.HasPrefix(k, "excluded: "):
		return 1
	case k == "on dnc list":
		return 2
	}
	return 3
}

func TestConvosoStatusLeadFields(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{NumericFields: true})
	defer fake.Close()
	seed(fake)
	sink, _, err := runFilter(t, fake, "exclude_statuses = [\"SALE\"]\non_not_found = \"keep\"", etl.RunOptions{},
		[]etl.Record{rec("three", phThree), rec("none", phNone), rec("other", phSoldOther)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 2 {
		t.Fatalf("kept %v", sink.seq)
	}
	three, none := sink.recs[0], sink.recs[1]
	if three.String("id") != "three" {
		three, none = none, three // records leave as their phone is answered
	}
	// The latest modified_at is 2025-12-19 18:30 (lead 32), neither the
	// first lead nor the greatest id.
	if three.String("lead_id") != "32" || three.String("lead_status") != "A" || three.String("list_id") != "3802" || !three["lead_count"].RawEquals(cty.NumberIntVal(3)) {
		t.Errorf("lead fields %v", three)
	}
	if !none["lead_id"].IsNull() || !none["lead_status"].IsNull() || !none["list_id"].IsNull() || !none["lead_count"].RawEquals(cty.NumberIntVal(0)) {
		t.Errorf("not-found fields %v", none)
	}
	if three.String("phone") != phThree {
		t.Errorf("input fields lost: %v", three)
	}
}

// Records leave as their phone is answered, not in input order; a mark
// still follows every record of its partition, and marks keep their order.
func TestConvosoStatusOrderAndMarks(t *testing.T) {
	// Earlier phones answer later, so completion order is the reverse of
	// input order.
	var phones []string
	for i := 0; i < 30; i++ {
		phones = append(phones, fmt.Sprintf("56155501%02d", i))
	}
	fake := convosotest.NewServer(convosotest.Config{LatencyFor: func(p string) time.Duration {
		i := slices.Index(phones, p)
		// 20 ms steps: r0 answers 120 ms after r6, a margin a loaded
		// machine's scheduling does not eat.
		return time.Duration(len(phones)-i) * 20 * time.Millisecond
	}})
	defer fake.Close()
	var parts [][]etl.Record
	partOf := map[string]int{}
	for i, p := range phones {
		fake.SetLeads(p, lead(fmt.Sprint(i+1), "1", "NA", "2025-12-01 00:00:00"))
		if i%7 == 0 {
			parts = append(parts, nil)
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], rec(fmt.Sprint("r", i), p))
		partOf[fmt.Sprint("r", i)] = len(parts) - 1
	}
	sink, _, err := runFilter(t, fake, "concurrency = 10", etl.RunOptions{BatchSize: 1}, parts...)
	if err != nil {
		t.Fatal(err)
	}
	checkMarks(t, sink.seq, partOf, len(parts))
	if i0, i6 := slices.Index(sink.seq, "r0"), slices.Index(sink.seq, "r6"); i0 < i6 {
		t.Errorf("r0 (answered 120 ms after r6) left before it: %v", sink.seq)
	}
	// With one record per batch, more than one lookup in flight means
	// lookups overlap batches (and partitions).
	if m := fake.MaxInFlight(); m < 5 || m > 10 {
		t.Errorf("max lookups in flight %d, want between 5 and concurrency (10)", m)
	}
}

// checkMarks checks that seq holds every record of partOf once, each
// before its partition's mark, and the n marks in order.
func checkMarks(t *testing.T, seq []string, partOf map[string]int, n int) {
	t.Helper()
	marks := 0
	seen := map[string]bool{}
	for _, s := range seq {
		if strings.HasPrefix(s, "|") {
			if s != fmt.Sprintf("|p%d", marks) {
				t.Fatalf("mark %s where |p%d was due: %v", s, marks, seq)
			}
			marks++
			continue
		}
		if partOf[s] < marks {
			t.Errorf("%s left after its partition's mark: %v", s, seq)
		}
		seen[s] = true
	}
	if marks != n || len(seen) != len(partOf) {
		t.Errorf("%d marks and %d records of %d and %d: %v", marks, len(seen), n, len(partOf), seq)
	}
}

// A phone whose lookup is slow (a long Retry-After, say) holds up neither
// the records of other phones in its partition nor later partitions: they
// reach the sink while it waits. An input-order design fails this.
func TestConvosoStatusNoHeadOfLineBlocking(t *testing.T) {
	const slow = "5615550100"
	fake := convosotest.NewServer(convosotest.Config{LatencyFor: func(p string) time.Duration {
		if p == slow {
			return time.Second
		}
		return 0
	}})
	defer fake.Close()
	parts := [][]etl.Record{{rec("slow", slow)}}
	partOf := map[string]int{"slow": 0}
	for i := 1; i <= 40; i++ {
		p := fmt.Sprintf("56155502%02d", i)
		fake.SetLeads(p, lead(fmt.Sprint(i), "1", "NA", "2025-12-01 00:00:00"))
		if i%10 == 0 {
			parts = append(parts, nil)
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], rec(p, p))
		partOf[p] = len(parts) - 1
	}
	fake.SetLeads(slow, lead("99", "1", "NA", "2025-12-01 00:00:00"))
	sink, _, err := runFilter(t, fake, "concurrency = 4", etl.RunOptions{BatchSize: 1}, parts...)
	if err != nil {
		t.Fatal(err)
	}
	checkMarks(t, sink.seq, partOf, len(parts))
	// Everything but the slow phone's record and the marks waiting on it
	// left before it.
	if i := slices.Index(sink.seq, "slow"); i != 40 {
		t.Errorf("the slow phone's record left at position %d, want 40 (after every other record): %v", i, sink.seq)
	}
}

func TestConvosoStatusRepeatedPhoneLookedUpOnce(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{Latency: 5 * time.Millisecond})
	defer fake.Close()
	seed(fake)
	sink, res, err := runFilter(t, fake, `exclude_statuses = ["SALE"]`, etl.RunOptions{BatchSize: 2},
		[]etl.Record{rec("a", phCallback), rec("b", phSoldOther), rec("c", "(561) 555-0001")}, []etl.Record{rec("d", phCallback), rec("e", phSoldOther)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sink.seq, ","); got != "a,c,|p0,d,|p1" && got != "a,c,d,|p0,|p1" {
		t.Errorf("output %s", got)
	}
	if n := fake.Count(convosotest.LeadsPath, 0); n != 2 {
		t.Errorf("%d lead searches for 2 distinct phones", n)
	}
	b := filterBlock(res)
	if b.Counts["phones checked"] != 2 || b.Counts["lookups reused"] != 3 || b.Dropped["excluded: SALE"] != 2 {
		t.Errorf("counts %v dropped %v", b.Counts, b.Dropped)
	}
}

// A lead without a status is a counted skip of its phone, never a panic and
// never a redial; an excluded status on another lead still names the drop.
func TestConvosoStatusLeadWithoutStatus(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{})
	defer fake.Close()
	fake.SetLeads(phCallback, lead("11", "3862", "CALLBK", "2025-12-20 09:00:00"), lead("12", "3863", "", "2025-12-21 09:00:00"))
	fake.SetLeads(phSoldOther, lead("21", "3862", "", "2025-12-20 09:00:00"), lead("22", "3863", "SALE", "2025-11-01 09:00:00"))
	_, res, err := runFilter(t, fake, `exclude_statuses = ["SALE"]`, etl.RunOptions{}, []etl.Record{rec("a", phCallback), rec("b", phSoldOther)})
	if err != nil {
		t.Fatal(err)
	}
	b := filterBlock(res)
	if b.Out != 0 || b.Dropped["lead without status"] != 1 || b.Dropped["excluded: SALE"] != 1 {
		t.Errorf("out %d dropped %v", b.Out, b.Dropped)
	}
}

func TestConvosoStatusInvalidPhones(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{})
	defer fake.Close()
	seed(fake)
	r := rec("nil", "")
	r["phone"] = cty.NullVal(cty.String)
	_, res, err := runFilter(t, fake, ``, etl.RunOptions{}, []etl.Record{r, rec("short", "555-0001"), rec("ok", phCallback)})
	if err != nil {
		t.Fatal(err)
	}
	b := filterBlock(res)
	if b.Out != 1 || b.Dropped["no phone"] != 1 || len(b.Dropped) != 2 {
		t.Errorf("out %d dropped %v", b.Out, b.Dropped)
	}
	if n := fake.Count(convosotest.LeadsPath, 0); n != 1 {
		t.Errorf("%d lead searches, want only the valid phone's", n)
	}
}

func TestConvosoStatusAuthFailure(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{Token: "the-right-one"})
	defer fake.Close()
	var recs []etl.Record
	for i := 0; i < 200; i++ {
		recs = append(recs, rec(fmt.Sprint(i), fmt.Sprintf("561555%04d", i)))
	}
	const token = "s3cr3t-wrong-token"
	_, _, err := runFilter(t, fake, fmt.Sprintf("auth_token = %q\nconcurrency = 4\nmax_retries = 5", token), etl.RunOptions{}, recs)
	if err == nil {
		t.Fatal("run with a refused token succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "Auth token is invalid") || !strings.Contains(msg, "5001") || strings.Contains(msg, token) {
		t.Errorf("error %q: want Convoso's text and code, never the token", msg)
	}
	// At once: no retries, and no more than the lookups already in flight.
	if n := fake.Count("", 0); n > 4+4 {
		t.Errorf("%d requests before stopping; want at most a couple of rounds of concurrency 4", n)
	}
}

func TestConvosoStatusOtherAPIError(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{})
	defer fake.Close()
	seed(fake)
	fake.SetError(phThree, convosotest.APIError{Code: 7007, Text: "Search temporarily unavailable"})
	_, _, err := runFilter(t, fake, "max_retries = 2", etl.RunOptions{}, allPhones())
	if err == nil {
		t.Fatal("run succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "******0003") || strings.Contains(msg, phThree) || !strings.Contains(msg, "7007") || strings.Contains(msg, fake.Token()) {
		t.Errorf("error %q: want the masked phone and the code", msg)
	}
	if n := len(filterRequests(fake, phThree)); n != 3 {
		t.Errorf("%d requests for the failing phone, want 1 + max_retries (2)", n)
	}
}

func filterRequests(fake *convosotest.Server, phone string) []convosotest.Request {
	var out []convosotest.Request
	for _, r := range fake.Requests() {
		if r.Phone == phone {
			out = append(out, r)
		}
	}
	return out
}

// TestConvosoStatusFailOnce: 1 phone in 10 answers 500 once; every phone
// is still checked exactly once, and the result is what the fake expects.
func TestConvosoStatusFailOnce(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{Fail500Once: convosotest.EveryNth(10)})
	defer fake.Close()
	var phones []string
	var recs []etl.Record
	for i := 0; i < 200; i++ {
		p := fmt.Sprintf("561555%04d", i)
		phones = append(phones, p)
		recs = append(recs, rec(p, p))
	}
	fake.Seed(phones)
	sink, res, err := runFilter(t, fake, "exclude_statuses = [\"SALE\", \"DNC\"]\nexclude_flags = [\"dnc\"]\ncheck_dnc_list = true\nconcurrency = 16", etl.RunOptions{}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.Count(convosotest.LeadsPath, 500); n != 20 {
		t.Errorf("%d answers 500, want 20", n)
	}
	answered := fake.Answered()
	for _, p := range phones {
		if answered[p] != 1 {
			t.Errorf("%s answered %d times", p, answered[p])
		}
	}
	kept := map[string]etl.Record{}
	for _, r := range sink.recs {
		kept[r.String("id")] = r
	}
	rules := convosotest.Rules{ExcludeStatuses: []string{"SALE", "DNC"}, ExcludeFlags: []string{"dnc"}, CheckDNCList: true}
	reasons := map[string]int64{}
	for _, p := range phones {
		e := fake.Expect(p, rules)
		r, ok := kept[p]
		if ok != e.Kept {
			t.Errorf("%s: kept %v, want %+v", p, ok, e)
			continue
		}
		if !ok {
			reasons[e.Reason]++
		} else if r.String("lead_id") != e.LeadID || r.String("lead_status") != e.LeadStatus {
			t.Errorf("%s: lead %s %s, want %+v", p, r.String("lead_id"), r.String("lead_status"), e)
		}
	}
	b := filterBlock(res)
	if fmt.Sprint(b.Dropped) != fmt.Sprint(reasons) {
		t.Errorf("dropped %v, want %v", b.Dropped, reasons)
	}
	if b.Counts["phones checked"] != 200 || b.Counts["retries"] != 20 {
		t.Errorf("counts %v", b.Counts)
	}
}

func TestConvosoStatusRateLimit(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{RequestsPerSecond: 100})
	defer fake.Close()
	var recs []etl.Record
	for i := 0; i < 40; i++ {
		recs = append(recs, rec(fmt.Sprint(i), fmt.Sprintf("561555%04d", i)))
	}
	start := time.Now()
	_, _, err := runFilter(t, fake, "requests_per_second = 100\nconcurrency = 20\non_not_found = \"keep\"", etl.RunOptions{}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.Count("", 429); n != 0 {
		t.Errorf("%d answers 429 at the fake's own rate", n)
	}
	if el := time.Since(start); el < 350*time.Millisecond {
		t.Errorf("40 requests at 100/s took %s", el)
	}
}

func TestConvosoStatusValidate(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{})
	defer fake.Close()
	for attrs, want := range map[string]string{
		`on_not_found = "maybe"`:    "on_not_found must be",
		`on_lookup_error = "retry"`: "on_lookup_error must be",
		`exclude_flags = ["vip"]`:   "exclude_flags may hold",
		`concurrency = 0`:           "concurrency must be",
		`auth_token = ""`:           "auth_token is empty",
	} {
		reg := etl.NewRegistry()
		Register(reg)
		etl.RegisterSource(reg, etl.Spec[emptyConfig]{Type: "list"},
			func(_ *emptyConfig, env etl.Env) (etl.Source, error) { return &listSource{env: env}, nil })
		tok := `auth_token = "x"`
		if strings.Contains(attrs, "auth_token") {
			tok = ""
		}
		src := fmt.Sprintf("source \"list\" \"in\" {}\nfilter \"convoso_status\" \"f\" {\ninput = source.list.in\nphone = record.phone\n%s\n%s\n}\n", tok, attrs)
		path := filepath.Join(t.TempDir(), "p.etl.hcl")
		os.WriteFile(path, []byte(src), 0o644)
		_, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
		found := false
		for _, d := range diags {
			found = found || strings.Contains(d.Detail, want)
		}
		if !diags.HasErrors() || !found {
			t.Errorf("%s: diagnostics %v, want %q", attrs, diags, want)
		}
	}
}

// TestConvosoStatusProgress: the run's final progress event counts the
// phones and requests through the Meter the filter gives its client and
// lookups.
func TestConvosoStatusProgress(t *testing.T) {
	fake := convosotest.NewServer(convosotest.Config{})
	defer fake.Close()
	seed(fake)
	var mu sync.Mutex
	var final etl.Progress
	opts := etl.RunOptions{ProgressEvery: time.Hour, Events: etl.ReporterFunc(func(e etl.Event) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := etl.ProgressOf(e); ok && p.Final {
			final = p
		}
	})}
	if _, _, err := runFilter(t, fake, "exclude_statuses = [\"SALE\"]\ncheck_dnc_list = true", opts, allPhones()); err != nil {
		t.Fatal(err)
	}
	var fp *etl.BlockProgress
	for i, b := range final.Blocks {
		if b.Block == "filter.convoso_status.f" {
			fp = &final.Blocks[i]
		}
	}
	if fp == nil || fp.Keys == nil {
		t.Fatalf("final progress %+v has no keys for the filter", final)
	}
	// 7 phones: at least a lead search each.
	if fp.Keys.Done != 7 || fp.Keys.Known != 7 || fp.Keys.Unit != "phones" || fp.Requests < 7 || fp.Bytes == 0 {
		t.Errorf("filter progress %+v keys %+v", *fp, *fp.Keys)
	}
}
