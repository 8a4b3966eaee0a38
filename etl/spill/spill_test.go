package spill

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestAppendReadBack(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("the spill file has a name: %v", names)
	}
	var offs []int64
	var recs [][]byte
	for i := range 5000 {
		rec := bytes.Repeat([]byte(fmt.Sprintf("record %d;", i)), 1+i%7)
		off, err := s.Append(rec)
		if err != nil {
			t.Fatal(err)
		}
		offs, recs = append(offs, off), append(recs, rec)
		if i%97 == 0 { // read back while appending: buffered data must come back too
			j := i / 2
			got := make([]byte, len(recs[j]))
			if err := s.ReadAt(got, offs[j]); err != nil || !bytes.Equal(got, recs[j]) {
				t.Fatalf("record %d: %q, %v", j, got, err)
			}
			last := make([]byte, len(rec))
			if err := s.ReadAt(last, off); err != nil || !bytes.Equal(last, rec) {
				t.Fatalf("last record %d: %q, %v", i, last, err)
			}
		}
	}
	end := offs[len(offs)-1] + int64(len(recs[len(recs)-1]))
	if err := s.ReadAt(make([]byte, 10), end-5); err == nil {
		t.Error("a read beyond the end succeeded")
	}
	for i := range recs {
		got := make([]byte, len(recs[i]))
		if err := s.ReadAt(got, offs[i]); err != nil || !bytes.Equal(got, recs[i]) {
			t.Fatalf("record %d: %q, %v", i, got, err)
		}
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentReadersAndWriter is for the race detector: a snapshot is
// read on one goroutine while the stage appends on another.
func TestConcurrentReadersAndWriter(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte("0123456789")
	for range 1000 {
		s.Append(rec)
	}
	size := int64(1000 * len(rec))
	s.Retain() // the snapshot's reference
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer s.Release()
		buf := make([]byte, len(rec))
		for off := int64(0); off < size; off += int64(len(rec)) {
			if err := s.ReadAt(buf, off); err != nil || !bytes.Equal(buf, rec) {
				t.Errorf("at %d: %q %v", off, buf, err)
				return
			}
		}
	}()
	for range 1000 {
		s.Append(rec)
	}
	s.Release() // the stage's: the file stays open for the reader
	wg.Wait()
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".etl-spill-123", ".etl-spill-abc", "keep.json", ".etl-spillage"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveStale(dir); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, ",") != ".etl-spillage,keep.json" {
		t.Errorf("left %v", left)
	}
}
