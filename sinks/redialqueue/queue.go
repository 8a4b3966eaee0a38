package redialqueue

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// member is one "phone": {...} pair of the queue file, its value kept as
// the exact bytes read so that rewriting the file leaves it unchanged.
type member struct {
	key  string
	raw  json.RawMessage
	line int // of the key in the file, from 1 (0 for an added member)
}

// queue is the queue file as read: its members in file order, which phones
// it queues under which keys, and what it looked like on disk, to notice a
// concurrent writer.
type queue struct {
	members []member
	size    int // entries in the file (members may be dropped to save memory)
	index
	state fileState
}

// fileState identifies a version of a file: a writer that replaced or
// rewrote it changes at least one of these.
type fileState struct {
	exists bool
	size   int64
	mtime  time.Time
	sum    [sha256.Size]byte
	mode   fs.FileMode
}

// readQueue reads and parses the queue file; a missing file is an empty
// queue. Errors name the file; a file that is not a JSON object is an error
// and is not touched.
func readQueue(path string) (*queue, error) {
	data, st, err := readFile(path)
	if err != nil {
		return nil, err
	}
	q := &queue{index: newIndex(), state: st}
	if !st.exists {
		return q, nil
	}
	if q.members, err = parseQueue(data); err != nil {
		return nil, fmt.Errorf("queue file %s is not a valid JSON object (%v); left untouched", path, err)
	}
	q.size = len(q.members)
	if err := q.index.add(q.members); err != nil {
		return nil, fmt.Errorf("queue file %s was left untouched: %w", path, err)
	}
	return q, nil
}

// readFile returns the file's content and state; a missing file has
// exists=false and no error.
func readFile(path string) ([]byte, fileState, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fileState{}, nil
	}
	if err != nil {
		return nil, fileState{}, fmt.Errorf("reading queue file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fileState{}, fmt.Errorf("reading queue file: %w", err)
	}
	if info.IsDir() {
		return nil, fileState{}, fmt.Errorf("queue file %s is a directory", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fileState{}, fmt.Errorf("reading queue file %s: %w", path, err)
	}
	return data, fileState{exists: true, size: info.Size(), mtime: info.ModTime(), sum: sha256.Sum256(data), mode: info.Mode().Perm()}, nil
}

// same reports whether two states are the same version of the file.
func (a fileState) same(b fileState) bool {
	return a.exists == b.exists && a.size == b.size && a.mtime.Equal(b.mtime) && a.sum == b.sum
}

// parseQueue splits a JSON object into its members, keeping each value's
// bytes, its key's line and the members' order. It checks the syntax only:
// index.add judges keys and entries.
func parseQueue(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	at := func(err error) error { return fmt.Errorf("at byte %d: %w", dec.InputOffset(), err) }
	tok, err := dec.Token()
	if err != nil {
		return nil, at(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, at(fmt.Errorf("the top level is not an object"))
	}
	var members []member
	line, counted := 1, 0 // line at byte counted
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, at(err)
		}
		off := int(dec.InputOffset())
		line += bytes.Count(data[counted:off], []byte("\n"))
		counted = off
		key, ok := tok.(string)
		if !ok {
			return nil, at(fmt.Errorf("expected a key"))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, at(err)
		}
		// Keep a view into data rather than the decoder's copy: the queue
		// is held once in memory, not twice.
		end := int(dec.InputOffset())
		members = append(members, member{key: key, raw: data[end-len(raw) : end : end], line: line})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, at(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, at(fmt.Errorf("data after the object"))
	}
	return members, nil
}

// render writes the queue: existing members verbatim, then the added ones
// (compact JSON) indented two spaces per level. It streams: the merged file
// is never held in memory whole. Every value is valid JSON already (read by
// the parser, or checked by json.Indent), so the output is too.
// An added member without raw has its entry read with entry.
func render(w io.Writer, existing, added []member, entry func(phone string) ([]byte, error)) error {
	b := bufio.NewWriterSize(w, 64<<10)
	var ind bytes.Buffer
	b.WriteString("{")
	sep := "\n"
	for _, m := range existing {
		k, _ := json.Marshal(m.key)
		fmt.Fprintf(b, "%s  %s: ", sep, k)
		b.Write(m.raw)
		sep = ",\n"
	}
	for _, m := range added {
		k, _ := json.Marshal(m.key)
		fmt.Fprintf(b, "%s  %s: ", sep, k)
		raw := m.raw
		if raw == nil {
			var err error
			if raw, err = entry(m.key); err != nil {
				return err
			}
		}
		ind.Reset()
		if err := json.Indent(&ind, raw, "  ", "  "); err != nil {
			return err
		}
		b.Write(ind.Bytes())
		sep = ",\n"
	}
	if sep == "\n" {
		b.WriteString("}\n")
	} else {
		b.WriteString("\n}\n")
	}
	return b.Flush()
}
