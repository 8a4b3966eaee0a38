package etl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/etlhq/etl/etl/atomicfile"
)

// LoadCheckpoint reads a checkpoint file. A missing file is an error that
// satisfies errors.Is(err, fs.ErrNotExist); a corrupt one names the file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || !bytes.Contains(data, []byte(`"version"`)) {
		return nil, fmt.Errorf("%s is not an etl checkpoint", path)
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, &corruptError{fmt.Errorf("checkpoint %s is corrupt: %v", path, err)}
	}
	if cp.Version != CheckpointVersion {
		return nil, &corruptError{fmt.Errorf("checkpoint %s has format version %d; this etl reads version %d", path, cp.Version, CheckpointVersion)}
	}
	if cp.Sources == nil {
		cp.Sources = map[string][]PartitionDone{}
	}
	if cp.Stages == nil {
		cp.Stages = map[string]json.RawMessage{}
	}
	return &cp, nil
}

// corruptError is a checkpoint file that cannot be used.
type corruptError struct{ error }

// IsCorruptCheckpoint reports whether err says a checkpoint file exists
// but cannot be read as one (truncated, another format version): such a
// file may be deleted with `etl state rm`.
func IsCorruptCheckpoint(err error) bool {
	var c *corruptError
	return errors.As(err, &c)
}

// SaveCheckpoint writes cp atomically (temp file, fsync, rename), creating
// the directory. The stages' snapshots and caches, which may be large, are
// streamed into the file as they are, never re-encoded or copied.
func SaveCheckpoint(path string, cp *Checkpoint) error {
	head := *cp
	head.Stages, head.Caches = nil, nil
	data, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, atomicfile.Options{Perm: 0o600}, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		addrs := slices.Sorted(maps.Keys(cp.Stages))
		for addr := range cp.snapshots {
			if _, dup := cp.Stages[addr]; !dup {
				addrs = append(addrs, addr)
			}
		}
		slices.Sort(addrs)
		caches := slices.Sorted(maps.Keys(cp.Caches))
		if len(addrs) == 0 && len(caches) == 0 {
			bw.Write(data)
			bw.WriteByte('\n')
			return bw.Flush()
		}
		// Reopen the object to add "stages" and "caches", one stage per line.
		bw.Write(bytes.TrimSuffix(bytes.TrimRight(data, "\n"), []byte("\n}")))
		err := writeSection(bw, "stages", addrs, func(addr string) error {
			if s, ok := cp.snapshots[addr]; ok {
				if _, err := s.WriteTo(bw); err != nil {
					return fmt.Errorf("writing the state of %s: %w", addr, err)
				}
				return nil
			}
			_, err := bw.Write(cp.Stages[addr])
			return err
		})
		if err != nil {
			return err
		}
		err = writeSection(bw, "caches", caches, func(addr string) error {
			_, err := bw.Write(cp.Caches[addr])
			return err
		})
		if err != nil {
			return err
		}
		bw.WriteString("\n}\n")
		return bw.Flush()
	})
}

// writeSection writes `,"name": {"addr": ..., ...}` with one entry per
// line, each written by entry; nothing when addrs is empty.
func writeSection(bw *bufio.Writer, name string, addrs []string, entry func(addr string) error) error {
	if len(addrs) == 0 {
		return nil
	}
	fmt.Fprintf(bw, ",\n  %q: {", name)
	for i, addr := range addrs {
		if i > 0 {
			bw.WriteByte(',')
		}
		key, _ := json.Marshal(addr)
		bw.WriteString("\n    ")
		bw.Write(key)
		bw.WriteString(": ")
		if err := entry(addr); err != nil {
			return err
		}
	}
	bw.WriteString("\n  }")
	return nil
}

// SaveCaches sets the caches of the checkpoint file at path (nil removes
// them) and keeps everything else in it as it is: the partitions and
// stages' states of the last save, which a run that has ended may no
// longer hold. When path does not exist, it saves fresh (a checkpoint with
// no partition done) with the caches, or nothing when there are none. A
// file that already holds exactly no caches and gets none is left
// untouched. It implements RunOptions.SaveCaches for a checkpoint file.
func SaveCaches(path string, caches map[string]json.RawMessage, fresh *Checkpoint) error {
	cp, err := LoadCheckpoint(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if len(caches) == 0 {
			return nil
		}
		cp = fresh
	case err != nil:
		return err
	case len(caches) == 0 && len(cp.Caches) == 0:
		return nil
	}
	cp.Caches = caches
	return SaveCheckpoint(path, cp)
}
