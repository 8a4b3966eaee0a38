package bland

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/retry"
	"github.com/hashicorp/hcl/v2"
)

// Config is the bland_calls block.
type Config struct {
	BaseURL      string `hcl:"base_url,optional" doc:"API base URL."`
	APIKey       string `hcl:"api_key" doc:"Bland API key, sent raw as the authorization header; use env(\"BLAND_API_KEY\")." etl:"secret"`
	StartDate    Date   `hcl:"start_date" doc:"First date to list, inclusive, YYYY-MM-DD (UTC)."`
	EndDate      Date   `hcl:"end_date" doc:"Last date to list, inclusive, YYYY-MM-DD (UTC); not after today."`
	MaxDates     int    `hcl:"max_dates,optional" doc:"Most dates start_date to end_date may hold; a longer range is refused before any request (each date is at least one request). Raise it to go further back."`
	Limit        int    `hcl:"limit,optional" doc:"Calls asked for per request. Keep it above the busiest day's count: each date is meant to come in one request, and paging is only a fallback."`
	Concurrency  int    `hcl:"concurrency,optional" doc:"Dates fetched at once; records still come out in date order."`
	OnIncomplete string `hcl:"on_incomplete,optional" doc:"What to do when a date cannot be listed whole: \"fail\" the run, or \"warn\" and mark the date incomplete."`
	retry.Settings
	RequestsPerMinute int               `hcl:"requests_per_minute,optional" doc:"Rate limit on requests (0: none)."`
	Query             map[string]string `hcl:"query,optional" doc:"Extra query parameters passed through, e.g. { inbound = \"false\" }."`
	MaxPages          int               `hcl:"max_pages,optional" doc:"Most pages requested per date before giving up on it."`
}

// DefaultMaxDates is the default max_dates: a year and some, so that a
// typo in a year (1900 for 2025) is refused instead of starting tens of
// thousands of requests.
const DefaultMaxDates = 400

// now is the clock "today" is read from; tests replace it.
var now = time.Now

// today is the current date in UTC, as a Date.
func today() Date {
	y, m, d := now().UTC().Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// DefaultLimit is the default page size. Bland's own default is 1000 and
// it documents no maximum; listing a date in one request avoids its paging,
// which has been seen to return the same page over and over.
const DefaultLimit = 10000

func defaultConfig() *Config {
	return &Config{
		BaseURL:      "https://api.bland.ai",
		Limit:        DefaultLimit,
		MaxDates:     DefaultMaxDates,
		Concurrency:  2,
		OnIncomplete: "fail",
		Settings:     retry.DefaultSettings(2 * time.Minute),
		MaxPages:     20,
	}
}

// HasPartition reports whether date is one this block lists: a checkpoint
// holding other dates was written for another range (etl.PartitionSet).
func (c *Config) HasPartition(date string) bool {
	return date >= c.StartDate.String() && date <= c.EndDate.String()
}

var _ etl.PartitionSet = (*Config)(nil)

// reservedParams are set by the source itself.
var reservedParams = []string{"created_at", "start_date", "end_date", "limit", "from", "to"}

// Validate checks the block without I/O.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if strings.TrimSpace(c.APIKey) == "" && b.Known("api_key") {
		diags = append(diags, b.Diag("api_key", "Empty API key", `api_key is empty; set it with env("BLAND_API_KEY").`))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		diags = append(diags, b.Diag("base_url", "Invalid base_url", "base_url must be an http(s) URL such as https://api.bland.ai."))
	} else if u.RawQuery != "" {
		diags = append(diags, b.Diag("base_url", "Invalid base_url", "base_url must not carry a query; pass filters with query = { ... }."))
	}
	if !c.StartDate.IsZero() && !c.EndDate.IsZero() && c.StartDate.t.After(c.EndDate.t) {
		diags = append(diags, b.Diag("start_date", "start_date is after end_date",
			fmt.Sprintf("start_date %s comes after end_date %s; the range is inclusive at both ends.", c.StartDate, c.EndDate)))
	}
	diags = append(diags, c.validateRange(b)...)
	positive := []struct {
		name string
		v    int
	}{{"limit", c.Limit}, {"concurrency", c.Concurrency}, {"max_pages", c.MaxPages}, {"max_dates", c.MaxDates}}
	for _, p := range positive {
		if p.v < 1 {
			diags = append(diags, b.Diag(p.name, "Invalid "+p.name, p.name+" must be at least 1."))
		}
	}
	if c.Concurrency > 64 {
		diags = append(diags, b.Diag("concurrency", "Invalid concurrency", "concurrency must be at most 64: each date in flight holds its calls in memory."))
	}
	if c.OnIncomplete != "fail" && c.OnIncomplete != "warn" {
		diags = append(diags, b.Diag("on_incomplete", "Invalid on_incomplete", `on_incomplete must be "fail" or "warn".`))
	}
	diags = append(diags, c.Settings.Validate(b)...)
	if c.RequestsPerMinute < 0 {
		diags = append(diags, b.Diag("requests_per_minute", "Invalid requests_per_minute", "requests_per_minute must be 0 (no limit) or more."))
	}
	for _, k := range reservedParams {
		if _, ok := c.Query[k]; ok {
			diags = append(diags, b.Diag("query", "Reserved query parameter",
				fmt.Sprintf("query must not set %q: the source sets created_at, limit, from and to itself, one date at a time.", k)))
		}
	}
	return diags
}

// validateRange refuses dates after today (UTC), for which Bland has no
// calls yet, and a range of more than max_dates dates, which is a typo far
// more often than a wish: every date costs at least one request and a
// stats row and checkpoint save.
func (c *Config) validateRange(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	day := today()
	for _, a := range []struct {
		name string
		d    Date
	}{{"start_date", c.StartDate}, {"end_date", c.EndDate}} {
		if !a.d.IsZero() && a.d.t.After(day.t) {
			diags = append(diags, b.Diag(a.name, a.name+" is in the future",
				fmt.Sprintf("%s %s is after today (%s, UTC): Bland has no calls for it yet. Use %s or an earlier date.", a.name, a.d, day, day)))
		}
	}
	if c.StartDate.IsZero() || c.EndDate.IsZero() || c.StartDate.t.After(c.EndDate.t) || c.MaxDates < 1 {
		return diags
	}
	// Dates after today are refused above: count those up to today, the
	// ones raising max_dates would let through.
	last, upTo := c.EndDate, ""
	if last.t.After(day.t) {
		last, upTo = day, " up to today"
	}
	n := daysBetween(c.StartDate, last)
	if n > c.MaxDates {
		diags = append(diags, b.Diag("start_date", "Date range longer than max_dates",
			fmt.Sprintf("start_date %s to end_date %s is %d dates%s, more than max_dates (%d): each date is at least one Bland request. "+
				"Narrow the range, or set max_dates = %d in this bland_calls block to fetch them all.",
				c.StartDate, c.EndDate, n, upTo, c.MaxDates, n)))
	}
	return diags
}

// Fingerprint is what gives a checkpoint its meaning: the API, the first
// date and the filters. end_date is left out so that widening the range
// continues a backfill; the key is never part of it.
func (c *Config) Fingerprint() map[string]string {
	keys := make([]string, 0, len(c.Query))
	for k := range c.Query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	q := url.Values{}
	for _, k := range keys {
		q.Set(k, c.Query[k])
	}
	return map[string]string{
		"base_url":   strings.TrimSuffix(c.BaseURL, "/"),
		"start_date": c.StartDate.String(),
		"query":      q.Encode(),
	}
}
