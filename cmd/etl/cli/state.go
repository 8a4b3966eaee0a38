package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
	"github.com/etlhq/etl/etl/spill"
)

// stateArgs are the checkpoint flags of run and plan.
type stateArgs struct {
	State string `placeholder:"PATH" help:"Checkpoint file (default .etl/state/<pipeline file name>.json in the working directory)."`
	Fresh bool   `help:"Ignore an existing checkpoint and start over (run replaces it)."`

	path string // resolved checkpoint path
}

// defaultStatePath is where a pipeline's checkpoint lives unless --state
// says otherwise.
func defaultStatePath(pipelineFile string) string {
	return filepath.Join(".etl", "state", filepath.Base(pipelineFile)+".json")
}

// prepare loads the checkpoint to resume from, if any, and sets up saving
// it (never in plan mode).
func (sa *stateArgs) prepare(a *app, p *etl.Pipeline, opts *etl.RunOptions) error {
	sa.path = sa.State
	if sa.path == "" {
		sa.path = defaultStatePath(p.Path)
	}
	if !sa.Fresh {
		cp, err := etl.LoadCheckpoint(sa.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			rm := "etl state rm " + sa.path
			if !etl.IsCorruptCheckpoint(err) {
				// Not recognisable as a checkpoint: a plain rm refuses it.
				rm = "etl state rm --force " + sa.path
			}
			return fmt.Errorf("%w\n  (run with --fresh to ignore it and start over, or delete it with `%s`)", err, rm)
		default:
			if diffs := cp.Compare(p); len(diffs) > 0 {
				return fmt.Errorf("the checkpoint %s was written by a pipeline whose settings differ:\n  %s\n  Its saved state would be wrong for this pipeline. Run with --fresh to start over (or `etl state rm %s`), or restore the settings to resume",
					sa.path, strings.Join(diffs, "\n  "), sa.path)
			}
			opts.Resume = cp
			if s := cp.Summary(); s != "" {
				a.reporter().Report(etl.Event{Type: etl.EventInfo, Message: "resuming from " + sa.path + ": " + s})
			}
		}
	}
	if sa.Fresh && !opts.Plan {
		// Start over for real: a fresh run that fails before its first
		// partition must not leave the old checkpoint for the next run to
		// resume from. But only once the run has really started: a fresh
		// run stopped by a wrong key or a bad setting keeps it.
		path := sa.path
		opts.Started = func() error {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("removing the old checkpoint: %w", err)
			}
			return nil
		}
	}
	if !opts.Plan {
		// This run is the checkpoint's only writer: temp files beside it
		// are leftovers of a killed run.
		if err := atomicfile.RemoveStale(sa.path); err != nil {
			a.logger.Warn("removing stale temp files", "path", sa.path, "err", err)
		}
		path := sa.path
		opts.Save = func(cp *etl.Checkpoint) error { return etl.SaveCheckpoint(path, cp) }
		opts.SaveCaches = func(c map[string]json.RawMessage, fresh *etl.Checkpoint) error { return etl.SaveCaches(path, c, fresh) }
		// Spill files (dedupe's kept records) go beside the checkpoint: on
		// the disk the user chose for state, not in a RAM-backed /tmp.
		opts.ScratchDir = filepath.Dir(path)
		if err := os.MkdirAll(opts.ScratchDir, 0o755); err != nil {
			return fmt.Errorf("creating the state directory: %w", err)
		}
		if err := spill.RemoveStale(opts.ScratchDir); err != nil {
			a.logger.Warn("removing stale spill files", "dir", opts.ScratchDir, "err", err)
		}
	}
	return nil
}
