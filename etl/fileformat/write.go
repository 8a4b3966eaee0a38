package fileformat

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// Writer writes records to a file in a format, each as it comes.
type Writer struct {
	w      *bufio.Writer
	format Format
	// fields are the fields written, in order; nil: every field of each
	// record, sorted (JSON), or of the first record (CSV, whose header
	// must be written before the first row).
	fields []string
	rows   int
	buf    []byte
	// header says a CSV header line was written.
	header bool
	// derived holds the CSV columns taken from the first record: a later
	// record with another field cannot be written.
	derived map[string]bool
	// shape is how the last JSON object was written: its fields, in order,
	// each with the text before its value. Records of a pipeline mostly
	// have the same fields, so the next one reuses it, unsorted.
	shape shape
}

// shape is the fields of a JSON object in the order written, each with
// its member's start: `{"name":` for the first, `,"name":` for the others.
type shape struct {
	names   []string
	members [][]byte
}

func newShape(names []string) shape {
	sh := shape{names: names, members: make([][]byte, len(names))}
	for i, f := range names {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		sh.members[i] = append(etl.AppendJSONString([]byte{sep}, f), ':')
	}
	return sh
}

// NewWriter writes records to w in format, the fields named in order
// (nil: all, sorted by name). Close ends the file.
func NewWriter(w io.Writer, format Format, fields []string) *Writer {
	wr := &Writer{w: bufio.NewWriterSize(w, bufferSize), format: format, fields: fields}
	if fields != nil {
		wr.shape = newShape(fields)
	}
	return wr
}

// Rows counts the records written.
func (w *Writer) Rows() int { return w.rows }

// Write writes one record.
func (w *Writer) Write(rec etl.Record) error {
	if w.format == CSV && !w.header {
		if err := w.writeHeader(rec); err != nil {
			return err
		}
	}
	var err error
	w.buf = w.buf[:0]
	switch {
	case w.format == JSON && w.rows == 0:
		w.buf = append(w.buf, "[\n"...)
	case w.format == JSON:
		w.buf = append(w.buf, ",\n"...)
	}
	if w.buf, err = w.AppendRow(w.buf, rec); err != nil {
		return err
	}
	if w.format != JSON {
		w.buf = append(w.buf, '\n')
	}
	w.rows++
	_, err = w.w.Write(w.buf)
	return err
}

// writeHeader writes the CSV header: the fields, or the first record's.
func (w *Writer) writeHeader(first etl.Record) error {
	if w.fields == nil {
		w.fields = sortedFields(first)
		w.derived = make(map[string]bool, len(w.fields))
		for _, f := range w.fields {
			w.derived[f] = true
		}
	}
	w.header = true
	w.buf = w.buf[:0]
	for i, f := range w.fields {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendCSVField(w.buf, f)
	}
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// Close ends the file (a JSON array's closing bracket; a CSV header when
// no record came and the fields are known) and flushes it. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	switch {
	case w.format == JSON && w.rows == 0:
		w.w.WriteString("[]\n")
	case w.format == JSON:
		w.w.WriteString("\n]\n")
	case w.format == CSV && !w.header && w.fields != nil:
		if err := w.writeHeader(nil); err != nil {
			return err
		}
	}
	return w.w.Flush()
}

// AppendRow appends rec as the file holds it, without the line's end: a
// JSON object, or a CSV line. A record written, and the same record read
// back and appended again, give the same bytes, so rows of two files can
// be compared by them.
func (w *Writer) AppendRow(dst []byte, rec etl.Record) ([]byte, error) {
	if w.format == CSV {
		if w.fields == nil {
			return dst, fmt.Errorf("plugin bug: CSV row before its header")
		}
		return appendCSVRow(dst, w.fields, w.derived, rec)
	}
	if w.fields == nil && (len(rec) != len(w.shape.names) || w.shape.members == nil) {
		w.shape = newShape(sortedFields(rec))
	}
	if len(w.shape.names) == 0 {
		return append(dst, "{}"...), nil
	}
	start := len(dst)
	for i, f := range w.shape.names {
		v, ok := rec[f]
		if !ok || v == cty.NilVal {
			if w.fields == nil {
				// Another field than the last record's, as many: the
				// names are distinct, so having all of them, and as
				// many fields, is the same set. Write it its own way.
				w.shape = newShape(sortedFields(rec))
				return w.AppendRow(dst[:start], rec)
			}
			v = cty.NullVal(cty.DynamicPseudoType)
		}
		dst = append(dst, w.shape.members[i]...)
		var err error
		if dst, err = etl.AppendJSON(dst, v); err != nil {
			return dst, fmt.Errorf("field %q: %w", f, err)
		}
	}
	return append(dst, '}'), nil
}

// appendCSVRow appends rec's cells; with derived (the columns taken from
// the first record), a field outside them is an error rather than lost.
func appendCSVRow(dst []byte, fields []string, derived map[string]bool, rec etl.Record) ([]byte, error) {
	if derived != nil {
		for f := range rec {
			if !derived[f] {
				return dst, fmt.Errorf("field %q is not a column of the CSV file (%s, from its first record): list the fields to write in the sink's fields", f, strings.Join(fields, ", "))
			}
		}
	}
	var cell []byte
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if cell, err = etl.AppendText(cell[:0], rec.Get(f)); err != nil {
			return dst, fmt.Errorf("field %q: %w", f, err)
		}
		if len(fields) == 1 && len(cell) == 0 {
			dst = append(dst, `""`...) // an empty line would read as no row
			continue
		}
		dst = appendCSVField(dst, string(cell))
	}
	return dst, nil
}

// appendCSVField quotes a cell as encoding/csv does: when it holds a
// comma, a quote, a line end or leading space, or is `\.`.
func appendCSVField(dst []byte, s string) []byte {
	needs := s == `\.` || strings.ContainsAny(s, ",\"\r\n") || (s != "" && (s[0] == ' ' || s[0] == '\t'))
	if !needs {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

func sortedFields(rec etl.Record) []string {
	names := make([]string, 0, len(rec))
	for k, v := range rec {
		if v != cty.NilVal {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}
