package etl_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
)

// dailyConfig is a source setting as a daily pipeline writes it.
type dailyConfig struct {
	EndDate string `hcl:"end_date"`
}

type emptySource struct{}

func (emptySource) Read(context.Context, etl.Output) error { return nil }

// TestYesterday is the line a daily run writes: the day before the run's
// start, across a month and a leap day.
func TestYesterday(t *testing.T) {
	for _, tc := range []struct{ now, want string }{
		{"2026-11-30T06:15:00Z", "2026-11-29"},
		{"2026-03-01T00:00:00Z", "2026-02-28"},
		{"2028-03-01T23:59:59Z", "2028-02-29"},
		{"2027-01-01T12:00:00+05:00", "2026-12-31"}, // 07:00Z
	} {
		t.Run(tc.now, func(t *testing.T) {
			reg, _ := testRegistry(t)
			var got string
			etl.RegisterSource(reg, etl.Spec[dailyConfig]{Type: "daily", Summary: "Has an end_date."},
				func(c *dailyConfig, _ etl.Env) (etl.Source, error) { got = c.EndDate; return emptySource{}, nil })
			now, err := time.Parse(time.RFC3339, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			p, diags := etl.Load(writePipeline(t, `
source "daily" "d" {
  end_date = dateadd(formatdate("YYYY-MM-DD", timestamp()), -1)
}
sink "collect" "c" {
  input = source.daily.d
}
`), etl.LoadOptions{Registry: reg, Now: now})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("end_date = %q, want %q", got, tc.want)
			}
			if ts, used := p.Timestamp(); !used || !ts.Equal(now.Truncate(time.Second)) {
				t.Errorf("Timestamp() = %s, %v; want %s, true", ts, used, now)
			}
		})
	}
}

// Every call of timestamp() in a run returns the same time, the run's
// start, however long the run takes: settings evaluated at load and
// per-record expressions evaluated partitions apart agree.
func TestTimestampFixedForTheRun(t *testing.T) {
	reg, c := testRegistry(t)
	before := time.Now().UTC().Truncate(time.Second)
	p := load(t, reg, `
source "gen" "g" {
  partitions    = 3
  per_partition = 2
  delay         = "600ms"
}
transform "map" "m" {
  input = source.gen.g
  field = "at"
  value = "${timestamp()} ${record.key}"
}
sink "collect" "c" {
  input = transform.map.m
  name  = timestamp()
}
`)
	if _, err := p.Run(context.Background(), etl.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	ts, used := p.Timestamp()
	want := ts.Format(time.RFC3339)
	if !used || ts.Before(before) || ts.After(time.Now()) {
		t.Fatalf("Timestamp() = %s, %v; want the run's start, used", ts, used)
	}
	recs := c.Records[want] // the sink's name is timestamp() at load
	if len(recs) != 6 {
		t.Fatalf("collect %q got %d records, want 6 (sinks: %v)", want, len(recs), c.Records)
	}
	for _, r := range recs {
		if at, _, _ := strings.Cut(r.String("at"), " "); at != want {
			t.Errorf("record %s: timestamp() = %s, want %s", r.String("key"), at, want)
		}
	}
}

func TestDateadd(t *testing.T) {
	for _, tc := range []struct{ expr, want, wantErr string }{
		{`dateadd("2026-11-30", 1)`, "2026-12-01", ""},
		{`dateadd("2026-12-31", 1)`, "2027-01-01", ""},
		{`dateadd("2026-01-01", -1)`, "2025-12-31", ""},
		{`dateadd("2024-02-28", 1)`, "2024-02-29", ""},
		{`dateadd("2026-11-30", 0)`, "2026-11-30", ""},
		{`dateadd("2026-11-30", -365)`, "2025-11-30", ""},
		{`dateadd("2026-11-30", "-1")`, "2026-11-29", ""}, // HCL converts the string
		{`dateadd("30/11/2026", 1)`, "", `p.hcl:4:19: Invalid function argument; Invalid value for "date" parameter: date "30/11/2026" is not a YYYY-MM-DD date`},
		{`dateadd("2026-02-30", 1)`, "", `p.hcl:4:19: Invalid function argument; Invalid value for "date" parameter: date "2026-02-30" is not`},
		{`dateadd("2026-11-30T00:00:00Z", 1)`, "", `formatdate("YYYY-MM-DD", TIME) turns a time into one`},
		{`dateadd("2026-11-30", 1.5)`, "", `p.hcl:4:32: Invalid function argument; Invalid value for "days" parameter: days must be a whole number of days`},
		{`dateadd("2026-11-30", null)`, "", `p.hcl:4:32: Invalid function argument`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			reg, _ := testRegistry(t)
			src := "source \"gen\" \"g\" {}\nsink \"collect\" \"c\" {\n  input = source.gen.g\n  name = " + tc.expr + "\n}\n"
			p, diags := etl.Load(writePipeline(t, src), etl.LoadOptions{Registry: reg})
			if tc.wantErr != "" {
				var got []string
				for _, d := range diags {
					got = append(got, fmt.Sprintf("p.hcl:%d:%d: %s; %s", d.Subject.Start.Line, d.Subject.Start.Column, d.Summary, d.Detail))
				}
				if !strings.Contains(strings.Join(got, "\n"), tc.wantErr) {
					t.Fatalf("diagnostics:\n%s\nwant %q", strings.Join(got, "\n"), tc.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got := p.Blocks[1].Config.(*etltest.CollectConfig).Name; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
