package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/spill"
	"github.com/etlhq/etl/etl/store"
)

// stateArgs are the checkpoint flags of run and plan.
type stateArgs struct {
	State string `placeholder:"PATH" help:"Checkpoint: a state directory (default .etl/state/<pipeline file name>.db in the working directory)."`
	Fresh bool   `help:"Ignore an existing checkpoint and start over (run replaces it)."`

	path    string       // resolved checkpoint path
	store   *store.Store // open during the run; closed by close
	created bool         // this run created the state directory
}

// defaultStatePath is where a pipeline's checkpoint lives unless --state
// says otherwise.
func defaultStatePath(pipelineFile string) string {
	return filepath.Join(".etl", "state", filepath.Base(pipelineFile)+".db")
}

// legacyStatePath is where earlier versions kept the checkpoint, as one
// JSON file.
func legacyStatePath(pipelineFile string) string {
	return filepath.Join(".etl", "state", filepath.Base(pipelineFile)+".json")
}

// prepare opens the state (for reading only in plan mode), checks that
// its checkpoint applies to this pipeline, and sets up the run to resume
// from it and commit to it.
func (sa *stateArgs) prepare(a *app, p *etl.Pipeline, opts *etl.RunOptions) error {
	sa.resolve(p)
	legacy := sa.State
	if sa.State == "" {
		legacy = legacyStatePath(p.Path)
	}
	if legacy != sa.path && store.IsStore(sa.path) {
		// The state has moved on already: an old JSON file left beside it
		// is only reported.
		if etl.IsLegacyCheckpoint(legacy) {
			a.reporter().Report(etl.Event{Type: etl.EventWarning, Message: fmt.Sprintf("%s is a checkpoint of an earlier etl, no longer used (the checkpoint is %s); delete it with `etl state rm %s`", legacy, sa.path, legacy)})
		}
	} else if err := sa.handleLegacy(legacy, opts); err != nil {
		return err
	}
	_, statErr := os.Stat(sa.path)
	sa.created = errors.Is(statErr, fs.ErrNotExist) || store.Unwritten(sa.path)
	st, err := store.Open(sa.path, store.Options{ReadOnly: opts.Plan})
	switch {
	case opts.Plan && errors.Is(err, fs.ErrNotExist):
		// Nothing to resume: the plan runs in memory.
	case err != nil:
		var inUse *store.InUseError
		if info, serr := os.Stat(sa.path); serr == nil && !info.IsDir() {
			return fmt.Errorf("%w (run with --state naming another path, or delete it with `etl state rm --force %s` if it is a damaged checkpoint)", err, sa.path)
		}
		if errors.As(err, &inUse) || !store.IsStore(sa.path) {
			return err
		}
		// A damaged state: --fresh starts over, as it would from a
		// readable one (there is nothing left to keep). A plan with
		// --fresh ignores it, and leaves it as it is.
		if sa.Fresh && opts.Plan {
			a.reporter().Report(etl.Event{Type: etl.EventWarning, Message: fmt.Sprintf("the state %s cannot be read (%v); the plan ignores it (--fresh), and a run with --fresh removes it", sa.path, err)})
			break
		}
		if !sa.Fresh {
			return fmt.Errorf("%w\n  (the state cannot be read: run with --fresh to start over, or delete it with `etl state rm %s`)", err, sa.path)
		}
		if rerr := store.Remove(sa.path); rerr != nil {
			return fmt.Errorf("%w; removing it for --fresh: %v", err, rerr)
		}
		a.reporter().Report(etl.Event{Type: etl.EventWarning, Message: fmt.Sprintf("the state %s could not be read (%v); --fresh removed it and starts over", sa.path, err)})
		if st, err = store.Open(sa.path, store.Options{}); err != nil {
			return err
		}
		sa.store = st
	default:
		sa.store = st
	}
	opts.State, opts.Fresh = sa.store, sa.Fresh
	if sa.store != nil && !sa.Fresh {
		cp, err := etl.ReadCheckpoint(sa.store)
		if err != nil {
			return fmt.Errorf("%w\n  (run with --fresh to ignore it and start over, or delete it with `etl state rm %s`)", err, sa.path)
		}
		if cp != nil {
			if diffs := cp.Compare(p); len(diffs) > 0 {
				by := "a pipeline"
				if cp.Pipeline != "" && cp.Pipeline != p.Path {
					// Pipelines of the same file name share a default
					// checkpoint: say which one wrote it.
					by = fmt.Sprintf("the pipeline %s (this is %s; give one of them its own --state)", cp.Pipeline, p.Path)
				}
				return fmt.Errorf("the checkpoint %s was written by %s whose settings differ:\n  %s\n  Its saved state would be wrong for this pipeline. Run with --fresh to start over (or `etl state rm %s`), or restore the settings to resume",
					sa.path, by, strings.Join(diffs, "\n  "), sa.path)
			}
			if s := cp.Summary(); s != "" {
				a.reporter().Report(etl.Event{Type: etl.EventInfo, Message: "resuming from " + sa.path + ": " + s})
			}
		}
	}
	if !opts.Plan {
		// Scratch files (spill files, temp files of the outputs) go
		// beside the state: on the disk the user chose for it, not in a
		// RAM-backed /tmp. This run holds the state's lock, so what a
		// killed run left there is stale.
		opts.ScratchDir = filepath.Dir(sa.path)
		if err := spill.RemoveStale(opts.ScratchDir); err != nil {
			a.logger.Warn("removing stale spill files", "dir", opts.ScratchDir, "err", err)
		}
	}
	return nil
}

// resolve sets and returns the checkpoint's path: --state, or the
// pipeline's default.
func (sa *stateArgs) resolve(p *etl.Pipeline) string {
	sa.path = sa.State
	if sa.path == "" {
		sa.path = defaultStatePath(p.Path)
	}
	return sa.path
}

// handleLegacy deals with a checkpoint file of the JSON format earlier
// versions wrote: refused, unless --fresh, which deletes it once the run
// has started (or at once when it is in the way of the new state).
func (sa *stateArgs) handleLegacy(path string, opts *etl.RunOptions) error {
	err := etl.CheckLegacy(path)
	if err == nil || opts.Plan && sa.Fresh {
		return nil
	}
	if !sa.Fresh {
		return err
	}
	if path == sa.path {
		// --state names the old file: the new state takes its place.
		return os.Remove(path)
	}
	opts.Started = func() error {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the old checkpoint: %w", err)
		}
		return nil
	}
	return nil
}

// close releases the state. A state this run created and left empty (a
// run stopped before its first partition, with no answers to keep) is
// removed: a run that did nothing leaves nothing behind.
func (sa *stateArgs) close(a *app) {
	if sa.store == nil {
		return
	}
	// Empty: no checkpoint and no key at all (a failed run's answers are
	// keys). The store's index says so without reading the state (a scan
	// of the 50,000-phone backfill's took 0.17 s at the end of every run).
	empty := false
	if sa.created {
		cp, err := etl.ReadCheckpoint(sa.store)
		empty = err == nil && cp == nil && sa.store.Len() == 0
	}
	if err := sa.store.Close(); err != nil {
		a.logger.Error("closing the state", "path", sa.path, "err", err)
	}
	sa.store = nil
	if empty {
		if err := store.Remove(sa.path); err != nil {
			a.logger.Warn("removing the empty state", "path", sa.path, "err", err)
		}
	}
}
