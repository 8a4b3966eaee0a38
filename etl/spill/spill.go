// Package spill keeps byte records in an anonymous temporary file, for
// stages whose data would otherwise outgrow memory: Map is the engine's
// scratch table (keyed values for one run), and bland_calls spills the
// calls of dates waiting their turn through a File directly.
//
// The file is unlinked as soon as it is created, so it has no name: nothing
// is left behind however the process ends (SIGKILL included), nothing shows
// in the directory a plan must not touch, and the disk space returns to the
// system when the last handle goes. Records are appended through a buffer
// and read back by offset, concurrently with appends.
//
// A File is reference-counted (Retain, Release) so that a reader can keep
// it open after its owner let it go.
package spill

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/etlhq/etl/etl/atomicfile"
)

// File is an append-only file of records. Its methods are safe for
// concurrent use.
type File struct {
	mu      sync.Mutex
	f       file
	w       *bufio.Writer
	size    int64 // bytes appended, buffered ones included
	flushed int64 // bytes handed to the file
	refs    int
	err     error // the first write error: the file is unusable after it
}

// Pattern is the name spill files have until they are unlinked, for
// RemoveStale.
const Pattern = ".etl-spill-*"

// RemoveStale deletes spill files left in dir by a process that could not
// unlink them while open (Windows) and was killed. On other systems there
// are none: a spill file has no name a moment after its creation, and
// removing one in that moment harms nobody (its data stays with the open
// handle).
func RemoveStale(dir string) error {
	return atomicfile.RemoveMatching(filepath.Join(dir, Pattern))
}

// New creates an anonymous spill file in dir (os.TempDir() when ""). The
// caller holds the one reference; Release closes the file.
func New(dir string) (*File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, Pattern)
	if err != nil {
		return nil, fmt.Errorf("creating a spill file: %w", err)
	}
	// Unlink at once: the open handle keeps the data. (Where the system
	// refuses, as Windows does, the file is removed at Release instead.)
	var ff file = f
	if os.Remove(f.Name()) != nil {
		ff = &namedFile{File: f, name: f.Name()}
	}
	return &File{f: ff, w: bufio.NewWriterSize(ff, 64<<10), refs: 1}, nil
}

// Append adds b at the end and returns its offset.
func (s *File) Append(b []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	off := s.size
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("writing the spill file: %w", err)
		return 0, s.err
	}
	s.size += int64(len(b))
	s.flushed = s.size - int64(s.w.Buffered())
	return off, nil
}

// Size returns the bytes appended so far.
func (s *File) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// ReadAt reads len(p) bytes at off, which must have been appended.
func (s *File) ReadAt(p []byte, off int64) error {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	if off < 0 || off+int64(len(p)) > s.size {
		s.mu.Unlock()
		return fmt.Errorf("spill file: read of %d bytes at %d beyond its %d bytes", len(p), off, s.size)
	}
	if off+int64(len(p)) > s.flushed {
		if err := s.w.Flush(); err != nil {
			s.err = fmt.Errorf("writing the spill file: %w", err)
			s.mu.Unlock()
			return s.err
		}
		s.flushed = s.size
	}
	f := s.f
	s.mu.Unlock()
	// Outside the lock: appends go on while a snapshot is read.
	if _, err := f.ReadAt(p, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("reading the spill file: %w", err)
	}
	return nil
}

// Retain adds a reference: the file stays open until each reference is
// released.
func (s *File) Retain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs++
}

// Release drops a reference and closes the file with the last one.
func (s *File) Release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs > 0 {
		return nil
	}
	if s.refs < 0 {
		panic("spill: Release without a reference")
	}
	return s.f.Close()
}

// file is what File needs of an *os.File.
type file interface {
	io.Writer
	io.ReaderAt
	io.Closer
}

// namedFile removes its file on Close, where it could not be unlinked
// while open.
type namedFile struct {
	*os.File
	name string
}

func (n *namedFile) Close() error {
	err := n.File.Close()
	os.Remove(n.name)
	return err
}
