package fileformat

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// Options say how to read a file.
type Options struct {
	Format Format
	// Header says a CSV file's first line names its columns. Without a
	// header, Columns name the cells in order.
	Header bool
	// Columns, when set, are the fields of the records, typed: a CSV cell
	// is converted to its column's type, a JSON value must have it (or be
	// null). Other columns and members are ignored. Unset, a record holds
	// every header column (strings) or JSON member (as JSON typed it).
	Columns Columns
	// KeyField names the field that receives each record's key, for a
	// JSON file holding an object of objects; unset, the key is dropped.
	KeyField string
	// Fields, when set, are the only fields worth building: the others are
	// skipped (see etl.Env.Fields).
	Fields map[string]bool
}

// Error is a row the reader could not read: the file, the line where the
// row starts, and why. Values from the file are not in it: they may be
// personal data.
type Error struct {
	File string
	Line int
	Err  error
	// Fatal says the rest of the file cannot be read (JSON broken inside
	// an array, a CSV header without a declared column): the reader
	// returns this error from then on. A reader goes on to the next row
	// after any other Error.
	Fatal bool
}

// Error renders "file:line: why".
func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Reader reads records from a file, one at a time.
type Reader struct {
	name string
	opts Options
	src  io.Reader
	br   *bufio.Reader
	next func() (etl.Record, error)
	line int // where the last row read starts
	// offset, when line is 0, is where the last row read starts in bytes
	// (JSON): its line is counted only when asked for, on an error.
	offset int64
	fatal  error
	// cols are the columns to build: Columns, less those Fields leaves out.
	cols []Column
}

// bufferSize is the read buffer: large enough that a row is read in one
// piece, small beside a file of any size.
const bufferSize = 64 << 10

// NewReader reads records from src, whose name (its path) errors give. A
// src that is an io.ReaderAt too (an *os.File) gives the lines of errors
// in JSON files, found by reading the file again up to them.
func NewReader(src io.Reader, name string, opts Options) *Reader {
	r := &Reader{name: name, opts: opts, src: src, br: bufio.NewReaderSize(src, bufferSize)}
	for _, c := range opts.Columns {
		if opts.Fields == nil || opts.Fields[c.Name] {
			r.cols = append(r.cols, c)
		}
	}
	skipBOM(r.br)
	switch opts.Format {
	case CSV:
		r.next = r.csvReader()
	case JSON:
		r.next = r.jsonReader()
	default:
		r.next = r.jsonlReader()
	}
	return r
}

// skipBOM drops the UTF-8 byte order mark that spreadsheet programs put at
// the start of the files they export.
func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
}

// Read returns the next record, io.EOF at the end, or an *Error for a row
// that could not be read (see Error.Fatal), or the error reading src.
func (r *Reader) Read() (etl.Record, error) {
	if r.fatal != nil {
		return nil, r.fatal
	}
	rec, err := r.next()
	if err == nil {
		return rec, nil // before errors.As, whose target would cost an allocation a record
	}
	var e *Error
	if errors.As(err, &e) && e.Fatal {
		r.fatal = err
	}
	return rec, err
}

// Line is the line where the last row read starts (1 for the first line).
func (r *Reader) Line() int {
	if r.line == 0 {
		r.line = r.lineAt(r.offset)
	}
	return r.line
}

// rowError makes an Error at the current row.
func (r *Reader) rowError(fatal bool, format string, args ...any) *Error {
	return &Error{File: r.name, Line: r.Line(), Err: fmt.Errorf(format, args...), Fatal: fatal}
}

// want is the set of members a JSON record needs converted: the columns
// built, or Fields.
func (r *Reader) want() map[string]bool {
	if r.opts.Columns == nil {
		return r.opts.Fields
	}
	w := make(map[string]bool, len(r.cols))
	for _, c := range r.cols {
		w[c.Name] = true
	}
	return w
}

// typed keeps a JSON record's declared columns, checked against their
// types; a record without Columns is returned as it is.
func (r *Reader) typed(rec etl.Record) (etl.Record, error) {
	if r.opts.Columns == nil {
		return rec, nil
	}
	out := make(etl.Record, len(r.cols)+1)
	for _, c := range r.cols {
		v, err := c.Type.check(rec.Get(c.Name))
		if err != nil {
			return nil, r.rowError(false, "field %q: %v", c.Name, err)
		}
		out[c.Name] = v
	}
	return out, nil
}

func (r *Reader) jsonlReader() func() (etl.Record, error) {
	var dec etl.JSONDecoder
	var long []byte // a line longer than the buffer, pieced together
	next := 1
	want := r.want()
	return func() (etl.Record, error) {
		for {
			line, err := r.br.ReadSlice('\n')
			for errors.Is(err, bufio.ErrBufferFull) {
				long = append(long[:0], line...)
				line, err = r.br.ReadSlice('\n')
				long = append(long, line...)
				line = long
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			if len(line) == 0 && err != nil {
				return nil, io.EOF
			}
			r.line = next
			next++
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			rec, perr := dec.Record(line, want)
			if perr != nil {
				return nil, r.rowError(false, "%v", perr)
			}
			return r.typed(rec)
		}
	}
}

func (r *Reader) csvReader() func() (etl.Record, error) {
	cr := csv.NewReader(r.br)
	cr.FieldsPerRecord = -1 // checked here, with a clearer message
	cr.ReuseRecord = true
	var idx []int     // cell index of each column built
	var width int     // cells a row must have (the header's), 0: at least len(idx)
	var cols []Column // the columns built, in idx's order
	started := false
	start := func() error {
		started = true
		if !r.opts.Header {
			cols = r.cols
			for _, c := range cols {
				idx = append(idx, columnIndex(r.opts.Columns, c.Name))
			}
			return nil
		}
		header, err := cr.Read()
		if err != nil {
			return err
		}
		r.line = 1
		width = len(header)
		at := map[string]int{}
		for i, h := range header {
			h = strings.TrimSpace(h)
			if _, dup := at[h]; dup && h != "" {
				return r.rowError(true, "the header names column %q twice", h)
			}
			at[h] = i
		}
		if r.opts.Columns != nil {
			for _, c := range r.opts.Columns {
				if _, ok := at[c.Name]; !ok {
					return r.rowError(true, "the header has no column %q (it has: %s); fix the header or the block's columns", c.Name, strings.Join(header, ", "))
				}
			}
			cols = r.cols
		} else {
			for _, h := range header {
				h = strings.TrimSpace(h)
				if h != "" && (r.opts.Fields == nil || r.opts.Fields[h]) {
					cols = append(cols, Column{Name: h, Type: String})
				}
			}
		}
		if _, unnamed := at[""]; unnamed && len(at) == 1 {
			return r.rowError(true, "the header names no column")
		}
		for _, c := range cols {
			idx = append(idx, at[c.Name])
		}
		return nil
	}
	return func() (etl.Record, error) {
		if !started {
			if err := start(); err != nil {
				return nil, r.csvError(err, true)
			}
		}
		row, err := cr.Read()
		if err != nil {
			return nil, r.csvError(err, false)
		}
		r.line, _ = cr.FieldPos(0)
		switch {
		case width > 0 && len(row) != width:
			return nil, r.rowError(false, "%d fields, the header has %d", len(row), width)
		case width == 0 && len(row) < len(r.opts.Columns):
			return nil, r.rowError(false, "%d fields, the block declares %d columns", len(row), len(r.opts.Columns))
		}
		rec := make(etl.Record, len(cols))
		for i, c := range cols {
			v, err := c.Type.parseText(row[idx[i]])
			if err != nil {
				return nil, r.rowError(false, "column %q: %v", c.Name, err)
			}
			rec[c.Name] = v
		}
		return rec, nil
	}
}

// csvError turns encoding/csv's errors into Errors at their line.
func (r *Reader) csvError(err error, fatal bool) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.As(err, &pe):
		r.line = pe.StartLine
		return &Error{File: r.name, Line: pe.StartLine, Err: pe.Err, Fatal: fatal}
	}
	return err
}

func columnIndex(cols Columns, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func (r *Reader) jsonReader() func() (etl.Record, error) {
	dec := json.NewDecoder(r.br)
	var jd etl.JSONDecoder
	want := r.want()
	if want != nil && r.opts.KeyField != "" {
		want = cloneWith(want, r.opts.KeyField)
	}
	keyed, started, ended := false, false, false
	// fail is a fatal error at offset: the decoder cannot go on.
	fail := func(offset int64, format string, args ...any) error {
		r.line, r.offset = 0, offset
		return r.rowError(true, format, args...)
	}
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Offset, "invalid JSON: %v", se)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fail(math.MaxInt64, "the JSON ends too early (the file is cut short?)") // at its last line
		}
		return err
	}
	return func() (etl.Record, error) {
		if ended {
			return nil, io.EOF
		}
		if !started {
			started = true
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				ended = true
				return nil, io.EOF // an empty file: no records
			}
			if err != nil {
				return nil, syntax(err)
			}
			switch tok {
			case json.Delim('['):
			case json.Delim('{'):
				keyed = true
			default:
				return nil, fail(0, "a JSON file must hold an array of objects or an object of objects keyed by id")
			}
		}
		if !dec.More() {
			if _, err := dec.Token(); err != nil { // the closing bracket
				return nil, syntax(err)
			}
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return nil, fail(dec.InputOffset(), "data after the JSON value")
			}
			ended = true
			return nil, io.EOF
		}
		var key string
		if keyed {
			tok, err := dec.Token()
			if err != nil {
				return nil, syntax(err)
			}
			key, _ = tok.(string)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		r.line, r.offset = 0, dec.InputOffset()-int64(len(raw))
		rec, err := jd.Record(raw, want)
		if err != nil {
			return nil, r.rowError(false, "%v", err)
		}
		rec, err = r.typed(rec)
		if err != nil {
			return nil, err
		}
		if keyed && r.opts.KeyField != "" && (r.opts.Fields == nil || r.opts.Fields[r.opts.KeyField]) {
			rec[r.opts.KeyField] = cty.StringVal(key)
		}
		return rec, nil
	}
}

func cloneWith(m map[string]bool, k string) map[string]bool {
	c := make(map[string]bool, len(m)+1)
	for n := range m {
		c[n] = true
	}
	c[k] = true
	return c
}

// lineAt returns the line of a byte offset of src by reading it again up
// to there; 0 when src cannot be read again. The JSON decoder counts
// bytes, not lines, and counting lines as it reads would cost every row.
func (r *Reader) lineAt(offset int64) int {
	ra, ok := r.src.(io.ReaderAt)
	if !ok {
		return 0
	}
	line := 1
	buf := make([]byte, 32<<10)
	for pos := int64(0); pos < offset; {
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), offset-pos)], pos)
		line += bytes.Count(buf[:n], []byte{'\n'})
		pos += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	return line
}
