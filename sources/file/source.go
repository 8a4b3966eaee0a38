package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/fileformat"
)

// source is a running file block.
type source struct {
	cfg  Config
	env  etl.Env
	opts fileformat.Options
	// skipped lists the rows skipped (on_error = "skip"), file:line: why.
	skipped []string
}

func newSource(cfg *Config, env etl.Env) (*source, error) {
	format, err := fileformat.ParseFormat(cfg.Format)
	if err != nil {
		return nil, err
	}
	return &source{cfg: *cfg, env: env, opts: fileformat.Options{
		Format: format, Header: cfg.Header, Columns: cfg.Columns, KeyField: cfg.KeyField, Fields: env.Fields,
	}}, nil
}

// file is one file to read: its path and its partition name.
type file struct{ path, name string }

// files lists the files the glob matches, in name order.
func (s *source) files() ([]file, error) {
	pattern := s.cfg.Path
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(s.env.Dir, pattern)
	}
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s.cfg.Path, err)
	}
	var files []file
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			continue // a glob such as data/* may match directories too
		}
		files = append(files, file{path: p, name: partitionName(s.cfg.Path, s.env.Dir, p)})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("path %q matches no file (looked for %s); check the path, which is relative to the pipeline file's directory", s.cfg.Path, pattern)
	}
	return files, nil
}

// Read reads the files not done yet, one partition each.
func (s *source) Read(ctx context.Context, out etl.Output) error {
	all, err := s.files()
	if err != nil {
		return err
	}
	var todo []file
	for _, f := range all {
		if s.env.Done == nil || !s.env.Done(f.name) {
			todo = append(todo, f)
		}
	}
	done := len(all) - len(todo)
	msg := fmt.Sprintf("%s: %s to read", s.env.Addr, plural(len(todo), "file"))
	if done > 0 {
		msg += fmt.Sprintf(" (%d done in the checkpoint)", done)
	}
	s.env.Report(etl.EventInfo, "", msg, map[string]any{"files": len(todo), "done": done})
	for _, f := range todo {
		if err := s.readFile(ctx, f, out); err != nil {
			return err
		}
	}
	return nil
}

// Counts of a file for the report and the checkpoint.
var (
	infoRows    = etl.NewInfoKey("rows")
	infoSkipped = etl.NewInfoKey("skipped_rows")
)

// readFile emits one file's records, then its mark.
func (s *source) readFile(ctx context.Context, f file, out etl.Output) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r := fileformat.NewReader(fh, f.name, s.opts)
	rows, skipped := int64(0), int64(0)
	for {
		if rows%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *fileformat.Error
		if errors.As(err, &rowErr) && !rowErr.Fatal && s.cfg.OnError == "skip" {
			skipped++
			out.Drop("unreadable row")
			s.skipped = append(s.skipped, rowErr.Error())
			continue
		}
		if rowErr != nil {
			hint := `; on_error = "skip" skips such rows`
			if rowErr.Fatal {
				hint = ""
			}
			return fmt.Errorf("%w%s", rowErr, hint)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.path, err)
		}
		rows++
		if err := out.Emit(rec); err != nil {
			return err
		}
	}
	mark := &etl.Mark{Source: s.env.Addr, Partition: f.name}
	infoRows.Set(mark, rows)
	infoSkipped.Set(mark, skipped)
	if info, err := fh.Stat(); err == nil {
		etl.InfoBytes.Set(mark, info.Size())
	}
	msg := fmt.Sprintf("%s: %s", f.name, plural(int(rows), "row"))
	if skipped > 0 {
		msg += fmt.Sprintf(" (%d unreadable, skipped)", skipped)
	}
	s.env.Report(etl.EventProgress, f.name, msg, map[string]any{"file": f.name, "rows": rows, "skipped": skipped})
	return out.EndPartition(mark)
}

// Skipped lists the rows skipped, file:line: why.
func (s *source) Skipped() []string { return s.skipped }

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
