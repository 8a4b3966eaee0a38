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
	File string `arg:"" help:"Checkpoint file (.etl/state/backfill.hcl.json), or the pipeline file whose default checkpoint to show."`
}

// checkpointPath maps a pipeline file (*.hcl) to its default checkpoint,
// as run and plan do; any other path is taken as the checkpoint itself.
func checkpointPath(arg string) string {
	if strings.HasSuffix(arg, ".hcl") {
		return defaultStatePath(arg)
	}
	return arg
}

func (c *stateShowCmd) run(a *app) int {
	c.File = checkpointPath(c.File)
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
	File  string `arg:"" help:"Checkpoint file to delete, or the pipeline file whose default checkpoint to delete."`
	Force bool   `help:"Also delete a file that is not recognised as a checkpoint (empty, or cut off before its header). A pipeline file given as FILE is still never deleted: it names its checkpoint."`
}

func (c *stateRmCmd) run(a *app) int {
	c.File = checkpointPath(c.File)
	// Delete only what is a checkpoint (or a corrupt one, which this
	// command exists to clear): never a pipeline or data file by mistake.
	if info, err := os.Stat(c.File); err == nil && info.IsDir() {
		fmt.Fprintf(a.stderr, "etl state rm: %s is a directory, not a checkpoint; not deleting it\n", c.File)
		return exitError
	}
	if _, err := etl.LoadCheckpoint(c.File); err != nil && !errors.Is(err, fs.ErrNotExist) && !etl.IsCorruptCheckpoint(err) && !c.Force {
		fmt.Fprintf(a.stderr, "etl state rm: %v; not deleting it (if it is a damaged checkpoint, `etl state rm --force %s` deletes it)\n", err, c.File)
		return exitError
	}
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
