package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/etlhq/etl/etl"
)

// stateCmd inspects and removes checkpoints.
type stateCmd struct {
	Show stateShowCmd `cmd:"" help:"Print what a checkpoint holds: partitions done and their counts."`
	Rm   stateRmCmd   `cmd:"" help:"Delete a checkpoint, so the next run starts over."`
}

type stateShowCmd struct {
	File string `arg:"" help:"Checkpoint file, e.g. .etl/state/backfill.hcl.json."`
}

func (c *stateShowCmd) run(a *app) int {
	cp, err := etl.LoadCheckpoint(c.File)
	if err != nil {
		fmt.Fprintf(a.stderr, "etl state show: %v\n", err)
		return exitError
	}
	w := a.stdout
	fmt.Fprintf(w, "checkpoint %s\n  pipeline: %s\n  updated:  %s\n", c.File, cp.Pipeline, cp.Updated.Format("2006-01-02 15:04:05 UTC"))
	for _, src := range slices.Sorted(maps.Keys(cp.Sources)) {
		parts := cp.Sources[src]
		fmt.Fprintf(w, "\n%s: %d partition(s) done\n", src, len(parts))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, p := range parts {
			var info []string
			for _, k := range slices.Sorted(maps.Keys(p.Info)) {
				info = append(info, fmt.Sprintf("%s %d", k, p.Info[k]))
			}
			flag := ""
			if p.Incomplete {
				flag = "INCOMPLETE"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, strings.Join(info, ", "), flag)
		}
		tw.Flush()
	}
	if len(cp.Stages) > 0 {
		fmt.Fprintln(w, "\nstate of stateful stages:")
		for _, addr := range slices.Sorted(maps.Keys(cp.Stages)) {
			fmt.Fprintf(w, "  %s: %d bytes\n", addr, len(cp.Stages[addr]))
		}
	}
	return exitOK
}

type stateRmCmd struct {
	File string `arg:"" help:"Checkpoint file to delete."`
}

func (c *stateRmCmd) run(a *app) int {
	if err := os.Remove(c.File); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(a.stderr, "etl state rm: %s does not exist\n", c.File)
		} else {
			fmt.Fprintf(a.stderr, "etl state rm: %v\n", err)
		}
		return exitError
	}
	fmt.Fprintf(a.stdout, "removed %s\n", c.File)
	return exitOK
}
