// Command bench measures convoso_status against the convosotest fake, and
// the backfill-shaped pipeline source → dedupe_latest → convoso_status in
// both emit modes. scripts/bench_convoso.sh runs it; it prints medians.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/filters/convoso"
	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/filters/dedupe"
	"github.com/zclconf/go-cty/cty"
)

func main() {
	phones := flag.Int("phones", 2000, "distinct phones")
	latency := flag.Duration("latency", 20*time.Millisecond, "fake latency per request")
	concurrency := flag.Int("concurrency", 50, "lookups in flight")
	rps := flag.Float64("rps", 100, "requests_per_second for the rate-limited run (and the fake's limit)")
	runs := flag.Int("runs", 3, "runs per figure; medians are reported")
	ratePhones := flag.Int("rate-phones", 2000, "phones for the rate-limited run")
	dates := flag.Int("dates", 20, "backfill: source partitions (dates)")
	perDate := flag.Duration("date-time", 50*time.Millisecond, "backfill: time the source spends fetching each date")
	callsPerPhone := flag.Int("calls-per-phone", 3, "backfill: calls per phone")
	flag.Parse()
	if err := run(*phones, *latency, *concurrency, *rps, *runs, *ratePhones, *dates, *perDate, *callsPerPhone); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(phones int, latency time.Duration, concurrency int, rps float64, runs, ratePhones, dates int, perDate time.Duration, callsPerPhone int) error {
	dir, err := os.MkdirTemp("", "bench-convoso")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1. Concurrency bound.
	bound := time.Duration(phones) * latency / time.Duration(concurrency)
	times, n429, err := repeat(runs, func() (time.Duration, int, error) {
		return lookupRun(dir, phones, latency, concurrency, 0, 0)
	})
	if err != nil {
		return err
	}
	report(fmt.Sprintf("%d phones, %s latency, concurrency %d", phones, latency, concurrency),
		times, bound, "phones×latency÷concurrency", n429)

	// 2. Rate bound, the fake limiting at the same rate.
	bound = time.Duration(float64(ratePhones) / rps * float64(time.Second))
	times, n429, err = repeat(runs, func() (time.Duration, int, error) {
		return lookupRun(dir, ratePhones, latency, concurrency, rps, rps)
	})
	if err != nil {
		return err
	}
	report(fmt.Sprintf("%d phones, requests_per_second %g (fake limit %g/s)", ratePhones, rps, rps),
		times, bound, "phones÷rate", n429)

	// 3. Backfill shape: a source fetching dates one after the other, then
	// dedupe_latest, then convoso_status.
	fmt.Printf("\nbackfill: %d dates × %s fetch, %d phones × %d calls → dedupe_latest → convoso_status (%s latency, concurrency %d)\n",
		dates, perDate, phones, callsPerPhone, latency, concurrency)
	medians := map[string]time.Duration{}
	for _, emit := range []string{dedupe.EmitEnd, dedupe.EmitUpdates} {
		times, _, err := repeat(runs, func() (time.Duration, int, error) {
			return backfillRun(dir, emit, phones, callsPerPhone, dates, perDate, latency, concurrency)
		})
		if err != nil {
			return err
		}
		medians[emit] = median(times)
		fmt.Printf("  emit = %-9q median %8s  (runs %v)\n", emit, medians[emit].Round(time.Millisecond), rounded(times))
	}
	source := time.Duration(dates) * perDate
	lookups := time.Duration(phones) * latency / time.Duration(concurrency)
	fmt.Printf("  source alone %s, lookups alone %s: \"end\" can do no better than their sum, \"updates\" than the larger\n", source, lookups)
	faster, slower := dedupe.EmitUpdates, dedupe.EmitEnd
	if medians[dedupe.EmitEnd] < medians[dedupe.EmitUpdates] {
		faster, slower = slower, faster
	}
	fmt.Printf("  faster end to end: emit = %q (%s vs %s, %.2f×)\n", faster,
		medians[faster].Round(time.Millisecond), medians[slower].Round(time.Millisecond),
		float64(medians[slower])/float64(medians[faster]))
	return nil
}

func report(what string, times []time.Duration, bound time.Duration, boundName string, n429 int) {
	m := median(times)
	verdict := "OK"
	if float64(m) > 1.2*float64(bound) {
		verdict = "ABOVE TARGET"
	}
	fmt.Printf("%s\n  median %8s  bound (%s) %8s  ratio %.2f (target ≤ 1.20: %s)  429s %d  (runs %v)\n",
		what, m.Round(time.Millisecond), boundName, bound.Round(time.Millisecond), float64(m)/float64(bound), verdict, n429, rounded(times))
}

func repeat(runs int, f func() (time.Duration, int, error)) ([]time.Duration, int, error) {
	var times []time.Duration
	total429 := 0
	for i := 0; i < runs; i++ {
		d, n, err := f()
		if err != nil {
			return nil, 0, err
		}
		times = append(times, d)
		total429 += n
	}
	return times, total429, nil
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rounded(ts []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = t.Round(time.Millisecond)
	}
	return out
}

func phoneList(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("561%07d", 2000000+i)
	}
	return out
}

// lookupRun times source → convoso_status → discard over n distinct phones.
func lookupRun(dir string, n int, latency time.Duration, concurrency int, rps, fakeRPS float64) (time.Duration, int, error) {
	fake := convosotest.NewServer(convosotest.Config{Latency: latency, RequestsPerSecond: fakeRPS})
	defer fake.Close()
	phones := phoneList(n)
	fake.Seed(phones)
	var recs []etl.Record
	for i, p := range phones {
		recs = append(recs, etl.Record{"id": cty.NumberIntVal(int64(i)), "phone": cty.StringVal(p)})
	}
	src := fmt.Sprintf(`
source "bench" "calls" {}
filter "convoso_status" "f" {
  input               = source.bench.calls
  base_url            = %q
  auth_token          = %q
  phone               = record.phone
  exclude_statuses    = ["SALE", "DNC"]
  concurrency         = %d
  requests_per_second = %g
  on_not_found        = "keep"
}
sink "discard" "out" { input = filter.convoso_status.f }
`, fake.URL(), fake.Token(), concurrency, rps)
	d, err := runPipeline(dir, src, [][]etl.Record{recs}, 0)
	if err != nil {
		return 0, 0, err
	}
	if got := len(fake.Answered()); got != n {
		return 0, 0, fmt.Errorf("%d phones answered, want %d", got, n)
	}
	return d, fake.Count("", 429), nil
}

// backfillRun times the backfill shape in one emit mode.
func backfillRun(dir, emit string, phones, callsPerPhone, dates int, perDate, latency time.Duration, concurrency int) (time.Duration, int, error) {
	fake := convosotest.NewServer(convosotest.Config{Latency: latency})
	defer fake.Close()
	list := phoneList(phones)
	fake.Seed(list)
	// Calls spread over the dates; each phone called callsPerPhone times
	// on different dates, as a campaign redials.
	parts := make([][]etl.Record, dates)
	id := 0
	for c := 0; c < callsPerPhone; c++ {
		for i, p := range list {
			date := (i + c*dates/callsPerPhone) % dates
			parts[date] = append(parts[date], etl.Record{
				"call_id":    cty.StringVal(fmt.Sprintf("c%06d", id)),
				"phone":      cty.StringVal(p),
				"created_at": etl.TimeVal(time.Date(2025, 12, 1+date, 9, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second)),
			})
			id++
		}
	}
	src := fmt.Sprintf(`
source "bench" "calls" {}
transform "dedupe_latest" "latest_call" {
  input    = source.bench.calls
  key      = record.phone
  order_by = record.created_at
  emit     = %q
}
filter "convoso_status" "f" {
  input            = transform.dedupe_latest.latest_call
  base_url         = %q
  auth_token       = %q
  phone            = record.phone
  exclude_statuses = ["SALE", "DNC"]
  concurrency      = %d
}
sink "discard" "out" { input = filter.convoso_status.f }
`, emit, fake.URL(), fake.Token(), concurrency)
	d, err := runPipeline(dir, src, parts, perDate)
	if err != nil {
		return 0, 0, err
	}
	if got := fake.Count(convosotest.LeadsPath, 200); got != phones {
		return 0, 0, fmt.Errorf("emit %s: %d lead searches, want %d (one per phone)", emit, got, phones)
	}
	return d, 0, nil
}

// source emits the given partitions, waiting fetch before each, as an
// API source fetching one date at a time would.
type source struct {
	parts [][]etl.Record
	fetch time.Duration
	env   etl.Env
}

func (s *source) Read(ctx context.Context, out etl.Output) error {
	for i, part := range s.parts {
		select {
		case <-time.After(s.fetch):
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, r := range part {
			if err := out.Emit(r); err != nil {
				return err
			}
		}
		if err := out.EndPartition(&etl.Mark{Source: s.env.Addr, Partition: fmt.Sprintf("d%02d", i)}); err != nil {
			return err
		}
	}
	return nil
}

type discard struct{}

func (discard) Write(context.Context, etl.Record) error { return nil }

type empty struct{}

func runPipeline(dir, src string, parts [][]etl.Record, fetch time.Duration) (time.Duration, error) {
	reg := etl.NewRegistry()
	convoso.Register(reg)
	dedupe.Register(reg)
	etl.RegisterSource(reg, etl.Spec[empty]{Type: "bench", Summary: "bench records"},
		func(_ *empty, env etl.Env) (etl.Source, error) {
			return &source{parts: parts, fetch: fetch, env: env}, nil
		})
	etl.RegisterSink(reg, etl.Spec[empty]{Type: "discard", Summary: "drops records"},
		func(*empty, etl.Env) (etl.Sink, error) { return discard{}, nil })
	path := filepath.Join(dir, "bench.etl.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		return 0, err
	}
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		return 0, diags
	}
	start := time.Now()
	_, err := p.Run(context.Background(), etl.RunOptions{Logger: slog.New(slog.DiscardHandler)})
	return time.Since(start), err
}
