package etl

import (
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl/phone"
	"github.com/zclconf/go-cty/cty"
)

// RecordFault holds the first per-record error of a partition until the
// partition's mark arrives, so that the error can name the partition: the
// records between two marks are the later mark's partition, as a stateful
// stage's changes are. A Processor that fails on a record (where's bad
// condition, map's failed expression) uses one from its goroutine:
//
//	if !f.Next() { return nil }       // in Process, first
//	f.Fail(err, detail)               // on a bad record
//	return f.EndPartition(m)          // in EndPartition
//	return f.Finish()                 // in Finish
//
// The run then fails before the partition is done; the rest of the
// partition is read and goes nowhere.
type RecordFault struct {
	seen int64 // records of the current partition so far
	err  error
}

// Next counts a record of the current partition and reports whether the
// stage should handle it: false once a record of the partition failed.
func (f *RecordFault) Next() bool {
	f.seen++
	return f.err == nil
}

// Fail records err for the current record, described by detail (see
// DescribeFields), unless a record before it failed.
func (f *RecordFault) Fail(err error, detail string) {
	if f.err == nil {
		f.err = fmt.Errorf("record %d (%s): %w", f.seen, detail, err)
	}
}

// EndPartition returns the held error, naming m's partition, and starts
// counting the next partition.
func (f *RecordFault) EndPartition(m *Mark) error {
	f.seen = 0
	if f.err != nil {
		return fmt.Errorf("partition %s, %w", m.Partition, f.err)
	}
	return nil
}

// Finish returns the held error of records that came after the last mark
// (emitted at the end of input by a stage upstream).
func (f *RecordFault) Finish() error {
	if f.err != nil {
		return fmt.Errorf("at the end of input, after the last partition, %w", f.err)
	}
	return nil
}

// DescribeFields renders some fields of rec for a message, "name = value,
// ...", each once, strings masked to their last four characters unless
// unmask: they may be phones or names.
func DescribeFields(rec Record, fields []string, unmask bool) string {
	var parts []string
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f] {
			continue
		}
		seen[f] = true
		v := rec.Get(f)
		s := Describe(v)
		if !unmask && v.IsKnown() && !v.IsNull() && !v.IsMarked() && v.Type() == cty.String {
			s = fmt.Sprintf("%q", phone.Mask(v.AsString()))
		}
		parts = append(parts, f+" = "+s)
	}
	if len(parts) == 0 {
		return "no field read"
	}
	return strings.Join(parts, ", ")
}
