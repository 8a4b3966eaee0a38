package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
)

// Row is one partition's line in the stats file. The JSON names are the
// file's contract with whoever reads it.
type Row struct {
	Date                   string `json:"date"`
	TotalCalls             int64  `json:"totalCalls"`
	UniquePhonesToday      int64  `json:"uniquePhonesToday"`
	NewPhonesToday         int64  `json:"newPhonesToday"`
	CumulativeUniquePhones int64  `json:"cumulativeUniquePhones"`
	InvalidPhones          int64  `json:"invalidPhones"`
	Incomplete             bool   `json:"incomplete,omitempty"`
}

// sink counts records per partition. It runs in one goroutine (the
// engine's), so it needs no locking.
type sink struct {
	key  etl.Expr
	path string
	env  etl.Env

	rows  []Row
	bytes map[string]int64 // per date, when the source reported it
	seen  keySet

	// The partition in progress.
	calls, nullKeys int64
	today           keySet

	// before is the file as it was when the run started, for Change.
	before       []Row
	beforeExists bool
	beforeErr    error
	// written is the file's content as last read or written, so that an
	// unchanged file is not rewritten.
	written []byte
}

func newSink(c Config, env etl.Env) (*sink, error) {
	s := &sink{
		key:   c.Key,
		path:  c.Path,
		env:   env,
		bytes: map[string]int64{},
		seen:  newKeySet(),
		today: newKeySet(),
	}
	// Reading is allowed in both modes; the old rows are only compared
	// against, never trusted: the file is this sink's own output and is
	// replaced whatever it held.
	if !env.Plan {
		// The stats file has one writer, this run: temp files beside it
		// are leftovers of a killed run.
		_ = atomicfile.RemoveStale(s.path)
	}
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", s.path, err)
	default:
		s.beforeExists = true
		s.written = data
		if err := json.Unmarshal(data, &s.before); err != nil {
			s.beforeErr = err
		}
	}
	return s, nil
}

// Write counts one record into the current partition.
func (s *sink) Write(_ context.Context, rec etl.Record) error {
	s.calls++
	k, ok, err := s.key.EvalString(rec)
	if err != nil {
		return err
	}
	if !ok || k == "" {
		s.nullKeys++
		return nil
	}
	s.today.add(k)
	return nil
}

// EndPartition closes the partition's row, reports it and, in apply mode,
// replaces the file so that a crash leaves the finished dates on disk.
func (s *sink) EndPartition(_ context.Context, m *etl.Mark, _ etl.Output) error {
	row := Row{
		Date:              m.Partition,
		TotalCalls:        s.calls,
		UniquePhonesToday: int64(s.today.len()),
		InvalidPhones:     s.nullKeys,
		Incomplete:        m.Incomplete,
	}
	// The source knows better how many phones it rejected (it may drop
	// such calls rather than pass a null phone).
	if n, ok := m.Info["invalid_phones"]; ok {
		row.InvalidPhones = n
	}
	row.NewPhonesToday = int64(s.seen.addAll(s.today))
	row.CumulativeUniquePhones = int64(s.seen.len())
	bytes, hasBytes := m.Info["bytes"]
	if hasBytes {
		s.bytes[m.Partition] = bytes
	}
	s.rows = append(s.rows, row)
	s.calls, s.nullKeys = 0, 0
	s.today.clear()

	data := map[string]any{
		"date": row.Date, "totalCalls": row.TotalCalls, "uniquePhonesToday": row.UniquePhonesToday,
		"newPhonesToday": row.NewPhonesToday, "cumulativeUniquePhones": row.CumulativeUniquePhones,
		"invalidPhones": row.InvalidPhones, "incomplete": row.Incomplete,
	}
	if hasBytes {
		data["bytes"] = bytes
	}
	s.env.Report(etl.EventPartition, row.Date, dateLine(row, bytes, hasBytes), data)
	return s.save()
}

// Finish reports the summary table and, in apply mode, makes sure the file
// holds every row (a resumed run whose dates were all done writes the
// restored rows).
func (s *sink) Finish(_ context.Context, _ etl.Output) error {
	if s.calls > 0 {
		s.env.Report(etl.EventWarning, "", fmt.Sprintf("%d records arrived after the last partition mark and are not in the stats", s.calls), nil)
	}
	var total int64
	for _, r := range s.rows {
		total += r.TotalCalls
	}
	s.env.Report(etl.EventInfo, "", summaryTable(s.rows, s.bytes), map[string]any{
		"dates": len(s.rows), "totalCalls": total, "uniquePhones": s.seen.len(),
	})
	return s.save()
}

// encode renders the rows: a pretty-printed array, stable for equal rows.
func (s *sink) encode() ([]byte, error) {
	rows := s.rows
	if rows == nil {
		rows = []Row{}
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	return append(b, '\n'), err
}

// save replaces the file in apply mode when its content changed.
func (s *sink) save() error {
	if s.env.Plan {
		return nil
	}
	b, err := s.encode()
	if err != nil {
		return err
	}
	if s.written != nil && string(b) == string(s.written) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", s.path, err)
	}
	if err := atomicfile.WriteFile(s.path, b, 0o644); err != nil {
		return err
	}
	s.written = b
	return nil
}
