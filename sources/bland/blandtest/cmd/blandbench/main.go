// Command blandbench prints the bland_calls figures for `make bench`: the
// throughput of the whole source on a 100 MB day served by the fake on
// loopback, next to a bare download of the same bytes in the same run, and
// the peak RSS of a 1 MB day against a 100 MB day, each in a fresh
// subprocess.
//
//	go run ./sources/bland/blandtest/cmd/blandbench [-runs 3] [-mb 100]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/sources/bland"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

const (
	smallDay = "2025-12-01"
	bigDay   = "2025-12-02"
	// payload makes each call about 10 KB, as in the issue.
	payload = 9400
)

func main() {
	runs := flag.Int("runs", 3, "runs of each measurement; medians are printed")
	mb := flag.Int("mb", 100, "size of the big day in MB")
	child := flag.String("child", "", "internal: run the source on this date against -url and print peak RSS")
	url := flag.String("url", "", "internal: the fake's URL")
	cpuprofile := flag.String("cpuprofile", "", "only run the whole source -runs times, profiling the CPU into this file")
	flag.Parse()
	if *cpuprofile != "" {
		if err := profileSource(*cpuprofile, *runs, *mb); err != nil {
			fmt.Fprintln(os.Stderr, "blandbench:", err)
			os.Exit(1)
		}
		return
	}
	if *child != "" {
		if err := runChild(*url, *child); err != nil {
			fmt.Fprintln(os.Stderr, "blandbench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := runParent(*runs, *mb); err != nil {
		fmt.Fprintln(os.Stderr, "blandbench:", err)
		os.Exit(1)
	}
}

// newServer starts the fake with a small day and a big day of mb MB.
func newServer(mb int) *blandtest.Server {
	bigCalls := mb * 1000 * 1000 / (payload + 600)
	return blandtest.NewServer(blandtest.Config{Seed: 1, PayloadBytes: payload,
		PerDate: map[string]int{smallDay: max(bigCalls/100, 1), bigDay: bigCalls}})
}

// profileSource runs the whole source on the big day under the CPU
// profiler, the fake included, to see where the time goes.
func profileSource(path string, runs, mb int) error {
	srv := newServer(mb)
	defer srv.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	for i := 0; i < runs; i++ {
		if _, _, err := wholeSource(srv.URL(), srv.Key(), bigDay); err != nil {
			return err
		}
	}
	return nil
}

func runParent(runs, mb int) error {
	srv := newServer(mb)
	defer srv.Close()

	var dl, src, proj, dec []float64
	var bytes int64
	var records int
	for i := 0; i < runs; i++ {
		d, n, err := download(srv)
		if err != nil {
			return err
		}
		bytes = n
		dl = append(dl, d.Seconds())

		d, recs, err := decodeOnly(srv)
		if err != nil {
			return err
		}
		dec = append(dec, d.Seconds())

		d, recs, err = wholeSource(srv.URL(), srv.Key(), bigDay)
		if err != nil {
			return err
		}
		records = recs
		src = append(src, d.Seconds())

		if d, _, err = wholeSource(srv.URL(), srv.Key(), bigDay, backfillFields); err != nil {
			return err
		}
		proj = append(proj, d.Seconds())
	}
	mbytes := float64(bytes) / 1e6
	mdl, mdec, msrc, mproj := median(dl), median(dec), median(src), median(proj)
	fmt.Printf("bland_calls: one day of %d calls, %.1f MB, fake on loopback, %d runs, medians\n", records, mbytes, runs)
	fmt.Printf("  bare download (io.Copy to io.Discard) %7.3f s  %7.1f MB/s\n", mdl, mbytes/mdl)
	fmt.Printf("  decode only (DecodeCalls)             %7.3f s  %7.1f MB/s  %9.0f records/s\n", mdec, mbytes/mdec, float64(records)/mdec)
	fmt.Printf("  whole source (engine, records)        %7.3f s  %7.1f MB/s  %9.0f records/s\n", msrc, mbytes/msrc, float64(records)/msrc)
	fmt.Printf("  whole source, the backfill's 4 fields %7.3f s  %7.1f MB/s  %9.0f records/s\n", mproj, mbytes/mproj, float64(records)/mproj)
	fmt.Printf("  whole source / bare download          %7.2f x  all 14 fields; %.2f x the backfill's fields  (target <= 2)\n", msrc/mdl, mproj/mdl)

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var small, big []float64
	for i := 0; i < runs; i++ {
		s, err := childRSS(exe, srv.URL(), smallDay)
		if err != nil {
			return err
		}
		b, err := childRSS(exe, srv.URL(), bigDay)
		if err != nil {
			return err
		}
		small, big = append(small, s), append(big, b)
	}
	ms, mbg := median(small), median(big)
	fmt.Printf("  peak RSS (VmHWM), whole source in a subprocess: %.1f MB day %6.1f MB, %.0f MB day %6.1f MB, difference %5.1f MB  (target < 16)\n",
		mbytes/100, ms, mbytes, mbg, mbg-ms)
	return nil
}

func request(srv *blandtest.Server, date string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", srv.URL()+"/v1/calls?limit=100000&created_at="+date, nil)
	req.Header.Set("authorization", srv.Key())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp, nil
}

func download(srv *blandtest.Server) (time.Duration, int64, error) {
	start := time.Now()
	resp, err := request(srv, bigDay)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return time.Since(start), n, err
}

func decodeOnly(srv *blandtest.Server) (time.Duration, int, error) {
	start := time.Now()
	resp, err := request(srv, bigDay)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n := 0
	_, err = bland.DecodeCalls(resp.Body, func(bland.Call) error { n++; return nil })
	return time.Since(start), n, err
}

// wholeSource runs a pipeline of the bland_calls source into a sink that
// counts and forgets, for one date.
// Sinks the whole source runs into: one that may read any field, so the
// source builds all 14; and one that reads the fields the backfill reads,
// so the source builds only those (Env.Fields).
const (
	allFields      = "count"
	backfillFields = "reads"
)

func wholeSource(url, key, date string, sink ...string) (time.Duration, int, error) {
	sinkType := allFields
	if len(sink) > 0 {
		sinkType = sink[0]
	}
	dir, err := os.MkdirTemp("", "blandbench")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bench.hcl")
	hcl := fmt.Sprintf(`
source "bland_calls" "calls" {
  base_url   = %q
  api_key    = env("BLAND_BENCH_KEY")
  start_date = %q
  end_date   = %q
  limit      = 100000
}
sink %q "out" {
  input = source.bland_calls.calls
%s}
`, url, date, date, sinkType, map[string]string{allFields: "", backfillFields: `  phone      = record.phone
  created_at = record.created_at
  call_id    = record.call_id
  batch_id   = record.batch_id
`}[sinkType])
	if err := os.WriteFile(path, []byte(hcl), 0o600); err != nil {
		return 0, 0, err
	}
	os.Setenv("BLAND_BENCH_KEY", key)
	reg := etl.NewRegistry()
	bland.Register(reg)
	etl.RegisterSink(reg, etl.Spec[struct{}]{Type: "count", Summary: "Counts records."},
		func(*struct{}, etl.Env) (etl.Sink, error) { return &counter{}, nil })
	etl.RegisterSink(reg, etl.Spec[readsConfig]{Type: "reads", Summary: "Reads the backfill's fields.", ReadsDeclaredFields: true},
		func(c *readsConfig, _ etl.Env) (etl.Sink, error) { return &reader{cfg: c}, nil })
	p, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	if diags.HasErrors() {
		return 0, 0, diags
	}
	start := time.Now()
	res, err := p.Run(context.Background(), etl.RunOptions{})
	if err != nil {
		return 0, 0, err
	}
	el := time.Since(start)
	for _, b := range res.Blocks {
		if b.Addr.Kind == etl.KindSink {
			return el, int(b.In), nil
		}
	}
	return el, 0, nil
}

// readsConfig names the fields the backfill's blocks read.
type readsConfig struct {
	Phone     etl.Expr `hcl:"phone" doc:"Read."`
	CreatedAt etl.Expr `hcl:"created_at" doc:"Read."`
	CallID    etl.Expr `hcl:"call_id" doc:"Read."`
	BatchID   etl.Expr `hcl:"batch_id" doc:"Read."`
}

// reader evaluates its expressions for every record, as a sink would.
type reader struct{ cfg *readsConfig }

func (r *reader) Write(_ context.Context, rec etl.Record) error {
	for _, e := range []etl.Expr{r.cfg.Phone, r.cfg.CreatedAt, r.cfg.CallID, r.cfg.BatchID} {
		if _, err := e.Eval(rec); err != nil {
			return err
		}
	}
	return nil
}

type counter struct{}

func (*counter) Write(context.Context, etl.Record) error { return nil }

func runChild(url, date string) error {
	key := os.Getenv("BLAND_BENCH_KEY")
	if _, _, err := wholeSource(url, key, date); err != nil {
		return err
	}
	hwm, err := vmHWM()
	if err != nil {
		return err
	}
	fmt.Println(hwm)
	return nil
}

func childRSS(exe, url, date string) (float64, error) {
	cmd := exec.Command(exe, "-child", date, "-url", url)
	cmd.Env = append(os.Environ(), "BLAND_BENCH_KEY="+blandtest.DefaultKey)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("child for %s: %w", date, err)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// vmHWM returns this process's peak resident set in MB.
func vmHWM() (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
