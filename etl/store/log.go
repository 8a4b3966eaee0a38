package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/etlhq/etl/etl/lenprefix"
)

// The log's format. A log file starts with logMagic; then come records,
// one per commit, each a header (the payload's length and its CRC-32C,
// little-endian uint32s) and the payload: the batch's operations, each an
// op byte, the key (uvarint length, bytes) and, for opSet, the value
// (uvarint length, bytes). A record is written whole with one write and
// applied only once it is; on open, the log is read up to the first
// record that is short or fails its CRC (a commit a crash tore), which is
// cut off. Commits come in order, each a partition's whole change, so what
// is left is the checkpoint as it was after an earlier commit.
//
// Every value written stays in the log until the log is compacted: the
// live entries are written to a new file, which, once synced, is renamed
// to the next number; the old file is removed. The file with the highest
// number is the log; any other is one a crash left behind before its
// removal, and a ".tmp" file is a compaction a crash interrupted. A log is
// compacted when the store closes, once it is over twice what its live
// entries take (and over compactMin): then nothing else needs the memory
// or the time, and the index need not follow the copies. During a run,
// only a log over four times that, and over 16 times compactMin, is:
// a safety valve for long runs that rewrite the same keys.
const (
	logMagic     = "etl state log 1\n"
	recordHeader = 8
	logPrefix    = "state-"
	logSuffix    = ".log"
	tmpSuffix    = ".tmp"

	opSet          byte = 1
	opDelete       byte = 2
	opDeletePrefix byte = 3

	// compactRecord is the payload size of a compaction's records.
	compactRecord = 1 << 20
)

// compactMin is the log size below which it is never compacted (a
// variable for tests).
var compactMin int64 = 8 << 20

// compactNow reports whether a log of end bytes, live of them live, is
// compacted: when the store closes (closing), or as a safety valve during
// a run.
func compactNow(end, live int64, closing bool) bool {
	if closing {
		return end > compactMin && end > 2*live
	}
	return end > 16*compactMin && end > 4*live
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// logName is the name of log number seq.
func logName(seq int) string { return fmt.Sprintf("%s%06d%s", logPrefix, seq, logSuffix) }

// logSeq parses a log's name; ok is false for other names.
func logSeq(name string) (seq int, ok bool) {
	digits, found := strings.CutPrefix(name, logPrefix)
	if !found {
		return 0, false
	}
	if digits, found = strings.CutSuffix(digits, logSuffix); !found {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n > 0
}

// logFile is an open log file. A scan or iterator holds a reference, so
// that the file it reads stays open after a compaction replaced it (the
// data it points to is never changed, only appended to).
type logFile struct {
	f     file
	name  string
	refs  atomic.Int32
	gone  atomic.Bool
	close sync.Once
}

func (l *logFile) acquire() *logFile { l.refs.Add(1); return l }

func (l *logFile) release() {
	if l.refs.Add(-1) == 0 && l.gone.Load() {
		l.close.Do(func() { l.f.Close() })
	}
}

// retire marks the file replaced; it closes when its last reader is done.
func (l *logFile) retire() {
	l.gone.Store(true)
	l.acquire().release()
}

// readValue reads the entry at p into buf (grown as needed) and returns
// its value, a slice of buf. The entry's key must be key: the index knows
// keys by their hash, and a read says so rather than return another
// key's value.
func (l *logFile) readValue(buf []byte, p place, key []byte) (newBuf, value []byte, err error) {
	buf = slices.Grow(buf[:0], int(p.n))[:p.n]
	if _, err := l.f.ReadAt(buf, p.off); err != nil {
		return buf, nil, fmt.Errorf("reading the state's log %s at %d: %w", l.name, p.off, err)
	}
	op, k, value, n, err := parseEntry(buf)
	if err != nil || op != opSet || n != len(buf) {
		return buf, nil, fmt.Errorf("the state's log %s is damaged at %d", l.name, p.off)
	}
	if string(k) != string(key) {
		return buf, nil, fmt.Errorf("the state's log %s holds %q at %d, where the index says %q is", l.name, k, p.off, key)
	}
	return buf, value, nil
}

// readKey reads the key of the entry at p into buf (grown as needed),
// reading no more of the entry than it must; it returns the buffer and
// the key, a slice of it.
func (l *logFile) readKey(buf []byte, p place) (newBuf, key []byte, err error) {
	n := min(int(p.n), 64) // the op, the length and a short key
	for {
		buf = slices.Grow(buf[:0], n)[:n]
		if _, err := l.f.ReadAt(buf, p.off); err != nil {
			return buf, nil, fmt.Errorf("reading the state's log %s at %d: %w", l.name, p.off, err)
		}
		klen, w := binary.Uvarint(buf[1:])
		if buf[0] != opSet || w <= 0 || 1+uint64(w)+klen > uint64(p.n) {
			return buf, nil, fmt.Errorf("the state's log %s is damaged at %d", l.name, p.off)
		}
		need := 1 + w + int(klen)
		if need <= n {
			return buf, buf[1+w : need], nil
		}
		n = need
	}
}

// appendOp appends one operation to a record's payload.
func appendOp(b []byte, op byte, key, value []byte) []byte {
	b = lenprefix.Append(append(b, op), key)
	if op == opSet {
		b = lenprefix.Append(b, value)
	}
	return b
}

// sealRecord fills in the header of rec, whose payload follows its first
// recordHeader bytes.
func sealRecord(rec []byte) {
	payload := rec[recordHeader:]
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(payload, castagnoli))
}

var errBadRecord = errors.New("malformed record")

// opFunc is called for each operation of a record: at is the entry's
// place in the log (the operation whole: op, key and value).
type opFunc func(op byte, key, value []byte, at place) error

// walkOps parses a record's payload, which starts at offset base in the
// log, calling fn (if not nil) for each operation; an error of fn ends
// the walk. A payload it cannot parse is errBadRecord, found after fn saw
// the operations before the bad one: where a record must apply whole or
// not at all, a walk with no fn checks it first.
func walkOps(payload []byte, base int64, fn opFunc) error {
	for i := 0; i < len(payload); {
		op, key, value, n, err := parseEntry(payload[i:])
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(op, key, value, place{base + int64(i), uint32(n)}); err != nil {
				return err
			}
		}
		i += n
	}
	return nil
}

// parseEntry parses the operation at the start of b and returns its
// length.
func parseEntry(b []byte) (op byte, key, value []byte, n int, err error) {
	if len(b) == 0 {
		return 0, nil, nil, 0, errBadRecord
	}
	op = b[0]
	key, rest, ok := lenprefix.Cut(b[1:])
	switch {
	case !ok:
		return 0, nil, nil, 0, errBadRecord
	case op == opSet:
		if value, rest, ok = lenprefix.Cut(rest); !ok {
			return 0, nil, nil, 0, errBadRecord
		}
	case op != opDelete && op != opDeletePrefix:
		return 0, nil, nil, 0, errBadRecord
	}
	if n = len(b) - len(rest); n >= 1<<32 {
		return 0, nil, nil, 0, errBadRecord
	}
	return op, key, value, n, nil
}

// maxRecord bounds a record's payload: a commit larger is refused, and a
// header that says more is a torn one's garbage.
const maxRecord = 1 << 30

// readRecords calls fn for each whole record of the log f from offset
// from, in order, with its payload and the payload's offset, and returns
// the end of the last whole record: where the next commit goes, and where
// a torn tail starts. A record that is empty (zeros a crash left), runs
// past the end of the file or fails its CRC ends the log: a commit a
// crash tore. An error of fn (a record whose CRC holds but which does not
// parse is errBadRecord: damage, not a torn write) is returned.
func readRecords(f file, name string, from int64, fn func(payload []byte, base int64) error) (int64, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading the state's log %s: %w", name, err)
	}
	size := info.Size()
	off := from
	var hdr [recordHeader]byte
	var payload []byte
	for off+recordHeader <= size {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return 0, fmt.Errorf("reading the state's log %s: %w", name, err)
		}
		n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
		if n == 0 || n > maxRecord || off+recordHeader+n > size {
			break // zeros, or a header or payload a crash tore
		}
		payload = slices.Grow(payload[:0], int(n))[:n]
		if _, err := f.ReadAt(payload, off+recordHeader); err != nil {
			return 0, fmt.Errorf("reading the state's log %s: %w", name, err)
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:8]) {
			break
		}
		if err := fn(payload, off+recordHeader); errors.Is(err, errBadRecord) {
			return 0, fmt.Errorf("the state's log %s is damaged: the record at %d does not parse", name, off)
		} else if err != nil {
			return 0, err
		}
		off += recordHeader + n
	}
	return off, nil
}

// replay reads the log f, calling apply for each operation, and returns
// the end of its last whole record.
func replay(f file, name string, apply opFunc) (int64, error) {
	head := make([]byte, len(logMagic))
	if _, err := f.ReadAt(head, 0); err != nil || string(head) != logMagic {
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("reading the state's log %s: %w", name, err)
		}
		return 0, fmt.Errorf("the state's log %s is damaged: it does not start as an etl state log", name)
	}
	return readRecords(f, name, int64(len(logMagic)), func(payload []byte, base int64) error {
		if err := walkOps(payload, base, nil); err != nil {
			return err // checked whole before any of it is applied
		}
		return walkOps(payload, base, apply)
	})
}

// move is where a compaction copied an entry: from its old offset to its
// new place.
type move struct {
	from int64
	to   place
}

// compactInto copies the entries of the log src, up to end, that live
// says are current (the index still points at them) to w from offset off,
// in log order, as records of about compactRecord bytes; it returns the
// end of what it wrote and the moves, in log order (ascending from). It
// reads src with readRecords, as an open does: memory holds a record of
// src at a time, one being written and the moves (24 bytes a key). keys
// is how many keys are live.
func compactInto(w io.WriterAt, off int64, src *logFile, end int64, keys int, live func(key []byte, at place) bool) (newEnd int64, moves []move, err error) {
	moves = make([]move, 0, keys) // one per live key: grown, it would be allocated five times over
	rec := make([]byte, recordHeader, recordHeader+compactRecord+4<<10)
	flush := func() error {
		if len(rec) == recordHeader {
			return nil
		}
		sealRecord(rec)
		if _, err := w.WriteAt(rec, off); err != nil {
			return err
		}
		off += int64(len(rec))
		rec = rec[:recordHeader]
		return nil
	}
	read, err := readRecords(src.f, src.name, int64(len(logMagic)), func(payload []byte, base int64) error {
		return walkOps(payload, base, func(op byte, key, value []byte, at place) error {
			if op != opSet || !live(key, at) {
				return nil // set again later, or deleted
			}
			start := len(rec)
			rec = appendOp(rec, opSet, key, value)
			moves = append(moves, move{from: at.off, to: place{off + int64(start), uint32(len(rec) - start)}})
			if len(rec)-recordHeader >= compactRecord {
				return flush()
			}
			return nil
		})
	})
	if err == nil && read != end {
		err = fmt.Errorf("the state's log %s: a compaction read %d of its %d bytes", src.name, read, end)
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, nil, err
	}
	return off, moves, nil
}
