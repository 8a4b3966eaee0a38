package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// flakyFS fails syncDir when failSync is set.
type flakyFS struct {
	*MemFS
	failSync, failCreate bool
}

func (f *flakyFS) create(name string) (file, error) {
	if f.failCreate {
		return nil, errors.New("injected ENOSPC")
	}
	return f.MemFS.create(name)
}

func (f *flakyFS) syncDir() error {
	if f.failSync {
		f.failSync = false
		return errors.New("injected EIO on directory fsync")
	}
	return f.MemFS.syncDir()
}

// A compaction whose directory sync fails after its rename stops the
// store's commits: none is acknowledged into a log the next open would
// delete, and every acknowledged one is there after a restart.
func TestSyncDirFailureStopsCommits(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 2 << 10
	mem := NewMemFS()
	fsys := &flakyFS{MemFS: mem}
	s := &Store{}
	if err := s.open(fsys); err != nil {
		t.Fatal(err)
	}
	fsys.failSync = true              // the next directory sync: the first compaction's
	acked := map[string]string{}      // key: its last acknowledged value
	var failedKey, failedValue string // the commit that failed: there or not
	for i := 0; i < 1000; i++ {
		k, v := fmt.Sprintf("t\x00k%d", i%3), fmt.Sprintf("%0200d", i)
		b := s.NewBatch(0)
		b.Set([]byte(k), []byte(v))
		if err := b.Commit(true); err != nil {
			failedKey, failedValue = k, v
			break
		}
		acked[k] = v
	}
	if fsys.failSync {
		t.Fatal("no compaction happened")
	}
	b := s.NewBatch(0)
	b.Set([]byte("after\x00x"), []byte("acked"))
	if err := b.Commit(true); err == nil {
		t.Fatal("a commit after the failed directory sync was acknowledged")
	}
	r, err := OpenFS(mem) // a plain restart: the same files
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range acked {
		if got, _, _ := r.Get([]byte(k)); string(got) != v && (k != failedKey || string(got) != failedValue) {
			t.Fatalf("%q: %.10q after a restart, acknowledged %.10q", k, got, v)
		}
	}
}

// processCrash is what a process crash (kill -9) leaves: every name and
// byte as the store saw them, with what is durable unchanged.
func processCrash(m *MemFS) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemFS()
	clone := map[*memFile]*memFile{}
	cp := func(f *memFile) *memFile {
		if nf, ok := clone[f]; ok {
			return nf
		}
		nf := &memFile{fs: c, data: append([]byte(nil), f.data...), synced: f.synced}
		clone[f] = nf
		return nf
	}
	for n, f := range m.names {
		c.names[n] = cp(f)
	}
	for n, f := range m.durable {
		c.durable[n] = cp(f)
	}
	return c
}

// Kill -9 between a compaction's rename and its directory sync, restart,
// commit (sync), then lose power: the acknowledged commit is there, because
// open makes the log's name durable.
func TestKillThenPowerLossKeepsCommits(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 2 << 10
	fsys := NewMemFS()
	st, err := OpenFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var killed *MemFS
	fsys.changed = func() {
		if killed != nil {
			return
		}
		fsys.mu.Lock()
		_, renamed := fsys.names[logName(2)]
		_, durable := fsys.durable[logName(2)]
		fsys.mu.Unlock()
		if renamed && !durable {
			killed = processCrash(fsys)
		}
	}
	for i := 0; killed == nil && i < 1000; i++ {
		commitSet(t, st, []byte(fmt.Sprintf("t\x00k%d", i%3)), make([]byte, 300), true)
	}
	fsys.changed = nil
	if killed == nil {
		t.Fatal("no compaction")
	}
	r, err := OpenFS(killed)
	if err != nil {
		t.Fatal(err)
	}
	commitSet(t, r, []byte("after\x00restart"), []byte("acked"), true)
	lost := 0
	for i := range 200 {
		p, err := OpenFS(killed.CrashClone(rand.New(rand.NewPCG(uint64(i), 1))))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := p.Get([]byte("after\x00restart")); !ok {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("power loss after restart: the synced commit is lost in %d of 200 crashes", lost)
	}
}

// A zeroed stretch (what a file system can leave for data not yet
// flushed) ends the log: replay never applies the commit after it without
// the one it replaced.
func TestZeroedRecordEndsTheLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"a", "b"} {
		commitSet(t, st, []byte(k), []byte("vvvv"), i == 1) // an 8-byte payload: a 16-byte record
	}
	st.Close()
	path := filepath.Join(dir, logDir, logName(1))
	data, _ := os.ReadFile(path)
	n := recordHeader + int(binary.LittleEndian.Uint32(data[len(logMagic):]))
	clear(data[len(logMagic) : len(logMagic)+n]) // commit "a" never reached the disk
	os.WriteFile(path, data, 0o600)
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, okA, _ := r.Get([]byte("a"))
	_, okB, _ := r.Get([]byte("b"))
	if okB && !okA {
		t.Fatal("commit b is applied without commit a before it: zeros parsed as records")
	}
}

// A torn header's garbage length (past the file's end) ends the log; open
// allocates nothing for it.
func TestGarbageHeaderAllocatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, logDir, logName(1))
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0xff, 0xff, 0xff, 0x3f, 1, 2, 3, 4, 5})
	f.Close()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	runtime.ReadMemStats(&m1)
	if d := m1.TotalAlloc - m0.TotalAlloc; d > 64<<20 {
		t.Fatalf("opening a 25-byte log allocated %d MB", d>>20)
	}
}

// Get after Close is an error, not a panic.
func TestGetAfterClose(t *testing.T) {
	st := OpenMem()
	b := st.NewBatch(0)
	b.Set([]byte("k"), []byte("v"))
	b.Commit(true)
	st.Close()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Get after Close panics: %v", r)
		}
	}()
	if _, _, err := st.Get([]byte("k")); err == nil {
		t.Fatal("Get after Close: no error")
	}
}

// Readers, iterators and commits with compactions and prefix deletes, at
// once: every iterator sees one commit's keys, all of them or none.
func TestConcurrentReadersSeeSnapshots(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 4 << 10
	st := OpenMem()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Writer: every commit sets all of t0's keys to the same generation.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for gen := range 400 {
			b := st.NewBatch(0)
			if gen%50 == 7 {
				b.DeletePrefix([]byte("t0\x00"))
			}
			for k := range 20 {
				b.Set([]byte(fmt.Sprintf("t0\x00k%02d", k)), []byte(fmt.Sprintf("%04d-%s", gen, make([]byte, 50))))
			}
			if err := b.Commit(gen%3 == 0); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				it, err := st.NewIterator([]byte("t0\x00"))
				if err != nil {
					t.Error(err)
					return
				}
				gens := map[string]bool{}
				n := 0
				for ; it.Valid(); it.Next() {
					v, err := it.Value()
					if err != nil {
						t.Error(err)
						it.Close()
						return
					}
					gens[string(v[:4])] = true
					n++
					runtime.Gosched()
				}
				it.Close()
				if len(gens) > 1 || (n != 0 && n != 20) {
					t.Errorf("iterator saw %d keys of generations %v", n, maps.Keys(gens))
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("logs: %d", st.seq)
}

// The file descriptors of replaced logs are closed once their iterators
// are, and the store's own at Close.
func TestReplacedLogsAreClosed(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 4 << 10
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var its []*Iterator
	for i := range 300 {
		commitSet(t, st, []byte(fmt.Sprintf("t\x00k%d", i%5)), make([]byte, 300), false)
		it, _ := st.NewIterator(nil)
		its = append(its, it)
	}
	for _, it := range its {
		it.Close()
	}
	count := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		n := 0
		for _, e := range ents {
			if l, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); filepath.Dir(l) == filepath.Join(dir, logDir) {
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Errorf("%d log fds open with the store open (seq %d)", n, st.seq)
	}
	it, _ := st.NewIterator(nil)
	st.Close()
	if n := count(); n != 1 {
		t.Errorf("%d log fds open after Close with one iterator", n)
	}
	for ; it.Valid(); it.Next() {
		if _, err := it.Value(); err != nil {
			t.Fatal(err)
		}
	}
	it.Close()
	if n := count(); n != 0 {
		t.Errorf("%d log fds open after Close", n)
	}
}

// A Batch used after Commit is refused, and never writes a record that
// would hide the acknowledged commits after it.
func TestBatchReuseIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := st.NewBatch(0)
	b.Set([]byte("first"), []byte("1"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	if err := b.Set([]byte("reused-batch-key"), []byte("value")); err == nil {
		t.Fatal("Set on a committed batch: no error")
	}
	if err := b.Commit(true); err == nil {
		t.Fatal("a second Commit: no error")
	}
	commitSet(t, st, []byte("later"), []byte("acked"), true)
	if _, ok, _ := st.Get([]byte("later")); !ok {
		t.Fatal("later missing before reopen")
	}
	st.Close()
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok, _ := r.Get([]byte("later")); !ok {
		t.Fatal("an acknowledged commit is gone after reopening")
	}
}

// A Get running while Close compacts gets "closed", never a read of the
// new log at the old log's offsets.
func TestGetDuringCloseCompaction(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 2 << 10
	for round := range 200 {
		s := &Store{}
		if err := s.open(NewMemFS()); err != nil {
			t.Fatal(err)
		}
		for i := range 60 { // three keys rewritten: a log Close compacts
			commitSet(t, s, []byte(fmt.Sprintf("t\x00k%d", i%3)), []byte(fmt.Sprintf("%0100d", i)), true)
		}
		stop := make(chan error, 1)
		go func() {
			for {
				if _, _, err := s.Get([]byte("t\x00k1")); err != nil {
					stop <- err
					return
				}
			}
		}()
		s.Close()
		if err := <-stop; !errors.Is(err, errClosed) {
			t.Fatalf("round %d: Get during Close: %v", round, err)
		}
	}
}

// A compaction at Close that fails after its rename is Close's error.
func TestCloseReturnsCompactionError(t *testing.T) {
	defer func(n int64) { compactMin = n }(compactMin)
	compactMin = 2 << 10
	fsys := &flakyFS{MemFS: NewMemFS()}
	s := &Store{}
	if err := s.open(fsys); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		commitSet(t, s, []byte(fmt.Sprintf("t\x00k%d", i%3)), []byte(fmt.Sprintf("%0100d", i)), true)
	}
	fsys.failSync = true
	if err := s.Close(); err == nil || fsys.failSync {
		t.Fatalf("Close: %v (the directory sync failed: %v)", err, !fsys.failSync)
	}
}

// A batch reuses the buffer of the last one done with, which the old
// batch can no longer write into; a buffer over maxSpare is not kept.
func TestBatchBufferIsReused(t *testing.T) {
	s := &Store{}
	if err := s.open(NewMemFS()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := s.NewBatch(1 << 10)
	a.Set([]byte("t\x00a"), []byte("1"))
	first := &a.rec[:1][0]
	if err := a.Commit(true); err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch(512)
	if &b.rec[:1][0] != first {
		t.Error("the next batch did not reuse the committed batch's buffer")
	}
	if c := s.NewBatch(512); &c.rec[:1][0] == first {
		t.Error("two open batches share a buffer")
	}
	if err := a.Set([]byte("t\x00stale"), []byte("x")); err == nil {
		t.Error("the committed batch still writes")
	}
	b.Set([]byte("t\x00b"), []byte("2"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"t\x00a": "1", "t\x00b": "2"} {
		if v, ok, err := s.Get([]byte(k)); err != nil || !ok || string(v) != want {
			t.Errorf("Get(%q) = %q, %v, %v; want %q", k, v, ok, err, want)
		}
	}
	if _, ok, _ := s.Get([]byte("t\x00stale")); ok {
		t.Error("the stale batch's key is in the store")
	}

	big := s.NewBatch(maxSpare + 1)
	big.Close()
	if cap(s.spare) > maxSpare {
		t.Errorf("a %d-byte buffer was kept", cap(s.spare))
	}
}
