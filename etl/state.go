package etl

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/etlhq/etl/etl/store"
)

// The checkpoint's layout in the state store (etl/store). Every key starts
// with one of these prefixes; addresses end with a NUL so that no
// address's keys are a prefix of another's.
//
//	meta                              → Checkpoint as JSON (version, pipeline, updated, fingerprint)
//	done/SOURCE\x00SEQ                → PartitionDone as JSON; SEQ orders a source's partitions
//	state/STAGE\x00KEY                → a stateful stage's table
//	cache/STAGE\x00KEY                → a Cacher's table
var (
	metaKey     = []byte("meta")
	donePrefix  = []byte("done/")
	statePrefix = []byte("state/")
	cachePrefix = []byte("cache/")
)

func addrPrefix(prefix []byte, addr string) []byte {
	k := append(slices.Clone(prefix), addr...)
	return append(k, 0)
}

func doneKey(source string, seq int) []byte {
	return binary.BigEndian.AppendUint64(addrPrefix(donePrefix, source), uint64(seq))
}

// ReadCheckpoint reads what the store holds; nil when it holds no
// checkpoint (a new or wiped store).
func ReadCheckpoint(s *store.Store) (*Checkpoint, error) {
	data, ok, err := s.Get(metaKey)
	if err != nil || !ok {
		return nil, err
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("the checkpoint in %s is corrupt: %v", s.Dir(), err)
	}
	if cp.Version != CheckpointVersion {
		return nil, fmt.Errorf("the checkpoint in %s has layout version %d; this etl reads version %d", s.Dir(), cp.Version, CheckpointVersion)
	}
	cp.Sources = map[string][]PartitionDone{}
	err = s.Scan(donePrefix, func(k, v []byte) error {
		src, _, ok := bytes.Cut(k[len(donePrefix):], []byte{0})
		if !ok {
			return fmt.Errorf("the checkpoint in %s is corrupt: key %q", s.Dir(), k)
		}
		var d PartitionDone
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("the checkpoint in %s is corrupt: %v", s.Dir(), err)
		}
		cp.Sources[string(src)] = append(cp.Sources[string(src)], d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

// StageUsage is what a stage keeps in the store: its keys and their bytes.
type StageUsage struct {
	Keys, Bytes int64
}

// Usage sums, per stage, the keys and bytes of its table, and of its
// cache under "ADDR (cache)", for `etl state show`.
func Usage(s *store.Store) (map[string]StageUsage, error) {
	u := map[string]StageUsage{}
	for _, p := range []struct {
		prefix []byte
		suffix string
	}{{statePrefix, ""}, {cachePrefix, " (cache)"}} {
		err := s.Scan(p.prefix, func(k, v []byte) error {
			addr, _, _ := bytes.Cut(k[len(p.prefix):], []byte{0})
			name := string(addr) + p.suffix
			x := u[name]
			x.Keys++
			x.Bytes += int64(len(k) + len(v))
			u[name] = x
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return u, nil
}

// IsLegacyCheckpoint reports whether path is a checkpoint file of the
// JSON format earlier versions of etl wrote (a file, not a directory).
func IsLegacyCheckpoint(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	head = bytes.TrimSpace(head[:n])
	return bytes.HasPrefix(head, []byte("{")) && bytes.Contains(head, []byte(`"version"`))
}

// LegacyCheckpointError says a run found a checkpoint in the JSON format
// of earlier versions, which this one does not read.
type LegacyCheckpointError struct{ Path string }

func (e *LegacyCheckpointError) Error() string {
	return fmt.Sprintf("%s is a checkpoint in the JSON format of an earlier etl, which this version does not read; run with --fresh to start over (every partition is fetched again; the old file is deleted once the run has started)", e.Path)
}

// CheckLegacy returns a *LegacyCheckpointError when path is an old JSON
// checkpoint, and nil when it does not exist.
func CheckLegacy(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if IsLegacyCheckpoint(path) {
		return &LegacyCheckpointError{Path: filepath.Clean(path)}
	}
	return nil
}
