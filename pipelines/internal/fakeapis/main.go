package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

func main() {
	calls := flag.Int("calls-per-day", 0, "calls the Bland fake serves on every date alike (the duplicate included), as the benchmarks want; without it, the demo's data (see -weekday-calls)")
	weekday := flag.Int("weekday-calls", 300, "without -calls-per-day: calls on a typical weekday of the demo's call-center data, which varies by date (weekends, holidays, batch days)")
	phones := flag.Int("phones", 2000, "distinct lead phones the calls go to; Convoso is seeded with all of them, and with the phones of pipelines/testdata/leads.csv")
	payload := flag.Int("payload-bytes", 2000, "length of each call's summary, which clients skip")
	blandLatency := flag.Duration("bland-latency", 5*time.Millisecond, "delay of every Bland response (the least, with -bland-latency-max)")
	blandLatencyMax := flag.Duration("bland-latency-max", 0, "with it, each Bland response waits a uniform random time from -bland-latency to this")
	convosoLatency := flag.Duration("convoso-latency", 2*time.Millisecond, "delay of every Convoso answer (the least, with -convoso-latency-max)")
	convosoLatencyMax := flag.Duration("convoso-latency-max", 0, "with it, each Convoso answer waits a uniform random time from -convoso-latency to this")
	every500 := flag.Int("every-500", 0, "each fake answers every Nth request 500 (0: none)")
	every429 := flag.Int("every-429", 0, "each fake answers every Nth request 429 with Retry-After: 1 (0: none)")
	convosoRPS := flag.Float64("convoso-rps", 0, "requests per second above which Convoso answers 429 (0: no limit)")
	seed := flag.Int64("seed", 2025, "seed of the generated calls")
	flag.Parse()
	if *calls < 0 || *weekday <= 0 || *phones <= 0 {
		fmt.Fprintln(os.Stderr, "fakeapis: -calls-per-day, -weekday-calls and -phones must be positive")
		os.Exit(64)
	}

	// Signals are caught before the settings are printed, so a client that
	// kills us as soon as it has read them still gets the counts.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	bcfg := blandtest.Demo(*weekday, *phones)
	if *calls > 0 { // uniform volume: bench figures stay comparable across data-set changes
		bcfg.Traffic, bcfg.CallsPerDay = nil, *calls
	}
	bcfg.Seed, bcfg.PayloadBytes = *seed, *payload
	bcfg.Latency, bcfg.LatencyMax = *blandLatency, *blandLatencyMax
	bcfg.Every500, bcfg.Every429 = *every500, *every429
	bland := blandtest.NewServer(bcfg)
	defer bland.Close()
	convoso := convosotest.NewServer(convosotest.Config{Latency: *convosoLatency, LatencyMax: *convosoLatencyMax,
		Every500: *every500, Every429: *every429, RequestsPerSecond: *convosoRPS})
	defer convoso.Close()
	convoso.Seed(append(blandtest.Pool(*phones), convosotest.SampleLeads...)) // and the sample of import-leads.hcl

	// The ETL_VAR_ pair points pipelines/backfill.hcl at the fakes once
	// the line is sourced with exports on (set -a).
	fmt.Printf("BLAND_URL=%s CONVOSO_URL=%s BLAND_API_KEY=%s CONVOSO_AUTH_TOKEN=%s ETL_VAR_bland_url=%[1]s ETL_VAR_convoso_url=%[2]s\n",
		shellQuote(bland.URL()), shellQuote(convoso.URL()), shellQuote(bland.Key()), shellQuote(convoso.Token()))
	os.Stdout.Sync()

	<-sig
	printCounts(os.Stdout, bland, convoso)
}

// printCounts writes what the fakes were asked, one NAME=VALUE a line.
func printCounts(w io.Writer, bland *blandtest.Server, convoso *convosotest.Server) {
	reqs := bland.Requests()
	perDate := map[string]int{}
	bland429, blandFailed := 0, 0
	for _, r := range reqs {
		perDate[r.Date]++
		switch {
		case r.Status == http.StatusTooManyRequests:
			bland429++
		case r.Status != http.StatusOK:
			blandFailed++
		}
	}
	dates := make([]string, 0, len(perDate))
	for d := range perDate {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	lo, hi := 0, 0
	for i, d := range dates {
		n := perDate[d]
		if i == 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	fmt.Fprintf(w, "BLAND_REQUESTS=%d\n", len(reqs))
	fmt.Fprintf(w, "BLAND_DATES=%d\n", len(dates))
	if len(dates) > 0 {
		fmt.Fprintf(w, "BLAND_FIRST_DATE=%s\nBLAND_LAST_DATE=%s\n", dates[0], dates[len(dates)-1])
	}
	fmt.Fprintf(w, "BLAND_PER_DATE_MAX=%d\nBLAND_PER_DATE_MIN=%d\n", hi, lo)
	fmt.Fprintf(w, "BLAND_429=%d\nBLAND_OTHER_ERRORS=%d\n", bland429, blandFailed)

	fmt.Fprintf(w, "CONVOSO_REQUESTS=%d\n", convoso.Count("", 0))
	for _, p := range []struct{ name, path string }{
		{"LEADS", convosotest.LeadsPath},
		{"DNC", convosotest.DNCPath},
		{"STATUS", convosotest.StatusPath},
	} {
		fmt.Fprintf(w, "CONVOSO_%s=%d\n", p.name, convoso.Count(p.path, 0))
	}
	fmt.Fprintf(w, "CONVOSO_429=%d\n", convoso.Count("", http.StatusTooManyRequests))
	fmt.Fprintf(w, "CONVOSO_500=%d\n", convoso.Count("", http.StatusInternalServerError))
	fmt.Fprintf(w, "CONVOSO_MAX_IN_FLIGHT=%d\n", convoso.MaxInFlight())
	span, rate := phoneRate(convoso.Requests())
	fmt.Fprintf(w, "CONVOSO_PHONE_SPAN_S=%.3f\nCONVOSO_PHONE_RPS=%.1f\n", span.Seconds(), rate)
}

// phoneRate measures, from the request log, how fast requests about phones
// (lead and DNC searches, retries included) arrived while phones were
// waiting to be asked: from the first such request to the first request
// about the last phone asked, the requests per second. After that, every
// phone has been asked, and the requests left are retries held back by
// their own Retry-After or backoff, which a client must honour whatever
// its concurrency. The span is 0 with fewer than two requests in it.
func phoneRate(reqs []convosotest.Request) (time.Duration, float64) {
	var first, end time.Time
	asked := map[string]bool{}
	for _, r := range reqs {
		if r.Path == convosotest.StatusPath {
			continue
		}
		if first.IsZero() || r.Time.Before(first) {
			first = r.Time
		}
		if !asked[r.Phone] {
			asked[r.Phone] = true
			if r.Time.After(end) {
				end = r.Time
			}
		}
	}
	n := 0
	for _, r := range reqs {
		if r.Path != convosotest.StatusPath && !r.Time.After(end) {
			n++
		}
	}
	span := end.Sub(first)
	if n < 2 || span <= 0 {
		return 0, 0
	}
	return span, float64(n-1) / span.Seconds()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
