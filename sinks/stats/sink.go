package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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

	state etl.Table // rows and keys seen, checkpointed (see state.go)
	rows  []Row
	bytes map[string]int64 // per date, when the source reported it
	seen  keySet

	// The partition in progress.
	calls, nullKeys int64
	today           keySet

	// before is the file as it was when the run started, for Change.
	before       []Row
	beforeExists bool
	// backedUp is set once this run has kept the file it started with as
	// <path>.bak; later writes replace only this run's own rows.
	backedUp bool
	// disk is the rows the file holds (as read, then as last written).
	disk []Row
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
	// Read in both modes, when the sink is built: before any source
	// starts, so before any API request. A file that is not a stats file
	// is not ours to replace (a truncated copy, another program's file at
	// this path): the run stops and the file is left as it is.
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("stats file %s cannot be read (%v); it was left untouched: move it away or fix its permissions, then run again", s.path, err)
	default:
		rows, err := parseFile(data)
		if err != nil {
			return nil, fmt.Errorf("stats file %s is not a stats file: %v; it was left untouched. Move it away (for example to %s.broken) and run again: the run writes a new one", s.path, err, s.path)
		}
		s.beforeExists = true
		s.written = data
		s.before = rows
		s.disk = rows
	}
	if !env.Plan {
		// The stats file has one writer, this run: temp files beside it
		// are leftovers of a killed run.
		_ = atomicfile.RemoveStale(s.path)
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
	if n, ok := etl.InfoInvalidPhones.Get(m); ok {
		row.InvalidPhones = n
	}
	fresh := s.seen.addNew(s.today)
	row.NewPhonesToday = int64(len(fresh))
	row.CumulativeUniquePhones = int64(s.seen.len())
	bytes, hasBytes := etl.InfoBytes.Get(m)
	if hasBytes {
		s.bytes[m.Partition] = bytes
	}
	s.rows = append(s.rows, row)
	if err := s.storeRow(row, bytes, hasBytes, fresh); err != nil {
		return err
	}
	s.calls, s.nullKeys = 0, 0
	s.today.clear()

	s.env.Report(etl.EventPartition, row.Date, dateLine(row, bytes, hasBytes), rowData(row, bytes, hasBytes))
	return s.save(false)
}

// rowData is a row as events carry it: a partition event's data, and an
// item of the summary's "partitions".
func rowData(row Row, bytes int64, hasBytes bool) map[string]any {
	data := map[string]any{
		"date": row.Date, "totalCalls": row.TotalCalls, "uniquePhonesToday": row.UniquePhonesToday,
		"newPhonesToday": row.NewPhonesToday, "cumulativeUniquePhones": row.CumulativeUniquePhones,
		"invalidPhones": row.InvalidPhones, "incomplete": row.Incomplete,
	}
	if hasBytes {
		data["bytes"] = bytes
	}
	return data
}

// Finish reports the summary table and, in apply mode, makes sure the file
// holds every row (a resumed run whose dates were all done writes the
// restored rows).
func (s *sink) Finish(_ context.Context, _ etl.Output) error {
	if s.calls > 0 {
		s.env.Report(etl.EventWarning, "", fmt.Sprintf("%d records arrived after the last partition mark and are not in the stats", s.calls), nil)
	}
	var total int64
	// Every row, the restored ones too: a resumed run's report shows the
	// whole range, not only the dates this run fetched.
	partitions := make([]map[string]any, len(s.rows))
	for i, r := range s.rows {
		total += r.TotalCalls
		bytes, hasBytes := s.bytes[r.Date]
		partitions[i] = rowData(r, bytes, hasBytes)
		partitions[i][etl.DataPartition] = r.Date
	}
	s.env.Report(etl.EventInfo, "", summaryTable(s.rows, s.bytes), map[string]any{
		"dates": len(s.rows), "totalCalls": total, "uniquePhones": s.seen.len(),
		etl.DataSeries: []etl.Series{newPhonesSeries(s.rows)}, etl.DataPartitions: partitions,
	})
	return s.save(true)
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

// save replaces the file in apply mode when its content changed. Before
// the end (final false) a file that already holds the rows so far, and
// more, is left alone: it holds every finished date already, and a re-run
// that ends with the same rows then writes nothing (and keeps no backup).
func (s *sink) save(final bool) error {
	if s.env.Plan {
		return nil
	}
	if !final && len(s.rows) <= len(s.disk) && slices.Equal(s.rows, s.disk[:len(s.rows)]) {
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
	// The first replacement keeps the file the run started with as
	// <path>.bak, as the redial queue does: the rows of earlier runs are
	// the user's, and a run that produced fewer dates would drop some.
	backup := s.beforeExists && !s.backedUp
	if err := atomicfile.Write(s.path, atomicfile.Options{Perm: 0o644, Backup: backup}, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	s.backedUp = s.backedUp || backup
	s.written = b
	s.disk = s.rows[:len(s.rows):len(s.rows)]
	return nil
}
