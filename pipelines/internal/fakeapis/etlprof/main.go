package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/etlhq/etl/cmd/etl/cli"
	"github.com/etlhq/etl/cmd/etl/gctune"
	"github.com/etlhq/etl/etl"
)

func main() {
	dir := os.Getenv("ETLPROF_DIR")
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "etlprof:", err)
		os.Exit(1)
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "etlprof:", err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		fmt.Fprintln(os.Stderr, "etlprof:", err)
		os.Exit(1)
	}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchHeap(dir, stop)
	}()
	gctune.StartDefault() // the etl binary's collector
	status := cli.Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ(), etl.Default)
	close(stop)
	<-watched
	pprof.StopCPUProfile()
	cpu.Close()
	os.Exit(status)
}

// watchHeap polls the live heap every 20 ms until stop, writing a heap
// profile whenever it exceeds the last profiled peak by a tenth. The live
// heap is the one the last GC measured, which is also what an inuse heap
// profile shows, so the two agree.
func watchHeap(dir string, stop <-chan struct{}) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}}
	logf, err := os.Create(filepath.Join(dir, "heap.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "etlprof:", err)
		return
	}
	defer logf.Close()
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var peak uint64
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		live, total := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		at := time.Since(start).Seconds()
		if i%25 == 0 {
			fmt.Fprintf(logf, "%6.1fs live %4d MB  mapped %4d MB\n", at, live>>20, total>>20)
		}
		if live > peak*11/10 {
			peak = live
			if err := writeHeap(filepath.Join(dir, "heap.pprof")); err != nil {
				fmt.Fprintln(os.Stderr, "etlprof:", err)
				return
			}
			fmt.Fprintf(logf, "%6.1fs live %4d MB  mapped %4d MB  new peak: heap.pprof written\n", at, live>>20, total>>20)
		}
	}
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
