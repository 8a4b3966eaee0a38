package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/pipelines"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

// demoCmd runs the shipped backfill pipeline, unchanged, against in-process
// fakes of Bland and Convoso on loopback: no key, no network.
type demoCmd struct {
	Dir         string `default:"demo-data" help:"Where the demo writes its queue, stats and checkpoint."`
	Pipeline    string `default:"pipelines/backfill.hcl" help:"Pipeline to run; the built-in copy when this file does not exist."`
	CallsPerDay int    `default:"300" help:"Calls the fake Bland serves on a typical weekday; dates vary around it as in a call center (fewer at weekends, none on Christmas, bursts on batch days)."`
	Phones      int    `default:"2000" help:"Distinct phones the calls go to."`
}

func (c *demoCmd) run(a *app) int {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		fmt.Fprintf(a.stderr, "etl demo: %v\n", err)
		return exitError
	}
	pipeline := c.Pipeline
	if _, err := os.Stat(pipeline); errors.Is(err, fs.ErrNotExist) {
		pipeline = filepath.Join(c.Dir, "backfill.hcl")
		if err := os.WriteFile(pipeline, pipelines.Backfill, 0o644); err != nil {
			fmt.Fprintf(a.stderr, "etl demo: %v\n", err)
			return exitError
		}
	}

	bcfg := blandtest.Demo(c.CallsPerDay, c.Phones)
	bcfg.Latency = 5 * time.Millisecond
	bland := blandtest.NewServer(bcfg)
	defer bland.Close()
	convoso := convosotest.NewServer(convosotest.Config{Latency: 2 * time.Millisecond})
	defer convoso.Close()
	convoso.Seed(append(blandtest.Pool(c.Phones), convosotest.SampleLeads...))

	// The pipeline reads its keys with env(); the fakes' keys go into this
	// process's environment only.
	os.Setenv("BLAND_API_KEY", bland.Key())
	os.Setenv("CONVOSO_AUTH_TOKEN", convoso.Token())

	pa := pipelineArgs{File: pipeline, Var: []string{
		"bland_url=" + bland.URL(),
		"convoso_url=" + convoso.URL(),
		"data_dir=" + c.Dir,
	}}
	// A fresh checkpoint each time, so the demo always fetches every date;
	// the queue file is kept, so a second demo shows the merge skipping
	// what is already queued.
	sa := stateArgs{State: filepath.Join(c.Dir, "state", "backfill.hcl.db"), Fresh: true}

	fmt.Fprintf(a.stdout, "etl demo: fake Bland at %s, fake Convoso at %s\n", bland.URL(), convoso.URL())
	fmt.Fprintf(a.stdout, "\n=== etl plan %s (reads everything, writes nothing)\n\n", pipeline)
	if status := execute(a, &pa, &sa, &reportArgs{}, planOptions(false, false)); status != exitOK && status != exitChanges {
		return status
	}
	planRequests := len(bland.Requests())
	fmt.Fprintf(a.stdout, "\n=== etl run %s\n\n", pipeline)
	if status := execute(a, &pa, &sa, &reportArgs{}, runOptions()); status != exitOK {
		return status
	}
	runRequests := len(bland.Requests()) - planRequests
	fmt.Fprintf(a.stdout, "\nBland requests: %d for the plan, %d for the run (one per date); Convoso requests: %d\n",
		planRequests, runRequests, len(convoso.Requests()))
	fmt.Fprintln(a.stdout, "Outputs:")
	for _, pattern := range []string{"redial-queue/*.json", "backfill-stats.json", "state/*.db", "state/*.report.html"} {
		matches, _ := filepath.Glob(filepath.Join(c.Dir, pattern))
		for _, m := range matches {
			fmt.Fprintf(a.stdout, "  %s\n", m)
		}
	}
	return exitOK
}
