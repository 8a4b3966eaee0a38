// Command floor does only the network part of the backfill at scale, with
// the real clients and nothing of the engine: it lists each date from the
// Bland fake (bland.Client.FetchDate, decoding included, 4 dates at a
// time) and asks Convoso about each phone once (convoso.Client.Leads, 50
// at a time) as soon as a call brings it, like the shipped pipeline's
// settings. No dedupe, no state, no sinks. Its wall time, next to the
// fakes' CPU, is a floor for scripts/bench_backfill.sh's big run on the
// same machine: a pipeline that does the same requests and more work
// cannot finish sooner.
//
// It reads the fakes' settings line (BLAND_URL=... as fakeapis prints it)
// from the environment and prints the calls listed and the phones asked
// about; scripts/rusage measures its wall time, CPU and peak RSS as it does
// bin/etl's.
//
//	set -a; eval "$(head -n 1 fakes.out)"; set +a; go run ./pipelines/internal/fakeapis/floor
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/etlhq/etl/etl/phone"
	"github.com/etlhq/etl/etl/retry"
	"github.com/etlhq/etl/filters/convoso"
	"github.com/etlhq/etl/sources/bland"
)

func main() {
	start := flag.String("start", "2025-12-01", "first date")
	end := flag.String("end", "2026-01-07", "last date")
	dateConc := flag.Int("concurrency", 4, "dates fetched at once (bland_calls concurrency)")
	lookupConc := flag.Int("lookups", 50, "lookups in flight (convoso_status concurrency)")
	limit := flag.Int("limit", 10000, "Bland page size (bland_calls limit)")
	flag.Parse()

	// The plugins' default retry settings.
	blandSettings, convosoSettings := retry.DefaultSettings(2*time.Minute), retry.DefaultSettings(30*time.Second)
	transport := func(idle int) *http.Client {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = idle
		return &http.Client{Transport: t}
	}
	bc := &bland.Client{BaseURL: os.Getenv("BLAND_URL"), Key: os.Getenv("BLAND_API_KEY"), Limit: *limit, MaxPages: 10,
		HTTP: blandSettings.Client(transport(*dateConc), nil, os.Getenv("BLAND_API_KEY")),
		// The fields backfill.hcl's records do not carry.
		Skip: bland.Skip{Metadata: true, Status: true, AnsweredBy: true, CallLength: true}}
	cc := &convoso.Client{BaseURL: os.Getenv("CONVOSO_URL"), Token: os.Getenv("CONVOSO_AUTH_TOKEN"),
		HTTP: convosoSettings.Client(transport(*lookupConc), nil, os.Getenv("CONVOSO_AUTH_TOKEN"))}

	first, err := time.Parse(time.DateOnly, *start)
	check(err)
	last, err := time.Parse(time.DateOnly, *end)
	check(err)

	// A failed lookup cancels the rest, so that a fetch waiting to hand
	// over a phone does not wait forever.
	ask, ctx := errgroup.WithContext(context.Background())
	phones := make(chan string, 4096)
	for range *lookupConc {
		ask.Go(func() error {
			for p := range phones {
				if _, _, err := cc.Leads(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	calls := 0
	fetch, fctx := errgroup.WithContext(ctx)
	fetch.SetLimit(*dateConc)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		fetch.Go(func() error {
			_, err := bc.FetchDate(fctx, date, func(batch []bland.Call) error {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range batch {
					calls++
					if p, _, ok := phone.Normalize(c.LeadPhone()); ok && !seen[p] { // as bland_calls makes the record's phone
						seen[p] = true
						select {
						case phones <- p:
						case <-fctx.Done():
							return fctx.Err()
						}
					}
				}
				return nil
			})
			return err
		})
	}
	fetchErr := fetch.Wait()
	close(phones)
	askErr := ask.Wait()
	check(askErr) // the cause, when a failed lookup cancelled the fetch
	check(fetchErr)
	fmt.Printf("%d %d\n", calls, len(seen))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
