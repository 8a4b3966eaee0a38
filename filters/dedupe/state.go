package dedupe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/spill"
)

// stateVersion is the format of the snapshot's JSON.
const stateVersion = 2

// SnapshotStream captures the kept records as of now: where each is in the
// spill file, which stays open until the snapshot is released. Records
// appended later (the next dates) do not change it, and replaced ones stay
// in the file, so the snapshot can be written long after.
func (d *Dedupe) SnapshotStream() (etl.Snapshot, error) {
	places := make([]place, 0, len(d.kept))
	for _, e := range d.kept {
		places = append(places, place{e.off + int64(e.rank), e.n - uint32(e.rank)})
	}
	// In the order they were kept: the same state gives the same bytes,
	// and reading the file forward is what disks like.
	slices.SortFunc(places, func(a, b place) int { return int(a.off - b.off) })
	if d.spill != nil {
		d.spill.Retain()
	}
	return &snapshot{file: d.spill, places: places}, nil
}

// Snapshot returns the state as bytes (see SnapshotStream).
func (d *Dedupe) Snapshot() ([]byte, error) {
	s, err := d.SnapshotStream()
	if err != nil {
		return nil, err
	}
	defer s.Release()
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// place is where a kept record is in the spill file (its rank excluded).
type place struct {
	off int64
	n   uint32
}

// snapshot writes {"version": 2, "records": [...]}, each record in
// etl.AppendRecord's compact form, as copied from the spill file.
type snapshot struct {
	file   *spill.File
	places []place
}

func (s *snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: bufio.NewWriterSize(w, 64<<10)}
	cw.WriteString(`{"version":` + strconv.Itoa(stateVersion) + `,"records":[`)
	var buf []byte
	for i, p := range s.places {
		if i > 0 {
			cw.WriteString(",")
		}
		buf = slices.Grow(buf[:0], int(p.n))[:p.n]
		if err := s.file.ReadAt(buf, p.off); err != nil {
			return cw.n, fmt.Errorf("dedupe snapshot: %w", err)
		}
		cw.Write(buf)
	}
	cw.WriteString("]}")
	if err := cw.w.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

func (s *snapshot) Release() {
	if s.file != nil {
		s.file.Release()
		s.file = nil
	}
}

// countingWriter counts what it writes and keeps the first error.
type countingWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countingWriter) WriteString(s string) {
	if c.err != nil {
		return
	}
	n, err := c.w.WriteString(s)
	c.n += int64(n)
	c.err = err
}

// checkStateVersion reads the state's version.
func checkStateVersion(data []byte) error {
	var st struct {
		Version int `json:"version"`
	}
	// Records are skipped by the decoder without being kept.
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("dedupe state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("dedupe state: version %d, want %d (start over with --fresh)", st.Version, stateVersion)
	}
	return nil
}

// seekRecords moves dec to the first element of the "records" array.
func seekRecords(dec *json.Decoder) error {
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if t == "records" {
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return fmt.Errorf(`"records" is not a list`)
			}
			return nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return fmt.Errorf(`no "records"`)
}

// Restore replaces the kept records with a snapshot's. Key, order and
// tie-breaker are recomputed from the records (the fingerprint guarantees
// the expressions are unchanged).
//
// The records are read one at a time and go to the spill file as they come:
// a state of 50,000 records is never held twice.
func (d *Dedupe) Restore(data []byte) error {
	if err := checkStateVersion(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := seekRecords(dec); err != nil {
		return fmt.Errorf("dedupe state: %w", err)
	}
	d.Close()
	d.kept = map[string]entry{}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("dedupe state: record %d: %w", i, err)
		}
		rec, err := etl.DecodeRecord(raw)
		if err != nil {
			return fmt.Errorf("dedupe state: record %d: %w", i, err)
		}
		ck, r, err := d.evaluate(rec)
		if err != nil {
			return fmt.Errorf("dedupe state: record %d: %w", i, err)
		}
		if ck == "" {
			return fmt.Errorf("dedupe state: record %d has a null key", i)
		}
		if err := d.keep(ck, rec, r, raw); err != nil {
			return fmt.Errorf("dedupe state: %w", err)
		}
	}
	return nil
}
