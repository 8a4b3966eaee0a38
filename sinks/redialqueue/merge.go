package redialqueue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
	"github.com/etlhq/etl/etl/phone"
)

// mergeResult is what a merge did or would do.
type mergeResult struct {
	added    []member // new entries, sorted by phone
	already  int      // phones of this run the file already holds
	created  bool     // the file did not exist
	total    int      // entries in the file afterwards
	attempts int      // merges done (more than 1: the file changed under us)

	// elsewhere are phones of this run queued only under other keys (the
	// first maxNamed; elsewhereCount counts them all): not added.
	elsewhere      []queuedElsewhere
	elsewhereCount int
	// multi are the file's phones queued under more than one key.
	multi []multiKey
	// odd are the file's entries that are not queue entries (the first
	// maxNamed; oddCount counts them all), kept as they are.
	odd      []oddEntry
	oddCount int
}

// queuedElsewhere is a phone of this run that the file queues under other
// keys than its 10-digit form.
type queuedElsewhere struct {
	phone string
	keys  []keyAt
}

// plan merges pending into q: the added members are the phones q lacks
// under every spelling, in phone order, with no raw entry (render and
// describe read it from pending).
func plan(q *queue, pending etl.Table) (mergeResult, error) {
	r := mergeResult{created: !q.state.exists, attempts: 1}
	err := etl.ScanKeys(pending, func(key []byte) error {
		k := string(key)
		num, _ := phone.ParseNumber(k)
		queued, others := q.queued(num)
		if !queued {
			r.added = append(r.added, member{key: k})
			return nil
		}
		r.already++
		if _, own := q.own[num]; !own {
			r.elsewhereCount++
			if len(r.elsewhere) < maxNamed {
				r.elsewhere = append(r.elsewhere, queuedElsewhere{k, others})
			}
		}
		return nil
	})
	if err != nil {
		return mergeResult{}, fmt.Errorf("reading the pending entries: %w", err)
	}
	r.total = q.size + len(r.added)
	r.multi = q.multiKeyed()
	r.odd, r.oddCount = q.odd, q.oddCount
	return r, nil
}

// errChanged says the file changed between our read and our rename.
var errChanged = errors.New("queue file changed on disk during the merge")

// beforeRename is a test hook run between the merge's read and its rename.
var beforeRename func(path string)

// beforeLock is a test hook run between the merge's first plan and its
// taking the file's lock.
var beforeLock func(path string)

// merge writes the entries the file lacks, under the lock. If the file
// changes between our read and our rename, the merge is redone on the new
// content rather than overwriting it.
func (s *sink) merge() (mergeResult, error) {
	// Nothing to add (every phone already queued): no lock, no write, the
	// file and its directory stay exactly as they are.
	q, err := readQueue(s.path)
	if err != nil {
		return mergeResult{}, err
	}
	first, err := plan(q, s.pending)
	if err != nil || len(first.added) == 0 {
		return first, err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return mergeResult{}, fmt.Errorf("creating queue directory: %w", err)
	}
	if beforeLock != nil {
		beforeLock(s.path)
	}
	unlock, err := lockFile(s.path+".lock", lockWait)
	if err != nil {
		return mergeResult{}, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		prev := q.state
		if q, err = readQueue(s.path); err != nil {
			return mergeResult{}, err
		}
		r := first
		if attempt > 1 || !q.state.same(prev) {
			// Another writer came between the first read and the lock:
			// plan on what the file holds now (the scan of the pending
			// phones is the merge's cost; with the file unchanged, the
			// plan made before the lock stands).
			if r, err = plan(q, s.pending); err != nil {
				return mergeResult{}, err
			}
		}
		r.attempts = attempt
		if len(r.added) == 0 {
			return r, nil
		}
		perm := q.state.mode
		if !q.state.exists {
			perm = 0o644
		}
		err = atomicfile.Write(s.path, atomicfile.Options{
			Perm:   perm,
			Backup: true,
			BeforeRename: func() error {
				if beforeRename != nil {
					beforeRename(s.path)
				}
				_, now, err := readFile(s.path)
				if err != nil {
					return err
				}
				if !now.same(q.state) {
					return errChanged
				}
				return nil
			},
		}, func(w io.Writer) error { return render(w, q.members, r.added, s.entry) })
		switch {
		case err == nil:
			return r, nil
		case errors.Is(err, errChanged) && attempt < maxMerges:
			s.env.Report(etl.EventWarning, "", fmt.Sprintf("%s changed on disk during the merge (another writer); merging again", s.path), nil)
			continue
		default:
			return r, err
		}
	}
}
