// Command rusage runs a command and writes what it cost: its wall time
// (start-up included), its CPU time (user + system) and its peak RSS, from
// the kernel's accounting of the child (wait4's rusage), so that measuring
// takes no CPU from the command measured, as polling /proc would.
//
//	rusage -o FILE -- CMD [ARG...]
//
// FILE receives one line, "WALL_S CPU_S PEAK_RSS_MB". The command's
// standard streams are rusage's; its exit status is rusage's (1 when it
// could not be started or was killed by a signal).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Usage is what a command cost.
type Usage struct {
	Wall, CPU time.Duration
	// PeakRSS is the resident set's high-water mark, in bytes.
	PeakRSS int64
}

// String renders the line rusage writes.
func (u Usage) String() string {
	return fmt.Sprintf("%.3f %.3f %.1f", u.Wall.Seconds(), u.CPU.Seconds(), float64(u.PeakRSS)/(1<<20))
}

// measure runs cmd to its end. The error is cmd's: an *exec.ExitError
// still comes with the usage.
func measure(cmd *exec.Cmd) (Usage, error) {
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return Usage{}, err
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return Usage{}, fmt.Errorf("no resource usage on this system")
	}
	return Usage{
		Wall:    wall,
		CPU:     cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		PeakRSS: int64(ru.Maxrss) * 1024, // Linux reports kilobytes
	}, err
}

func main() {
	out := flag.String("o", "", "write WALL_S CPU_S PEAK_RSS_MB to this file (default: standard error)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: rusage [-o FILE] -- CMD [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	u, err := measure(cmd)
	status := 0
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			fmt.Fprintf(os.Stderr, "rusage: %v\n", err)
			os.Exit(1)
		}
		if status = exit.ExitCode(); status < 0 {
			status = 1 // killed by a signal
		}
	}
	line := u.String() + "\n"
	if *out == "" {
		fmt.Fprint(os.Stderr, line)
	} else if werr := os.WriteFile(*out, []byte(line), 0o644); werr != nil {
		fmt.Fprintf(os.Stderr, "rusage: %v\n", werr)
		os.Exit(1)
	}
	os.Exit(status)
}
