package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGoalPercent(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name                  string
		live, stacks, globals uint64
		want                  int
	}{
		// goal = 4 + 5 × 2.4 = 16 MB.
		{"small heap reaches the floor", 4 * mb, mb / 2, mb / 2, 240},
		// (16 - 0.5) / 0.5 = 3100%, but the runtime's own minimum goal
		// (4 MB × GOGC/100) would then be 124 MB: capped at 400%.
		{"tiny heap is capped by the runtime minimum", mb / 2, 0, 0, 400},
		// goal at 40% = 12 + 12 × 0.4 = 16.8 MB, over the floor already.
		{"large heap keeps the base percent", 12 * mb, 0, 0, 40},
		{"heap over the floor", 40 * mb, mb, mb, 40},
		{"nothing measured yet", 0, 0, 0, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := goalPercent(16*mb, 40, c.live, c.stacks, c.globals); got != c.want {
				t.Errorf("goalPercent(live %d, stacks %d, globals %d) = %d, want %d", c.live, c.stacks, c.globals, got, c.want)
			}
		})
	}
}

// TestStartRaisesGOGCAfterACollection checks the finalizer loop: after a
// collection of a small heap the tuner has raised GOGC from the base.
func TestStartRaisesGOGCAfterACollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	Start(64<<20, 40)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer runs on its own goroutine
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if p > 40 {
			return
		}
	}
	t.Fatal("GOGC is still 40 after collections of a small heap")
}
