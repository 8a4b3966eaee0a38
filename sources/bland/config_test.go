package bland

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/etltest"
	"github.com/hashicorp/hcl/v2"
)

// setNow fixes the clock Validate reads "today" from.
func setNow(t *testing.T, at time.Time) {
	t.Helper()
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}

// loadBlock loads a pipeline of one bland_calls block with these
// attributes (after api_key, from line 3 on) and returns its diagnostics.
func loadBlock(t *testing.T, attrs string) hcl.Diagnostics {
	t.Helper()
	src := "source \"bland_calls\" \"calls\" {\n  api_key = \"k\"\n" + attrs + "}\n\nsink \"collect\" \"out\" {\n  input = source.bland_calls.calls\n}\n"
	path := filepath.Join(t.TempDir(), "p.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := etl.NewRegistry()
	Register(reg)
	etltest.Register(reg, &etltest.Collector{}, nil)
	_, diags := etl.Load(path, etl.LoadOptions{Registry: reg})
	return diags
}

// TestConfigDateRange checks the refusals of dates after today (UTC) and
// of ranges longer than max_dates: each points at its attribute and says
// the dates, the setting and the fix.
func TestConfigDateRange(t *testing.T) {
	// 23:30 in New York on 10 December is already the 11th in UTC.
	setNow(t, time.Date(2025, 12, 10, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)))
	type want struct {
		summary   string
		line, col int
		detail    []string
	}
	tests := []struct {
		name  string
		attrs string
		want  []want
	}{
		{name: "today in UTC is fine", attrs: "  start_date = \"2025-12-11\"\n  end_date = \"2025-12-11\"\n"},
		{name: "tomorrow in UTC is refused", attrs: "  start_date = \"2025-12-01\"\n  end_date = \"2025-12-12\"\n",
			want: []want{{"end_date is in the future", 4, 14, []string{"end_date 2025-12-12 is after today (2025-12-11, UTC)", "Use 2025-12-11 or an earlier date."}}}},
		{name: "both in the future", attrs: "  start_date = \"2026-01-01\"\n  end_date = \"2026-01-02\"\n",
			want: []want{{"start_date is in the future", 3, 16, []string{"start_date 2026-01-01"}}, {"end_date is in the future", 4, 14, []string{"end_date 2026-01-02"}}}},
		{name: "400 dates is the default most", attrs: "  start_date = \"2024-11-07\"\n  end_date = \"2025-12-11\"\n"},
		{name: "401 dates is one too many", attrs: "  start_date = \"2024-11-06\"\n  end_date = \"2025-12-11\"\n",
			want: []want{{"Date range longer than max_dates", 3, 16, []string{
				"start_date 2024-11-06 to end_date 2025-12-11 is 401 dates, more than max_dates (400): each date is at least one Bland request.",
				"Narrow the range, or set max_dates = 401 in this bland_calls block"}}}},
		{name: "max_dates raised", attrs: "  start_date = \"2024-11-06\"\n  end_date = \"2025-12-11\"\n  max_dates = 401\n"},
		{name: "max_dates lowered", attrs: "  start_date = \"2025-12-01\"\n  end_date = \"2025-12-03\"\n  max_dates = 2\n",
			want: []want{{"Date range longer than max_dates", 3, 16, []string{"is 3 dates, more than max_dates (2)", "set max_dates = 3"}}}},
		{name: "the issue's range", attrs: "  start_date = \"1900-01-01\"\n  end_date = \"2100-12-31\"\n",
			want: []want{
				{"Date range longer than max_dates", 3, 16, []string{"start_date 1900-01-01 to end_date 2100-12-31 is 46001 dates up to today, more than max_dates (400)", "set max_dates = 46001"}},
				{"end_date is in the future", 4, 14, []string{"end_date 2100-12-31 is after today (2025-12-11, UTC)"}},
			}},
		{name: "max_dates must be positive", attrs: "  start_date = \"2025-12-01\"\n  end_date = \"2025-12-01\"\n  max_dates = 0\n",
			want: []want{{"Invalid max_dates", 5, 15, []string{"max_dates must be at least 1."}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags := loadBlock(t, tt.attrs)
			errs := diags.Errs()
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d: %v", len(errs), len(tt.want), diags)
			}
			for i, w := range tt.want {
				d := diags[i]
				if d.Summary != w.summary || d.Subject == nil || d.Subject.Start.Line != w.line || d.Subject.Start.Column != w.col {
					t.Errorf("diagnostic %d: %q at %v, want %q at %d:%d", i, d.Summary, d.Subject, w.summary, w.line, w.col)
				}
				for _, s := range w.detail {
					if !strings.Contains(d.Detail, s) {
						t.Errorf("detail %q lacks %q", d.Detail, s)
					}
				}
			}
		})
	}
}

func TestDaysBetween(t *testing.T) {
	d := func(s string) Date {
		var x Date
		x.t, _ = time.Parse(time.DateOnly, s)
		return x
	}
	for _, tc := range []struct {
		a, b string
		n    int
	}{{"2025-12-01", "2025-12-01", 1}, {"2025-12-01", "2026-01-07", 38}, {"2024-02-28", "2024-03-01", 3}, {"0001-01-01", "9999-12-31", 3652059}} {
		if got := daysBetween(d(tc.a), d(tc.b)); got != tc.n {
			t.Errorf("%s..%s: %d, want %d", tc.a, tc.b, got, tc.n)
		}
		if tc.n < 1000 {
			if got := len(datesBetween(d(tc.a), d(tc.b))); got != tc.n {
				t.Errorf("datesBetween %s..%s: %d", tc.a, tc.b, got)
			}
		}
	}
}
