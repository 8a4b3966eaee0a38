package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// The test binary is its own child: with RUSAGE_CHILD set, TestMain does
// the work the test measures instead of running the tests.
func TestMain(m *testing.M) {
	if os.Getenv("RUSAGE_CHILD") != "" {
		child()
	}
	os.Exit(m.Run())
}

// child touches 64 MB, spins for 300 ms of CPU, and exits with status 3.
func child() {
	mem := make([]byte, 64<<20)
	for i := range mem {
		mem[i] = byte(i)
	}
	// Spin until the process itself has used 300 ms of CPU (not 300 ms of
	// wall time, which a busy machine may not give it as CPU).
	n := 0
	for cpuTime() < 300*time.Millisecond {
		for range 1 << 16 {
			n++
		}
	}
	os.Stdout.Write(mem[n%len(mem) : n%len(mem)+1])
	os.Exit(3)
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestMeasureChild(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RUSAGE_CHILD=1")
	u, err := measure(cmd)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if u.PeakRSS < 64<<20 {
		t.Errorf("peak RSS %d bytes, want at least the child's 64 MB", u.PeakRSS)
	}
	if u.CPU < 250*time.Millisecond {
		t.Errorf("CPU %v, want at least the child's 300 ms spin, less the clock's grain", u.CPU)
	}
	if u.Wall < 200*time.Millisecond { // most of the spin is one thread
		t.Errorf("wall %v for CPU %v: too short", u.Wall, u.CPU)
	}
}

func TestMeasureNotStarted(t *testing.T) {
	_, err := measure(exec.Command("/nonexistent/command"))
	var exit *exec.ExitError
	if err == nil || errors.As(err, &exit) {
		t.Fatalf("err = %v, want the error starting it", err)
	}
}

func TestUsageLine(t *testing.T) {
	u := Usage{Wall: 1500 * time.Millisecond, CPU: 2250 * time.Millisecond, PeakRSS: 37 << 20}
	if got, want := u.String(), "1.500 2.250 37.0"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}
