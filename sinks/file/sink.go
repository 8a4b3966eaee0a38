package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
	"github.com/etlhq/etl/etl/fileformat"
)

// sink writes records to the temp file that replaces the target at the end
// of input (run), to standard output, or compares them with the target's
// rows (plan). It runs in the engine's single goroutine for the stage.
type sink struct {
	cfg    Config
	env    etl.Env
	format fileformat.Format
	w      *fileformat.Writer
	// stdout: path is "-".
	stdout bool
	// tmp and sum, in a run: the replacement under way and the hash of
	// what is written to it, to tell whether the file changes.
	tmp *atomicfile.File
	sum hash.Hash
	// diff, in a plan: the target's rows, matched by the rows written.
	diff *diff
	row  []byte
	// change is what Finish did, for Change.
	change etl.Change
}

func newSink(cfg *Config, env etl.Env) (*sink, error) {
	format, err := fileformat.ParseFormat(cfg.Format)
	if err != nil {
		return nil, err
	}
	s := &sink{cfg: *cfg, env: env, format: format}
	if cfg.Path == "-" {
		s.stdout = true
		out := env.Stdout
		if out == nil {
			out = os.Stdout
		}
		s.w = fileformat.NewWriter(out, format, cfg.Fields)
		return s, nil
	}
	// Before any source reads: a path that cannot be written must not cost
	// a whole run's reads.
	if info, err := os.Stat(cfg.Path); err == nil && info.IsDir() {
		return nil, fmt.Errorf("cannot write %s: it is a directory; path must name a file", cfg.Path)
	}
	dir := filepath.Dir(cfg.Path)
	if err := atomicfile.CheckWritable(dir, "output directory"); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", cfg.Path, err)
	}
	if env.Plan {
		if s.diff, err = readTarget(cfg.Path, format, cfg.Fields); err != nil {
			return nil, err
		}
		s.w = fileformat.NewWriter(io.Discard, format, cfg.Fields)
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", cfg.Path, err)
	}
	if s.tmp, err = atomicfile.Create(cfg.Path, atomicfile.Options{}); err != nil {
		return nil, err
	}
	s.sum = sha256.New()
	s.w = fileformat.NewWriter(io.MultiWriter(s.tmp, s.sum), format, cfg.Fields)
	return s, nil
}

// Write writes one record (to the temp file, to standard output, or into
// the plan's comparison).
func (s *sink) Write(_ context.Context, rec etl.Record) error {
	if err := s.w.Write(rec); err != nil {
		return s.recordError(err)
	}
	switch {
	case s.stdout:
		return s.w.Flush() // as it comes: someone is watching
	case s.diff != nil:
		var err error
		if s.row, err = s.w.AppendRow(s.row[:0], rec); err != nil {
			return s.recordError(err)
		}
		s.diff.add(s.row)
	}
	return nil
}

// recordError names the record by its number: its values may be personal.
func (s *sink) recordError(err error) error {
	return fmt.Errorf("record %d: %w", s.w.Rows()+1, err)
}

// Finish ends the file: in a run, it replaces the target; in a plan, it
// says what would change.
func (s *sink) Finish(context.Context, etl.Output) error {
	if err := s.w.Close(); err != nil {
		return err
	}
	rows := s.w.Rows()
	switch {
	case s.stdout:
		s.change = etl.Change{Summary: fmt.Sprintf("wrote %s to standard output", plural(rows, "record"))}
		return nil
	case s.diff != nil:
		s.change = s.diff.change(s.cfg.Path, rows, s.env)
		return nil
	}
	before, err := summarize(s.cfg.Path, s.format)
	if err != nil {
		return err
	}
	s.change = etl.Change{Changed: !before.exists || !bytes.Equal(before.sum, s.sum.Sum(nil)),
		Size: &etl.Size{Unit: "rows", Before: int64(before.rows), After: int64(rows)}}
	if !s.change.Changed {
		s.tmp.Abort() // the same bytes: the file is left as it is
	} else if err := s.tmp.Commit(); err != nil {
		return err
	}
	s.change.Summary = fmt.Sprintf("wrote %s: %s", plural(rows, "row"), s.cfg.Path)
	switch {
	case !before.exists:
		s.change.Summary += " (created)"
	case !s.change.Changed:
		s.change.Summary += " (unchanged)"
	case before.unreadable != nil:
		s.change.Summary += fmt.Sprintf(" (replaced a file that was not valid %s: %v)", s.format, before.unreadable)
	default:
		s.change.Summary += fmt.Sprintf(" (had %s)", plural(before.rows, "row"))
	}
	return nil
}

// Change is what Finish did or would do.
func (s *sink) Change() etl.Change { return s.change }

// Close removes the temp file of a run that did not finish: the target
// keeps its previous content.
func (s *sink) Close() error {
	if s.tmp != nil {
		s.tmp.Abort()
	}
	return nil
}

// before is what a file held before the sink replaced it.
type before struct {
	exists bool
	rows   int
	sum    []byte
	// unreadable is why the file could not be read in its format.
	unreadable error
}

// summarize counts a file's rows (building no field) and hashes its bytes.
func summarize(path string, format fileformat.Format) (before, error) {
	b := before{}
	err := eachRow(path, format, map[string]bool{}, func(etl.Record) {
		b.rows++
	}, &b)
	return b, err
}

// eachRow reads the rows of the file at path, calling fn for each, and
// fills b: whether it exists, its hash, why it could not be read (a row
// that is not valid stops the reading; the file is then replaced whole).
func eachRow(path string, format fileformat.Format, fields map[string]bool, fn func(etl.Record), b *before) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b.exists = true
	h := sha256.New()
	r := fileformat.NewReader(hashing{f, h}, path, fileformat.Options{Format: format, Header: true, Fields: fields})
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *fileformat.Error
		if errors.As(err, &rowErr) {
			b.unreadable = rowErr
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		fn(rec)
	}
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	b.sum = h.Sum(nil)
	return nil
}

// hashing hashes what is read from a file; it keeps the file's ReadAt, by
// which the reader finds the lines of errors.
type hashing struct {
	*os.File
	h hash.Hash
}

func (t hashing) Read(p []byte) (int, error) {
	n, err := t.File.Read(p)
	t.h.Write(p[:n])
	return n, err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
