package etl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
// the directory. The stages' snapshots, which may be large, are streamed
// into the file as they are, never re-encoded or copied.
func SaveCheckpoint(path string, cp *Checkpoint) error {
	head := *cp
	head.Stages = nil
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
		if len(addrs) == 0 {
			bw.Write(data)
		} else {
			// Reopen the object to add "stages", one stage per line.
			bw.Write(bytes.TrimSuffix(bytes.TrimRight(data, "\n"), []byte("\n}")))
			bw.WriteString(",\n  \"stages\": {")
			for i, addr := range addrs {
				if i > 0 {
					bw.WriteByte(',')
				}
				name, _ := json.Marshal(addr)
				bw.WriteString("\n    ")
				bw.Write(name)
				bw.WriteString(": ")
				if s, ok := cp.snapshots[addr]; ok {
					if _, err := s.WriteTo(bw); err != nil {
						return fmt.Errorf("writing the state of %s: %w", addr, err)
					}
				} else {
					bw.Write(cp.Stages[addr])
				}
			}
			bw.WriteString("\n  }\n}")
		}
		bw.WriteByte('\n')
		return bw.Flush()
	})
}
