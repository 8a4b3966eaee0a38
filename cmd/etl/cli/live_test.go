package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestLiveProgressOnTerminal runs `etl run` on a pseudo-terminal: the
// status is redrawn in place (the cursor goes up over it and erases it),
// shows the source's partitions done out of the total and the elapsed
// time, and the per-partition lines scroll above it.
func TestLiveProgressOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := t.TempDir()
	pipeline := filepath.Join(dir, "slow.hcl")
	src := "source \"gen\" \"g\" {\n  partitions = 6\n  delay = \"250ms\"\n}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n}\n"
	if err := os.WriteFile(pipeline, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// testscript.Main put an "etl" copy of this test binary on PATH.
	cmd := exec.Command("etl", "run", "--state", filepath.Join(dir, "state"), pipeline)
	cmd.Env = append(withoutTERM(os.Environ()), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&out, tty) // ends with EIO once the process has exited
		close(copied)
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("etl run: %v\n%s", err, out.String())
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatal("the terminal's output did not end")
	}
	s := out.String()
	if !regexp.MustCompile(`\x1b\[\d+A\x1b\[J`).MatchString(s) {
		t.Errorf("no redraw in place (cursor up, erase):\n%q", s)
	}
	for _, want := range []string{"source.gen.g", "6/6 partitions", "elapsed", "p005  done (source.gen.g)"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q on the terminal:\n%q", want, s)
		}
	}
	if !regexp.MustCompile(`source\.gen\.g +[1-5]/6 partitions`).MatchString(s) {
		t.Errorf("no status while the run was under way:\n%q", s)
	}
	if strings.Contains(s, "Still running") {
		t.Errorf("a plain progress line on a terminal:\n%q", s)
	}
}

func withoutTERM(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "TERM=") {
			out = append(out, e)
		}
	}
	return out
}
