package file

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"regexp"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/fileformat"
	"github.com/etlhq/etl/etl/phone"
)

// diff compares the rows a plan would write with the target's, as
// multisets: a row is the same when it is written the same (fields in the
// same order, values alike), wherever it is in the file. The target's
// rows are held as hashes, 8 bytes and a count each; rows are listed only
// for --show-entries, and the target's are read again for that.
type diff struct {
	path   string
	format fileformat.Format
	fields []string
	seed   maphash.Seed
	before before
	// old counts the target's rows by hash; rows written take theirs off.
	old map[uint64]int32
	// added counts rows written that the target lacks; shown holds the
	// first of them.
	added int
	shown []string
}

// maxShown bounds the rows --show-entries lists of each kind.
const maxShown = 10

// readTarget reads the file a plan would replace.
func readTarget(path string, format fileformat.Format, fields []string) (*diff, error) {
	d := &diff{path: path, format: format, fields: fields, seed: maphash.MakeSeed(), old: map[uint64]int32{}}
	err := d.eachOld(func(row []byte) { d.old[maphash.Bytes(d.seed, row)]++ })
	return d, err
}

// eachOld calls fn with each of the target's rows as the sink would write
// them, and fills d.before.
func (d *diff) eachOld(fn func(row []byte)) error {
	enc := fileformat.NewWriter(io.Discard, d.format, d.fields)
	var row []byte
	var encErr error
	d.before = before{}
	err := eachRow(d.path, d.format, nil, func(rec etl.Record) {
		d.before.rows++
		if encErr != nil {
			return
		}
		if encErr = enc.Write(rec); encErr == nil {
			row, encErr = enc.AppendRow(row[:0], rec)
		}
		if encErr == nil {
			fn(row)
		}
	}, &d.before)
	if err == nil && encErr != nil {
		d.before.unreadable = encErr
	}
	return err
}

// add matches a row written against the target's.
func (d *diff) add(row []byte) {
	h := maphash.Bytes(d.seed, row)
	if d.old[h] > 0 {
		d.old[h]--
		return
	}
	d.added++
	if len(d.shown) < maxShown {
		d.shown = append(d.shown, string(row))
	}
}

// change renders the comparison once every row is written.
func (d *diff) change(path string, rows int, env etl.Env) etl.Change {
	removed := 0
	for _, n := range d.old {
		removed += int(n)
	}
	c := etl.Change{Changed: d.added > 0 || removed > 0 || !d.before.exists,
		Counts: []etl.Count{{Name: "added", N: int64(d.added)}, {Name: "removed", N: int64(removed)}, {Name: "unchanged", N: int64(rows - d.added)}},
		Size:   &etl.Size{Unit: "rows", Before: int64(d.before.rows), After: int64(rows)}}
	switch {
	case !d.before.exists:
		c.Summary = fmt.Sprintf("would write %s: %s (would create it)", plural(rows, "row"), path)
	case d.before.unreadable != nil:
		c.Changed = true
		c.Summary = fmt.Sprintf("would write %s: %s, replacing a file that is not valid %s (%v)", plural(rows, "row"), path, d.format, d.before.unreadable)
	case !c.Changed:
		c.Summary = fmt.Sprintf("%s already holds these %s", path, plural(rows, "row"))
	default:
		c.Summary = fmt.Sprintf("would write %s: %s (has %d): +%d -%d rows, %d unchanged", plural(rows, "row"), path, d.before.rows, d.added, removed, rows-d.added)
	}
	if !env.ShowEntries || !c.Changed {
		return c
	}
	show := func(sign string, row string) string {
		if !env.Unmask {
			row = maskPhones(row)
		}
		return sign + " " + row
	}
	for _, r := range d.shown {
		c.Details = append(c.Details, show("+", r))
	}
	if d.added > len(d.shown) {
		c.Details = append(c.Details, fmt.Sprintf("+ … and %d more", d.added-len(d.shown)))
	}
	if removed > 0 && d.before.unreadable == nil {
		listed := 0
		d.eachOld(func(row []byte) {
			h := maphash.Bytes(d.seed, row)
			if d.old[h] > 0 && listed < maxShown {
				d.old[h]--
				listed++
				c.Details = append(c.Details, show("-", string(bytes.Clone(row))))
			}
		})
		if removed > listed {
			c.Details = append(c.Details, fmt.Sprintf("- … and %d more", removed-listed))
		}
	}
	return c
}

// phoneLike finds what may be a phone number in a row: 10 or more digits,
// possibly with a leading + and separators.
var phoneLike = regexp.MustCompile(`\+?\d[\d\-. ()]{8,}\d`)

// maskPhones masks what looks like a phone in a row to its last four
// digits, as the other sinks show phones unless --unmask.
func maskPhones(row string) string {
	return phoneLike.ReplaceAllStringFunc(row, func(s string) string {
		if p, _, ok := phone.Normalize(s); ok {
			return phone.Mask(p)
		}
		return s
	})
}
