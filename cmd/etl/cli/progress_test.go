package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
)

func ptr[T any](v T) *T { return &v }

func sampleProgress(elapsed float64, done int64) etl.Progress {
	return etl.Progress{
		ElapsedSeconds: elapsed, ETASeconds: ptr(150.0),
		Blocks: []etl.BlockProgress{
			{Block: "source.bland_calls.calls", Partitions: &etl.PartitionProgress{Done: done, Total: ptr(int64(38)), Unit: "dates"},
				Bytes: 14_200_000, BytesPerSecond: 1_100_000, Requests: done},
			{Block: "filter.convoso_status.redialable", Keys: &etl.KeyProgress{Done: 1234, Known: 1500, Unit: "phones"},
				Requests: 1300, RequestsPerSecond: 9.8, Retries: 3, RateLimited: 1},
		},
	}
}

// TestPlainViewCadence: progress every second of a fake clock gives a line
// every 10 s, none before 10 s, none for the final event, and never a
// control character.
func TestPlainViewCadence(t *testing.T) {
	now := time.Unix(0, 0)
	var out bytes.Buffer
	v := newPlainView(&out, 10*time.Second, func() time.Time { return now })
	for sec := 1; sec <= 35; sec++ {
		now = now.Add(time.Second)
		v.show(sampleProgress(float64(sec), int64(sec)))
	}
	final := sampleProgress(36, 38)
	final.Final = true
	v.show(final)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines in 35 s at 10 s, want 3:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "Still running... [") {
			t.Errorf("line %d: %q", i, l)
		}
		if strings.ContainsFunc(l, func(r rune) bool { return r < ' ' }) {
			t.Errorf("line %d has a control character: %q", i, l)
		}
	}
	want := "Still running... [20s elapsed, about 2m30s left] source.bland_calls.calls: 20/38 dates, 14.2 MB at 1.1 MB/s, 20 requests | " +
		"filter.convoso_status.redialable: 1234/1500 phones, 1300 requests at 9.8/s, 3 retries, 1 × 429"
	if lines[1] != want {
		t.Errorf("line 2:\n%s\nwant\n%s", lines[1], want)
	}
}

func TestPlainLineUnknowns(t *testing.T) {
	p := etl.Progress{ElapsedSeconds: 75, Blocks: []etl.BlockProgress{{Block: "source.gen.g", Partitions: &etl.PartitionProgress{Done: 2}}}}
	want := "Still running... [1m15s elapsed, time left not known yet] source.gen.g: 2/? partitions"
	if got := plainLine(p); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSparkline(t *testing.T) {
	s := etl.Series{Title: "new phones per date", Labels: []string{"d1", "d2", "d3", "d4", "d5"}, Values: []int64{480, 0, 31, 240, 1}}
	want := "new phones per date  █▁▂▅▂  d1 to d5, most 480 on d1" // nothing on d2: the lowest mark
	if got := sparkline(s); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// 120 dates fit 60 columns, two dates a mark.
	long := etl.Series{Title: "t", Labels: make([]string, 120), Values: make([]int64, 120)}
	long.Values[119] = 5
	want = "t  " + strings.Repeat("▁", 59) + "█   to , most 5 on  (a mark per 2)" // empty labels
	if got := sparkline(long); got != want {
		t.Errorf("long series:\n%q\nwant\n%q", got, want)
	}
}

func TestOutcomeBars(t *testing.T) {
	o := &etl.Outcomes{Of: "phones", Counts: []etl.Count{{Name: "kept", N: 1344}, {Name: "excluded: SALE", N: 271}, {Name: "not found", N: 0}}}
	got := strings.Join(outcomeBars("filter.convoso_status.f", o), "\n")
	want := "filter.convoso_status.f: 1615 phones by outcome\n" +
		"  kept            " + strings.Repeat("█", 40) + "  1344   83%\n" +
		"  excluded: SALE  ████████" + strings.Repeat(" ", 32) + "   271   17%\n" +
		"  not found       " + strings.Repeat(" ", 40) + "     0    0%"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
