package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/store"
)

// stateCmd inspects and removes checkpoints.
type stateCmd struct {
	Show stateShowCmd `cmd:"" help:"Print what a checkpoint holds: partitions done, their counts, and the size of each stage's state."`
	Rm   stateRmCmd   `cmd:"" help:"Delete a checkpoint, so the next run starts over."`
}

type stateShowCmd struct {
	File  string `arg:"" optional:"" help:"Checkpoint (a state directory such as .etl/state/backfill.hcl.db, the --state of run), or the pipeline file whose default checkpoint to show."`
	State string `placeholder:"PATH" help:"The checkpoint, as run's --state names it (instead of FILE)."`
}

// stateTarget is the checkpoint a state command acts on: --state as run
// takes it, or FILE; exactly one of them.
func stateTarget(a *app, cmd, file, state string) (string, bool) {
	switch {
	case state != "" && file != "":
		fmt.Fprintf(a.stderr, "etl state %s: give either FILE or --state, not both\n", cmd)
		return "", false
	case state != "":
		return state, true
	case file != "":
		return checkpointPath(file), true
	}
	fmt.Fprintf(a.stderr, "etl state %s: which checkpoint? Give the pipeline file (its default checkpoint) or --state PATH\n", cmd)
	return "", false
}

// checkpointPath maps a pipeline file (*.hcl) to its default checkpoint,
// as run and plan do; any other path is taken as the checkpoint itself.
// When only an old JSON checkpoint exists for the pipeline, that is it.
func checkpointPath(arg string) string {
	if !strings.HasSuffix(arg, ".hcl") {
		return arg
	}
	if _, err := os.Stat(defaultStatePath(arg)); errors.Is(err, fs.ErrNotExist) && etl.IsLegacyCheckpoint(legacyStatePath(arg)) {
		return legacyStatePath(arg)
	}
	return defaultStatePath(arg)
}

func (c *stateShowCmd) run(a *app) int {
	var ok bool
	if c.File, ok = stateTarget(a, "show", c.File, c.State); !ok {
		return exitUsage
	}
	if etl.IsLegacyCheckpoint(c.File) {
		fmt.Fprintf(a.stderr, "etl state show: %v\n", &etl.LegacyCheckpointError{Path: c.File})
		return exitError
	}
	st, err := store.Open(c.File, store.Options{ReadOnly: true})
	if _, serr := os.Stat(c.File); errors.Is(err, fs.ErrNotExist) && errors.Is(serr, fs.ErrNotExist) {
		fmt.Fprintf(a.stderr, "etl state show: %s does not exist\n", c.File)
		return exitError
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "etl state show: %v\n", err)
		return exitError
	}
	defer st.Close()
	cp, err := etl.ReadCheckpoint(st)
	if err == nil && cp == nil {
		err = fmt.Errorf("%s holds no checkpoint (a run that stopped before its first partition)", c.File)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "etl state show: %v\n", err)
		return exitError
	}
	usage, err := etl.Usage(st)
	if err != nil {
		fmt.Fprintf(a.stderr, "etl state show: %v\n", err)
		return exitError
	}
	w := a.stdout
	fmt.Fprintf(w, "checkpoint %s\n  pipeline: %s\n  updated:  %s\n  size:     %s on disk\n", c.File, cp.Pipeline, cp.Updated.Format("2006-01-02 15:04:05 UTC"), humanBytes(st.Size()))
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
	if len(usage) > 0 {
		fmt.Fprintln(w, "\nstate of stateful stages:")
		for _, addr := range slices.Sorted(maps.Keys(usage)) {
			u := usage[addr]
			fmt.Fprintf(w, "  %s: %d keys, %s\n", addr, u.Keys, humanBytes(u.Bytes))
		}
	}
	return exitOK
}

// looksDamaged reports whether the file at path could be a checkpoint cut
// short: empty, or JSON that starts as an object and does not parse.
// Anything else (valid JSON, text, a queue or stats file) is somebody's
// data, which even --force does not delete.
func looksDamaged(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	data = bytes.TrimSpace(data)
	return len(data) == 0 || (data[0] == '{' && !json.Valid(data))
}

// humanBytes renders n as "812 B", "4.1 KB", "8.0 MB".
func humanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

type stateRmCmd struct {
	File  string `arg:"" optional:"" help:"Checkpoint to delete, or the pipeline file whose default checkpoint to delete."`
	State string `placeholder:"PATH" help:"The checkpoint, as run's --state names it (instead of FILE)."`
	Force bool   `help:"Also delete a checkpoint file damaged beyond recognition: empty, or JSON cut off before its header. A file of valid JSON or of anything else, or a pipeline file given as FILE, is never deleted."`
}

func (c *stateRmCmd) run(a *app) int {
	var ok bool
	if c.File, ok = stateTarget(a, "rm", c.File, c.State); !ok {
		return exitUsage
	}
	info, err := os.Stat(c.File)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(a.stderr, "etl state rm: %s does not exist\n", c.File)
		return exitError
	case err != nil:
		fmt.Fprintf(a.stderr, "etl state rm: %v\n", err)
		return exitError
	case info.IsDir():
		// Delete only a state directory, and only when no run uses it.
		if err := store.Remove(c.File); err != nil {
			fmt.Fprintf(a.stderr, "etl state rm: %v\n", err)
			return exitError
		}
	default:
		// A file: an old JSON checkpoint, or (with --force) a damaged
		// one; never a pipeline or data file by mistake.
		if !etl.IsLegacyCheckpoint(c.File) {
			damaged := looksDamaged(c.File)
			if !c.Force || !damaged {
				hint := ""
				if damaged {
					hint = fmt.Sprintf(" (if it is a damaged checkpoint, `etl state rm --force %s` deletes it)", c.File)
				}
				fmt.Fprintf(a.stderr, "etl state rm: %s is not an etl checkpoint; not deleting it%s\n", c.File, hint)
				return exitError
			}
		}
		if err := os.Remove(c.File); err != nil {
			fmt.Fprintf(a.stderr, "etl state rm: %v\n", err)
			return exitError
		}
	}
	fmt.Fprintf(a.stdout, "removed %s\n", c.File)
	return exitOK
}
