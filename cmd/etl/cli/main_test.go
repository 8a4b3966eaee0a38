package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/etlhq/etl/etl/store"
	"github.com/rogpeppe/go-internal/testscript"
)

// testRegistry is etl.Default plus the in-memory etltest plugins, so that
// scripts can run pipelines without any API; the shipped map and where
// stand in for etltest's.
func testRegistry() *etl.Registry {
	reg := etl.Default.Clone()
	etltest.RegisterEnds(reg, &etltest.Collector{}, nil)
	return reg
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"etl": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr, os.Environ(), testRegistry())) },
	})
}

// TestScripts runs the CLI end-to-end scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "..", "testdata", "script"),
		RequireExplicitExec: true,
	})
}

// TestExitStatuses checks the documented exit statuses.
func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.hcl", "source \"gen\" \"g\" {}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n")
	empty := write("empty.hcl", "source \"gen\" \"g\" {\n  per_partition = 0\n}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n")
	bad := write("bad.hcl", "source \"gen\" \"g\" {\n  nope = 1\n}\n")
	failing := write("fail.hcl", "source \"gen\" \"g\" {\n  fail_after = 3\n}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n")
	reg := testRegistry()
	state := []string{"--state", filepath.Join(dir, "state.json"), "--fresh"}
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"validate", good}, exitOK},
		{[]string{"validate", bad}, exitError},
		{append([]string{"run", good}, state...), exitOK},
		{append([]string{"run", failing}, state...), exitError},
		{append([]string{"plan", good}, state...), exitOK},
		{append([]string{"plan", "--detailed-exitcode", good}, state...), exitChanges},
		{append([]string{"plan", "--detailed-exitcode", empty}, state...), exitOK},
		{[]string{"run"}, exitUsage},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"--help"}, exitOK},
		{[]string{"plugins", "no_such_plugin"}, exitError},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := Main(tc.args, &out, &errb, nil, reg); got != tc.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tc.want, out.String(), errb.String())
			}
		})
	}
}

// TestInterruptExits130 sends SIGINT to a running `etl run` and expects a
// prompt exit with status 130 and the checkpoint of finished partitions.
func TestInterruptExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := t.TempDir()
	pipeline := filepath.Join(dir, "slow.hcl")
	src := "source \"gen\" \"g\" {\n  partitions = 1000\n  delay = \"20ms\"\n}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n"
	if err := os.WriteFile(pipeline, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(dir, "state")
	// testscript.Main put an "etl" copy of this test binary on PATH.
	cmd := exec.Command("etl", "run", "--state", statePath, pipeline)
	var stdout syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once a partition is done: the run has installed its signal
	// handler and has a checkpoint to keep, however slowly the machine
	// started the process.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stdout.String(), "p001  done") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if waited := time.Since(sent); waited > time.Second {
		t.Errorf("took %s to stop after SIGINT", waited)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d (%v), want 130; output:\n%s", code, err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "interrupted") {
		t.Errorf("output does not say it was interrupted:\n%s", stdout.String())
	}
	st, err := store.Open(statePath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("no state after SIGINT: %v", err)
	}
	defer st.Close()
	cp, err := etl.ReadCheckpoint(st)
	if err != nil || cp == nil {
		t.Fatalf("no checkpoint after SIGINT: %v", err)
	}
	if n := len(cp.Sources["source.gen.g"]); n == 0 || n >= 1000 {
		t.Errorf("checkpoint holds %d partitions, want some but not all", n)
	}
}

// syncBuffer is a bytes.Buffer safe for the two writers exec uses.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A second run on a state in use fails at once, naming the state and the
// process that holds it; so does `etl state rm`. Here this test process
// holds the state, as a run would.
func TestStateInUseRefused(t *testing.T) {
	dir := t.TempDir()
	pipeline := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(pipeline, []byte("source \"gen\" \"g\" {}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(dir, "state")
	st, err := store.Open(statePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := fmt.Sprintf("the state %s is in use by process %d, started ", statePath, os.Getpid())
	for _, args := range [][]string{
		{"run", "--state", statePath, pipeline},
		{"run", "--fresh", "--state", statePath, pipeline},
		{"state", "rm", statePath},
	} {
		out, err := exec.Command("etl", args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("etl %s: %v\n%s\nwant it to say %q", strings.Join(args, " "), err, out, want)
		}
	}
	if !store.IsStore(statePath) {
		t.Error("the state in use was deleted")
	}
}
