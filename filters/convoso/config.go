package convoso

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/retry"
	"github.com/hashicorp/hcl/v2"
)

// On-not-found policies.
const (
	NotFoundDrop = "drop"
	NotFoundKeep = "keep"
)

// On-lookup-error policies: what a phone whose lookup still fails after
// max_retries does to the run.
const (
	LookupErrorFail = "fail"
	LookupErrorSkip = "skip"
)

// Flags exclude_flags accepts: the status catalogue's yes/no columns.
var validFlags = []string{"dnc", "success", "final"}

// Config is the convoso_status block.
type Config struct {
	BaseURL           string   `hcl:"base_url,optional" doc:"Convoso API root."`
	AuthToken         string   `hcl:"auth_token" doc:"Convoso auth token, sent as a form parameter (never in a URL); use env(\"CONVOSO_AUTH_TOKEN\")." etl:"secret"`
	Phone             etl.Expr `hcl:"phone" doc:"Per-record phone to look up; NANP numbers are normalised to 10 digits, records without a valid phone are dropped."`
	ExcludeStatuses   []string `hcl:"exclude_statuses,optional" doc:"Lead statuses that exclude a phone when ANY of its leads has one, e.g. [\"SALE\", \"DNC\"]."`
	ExcludeFlags      []string `hcl:"exclude_flags,optional" doc:"Also exclude every status the status catalogue flags so: \"dnc\", \"success\", \"final\"."`
	CheckDNCList      bool     `hcl:"check_dnc_list,optional" doc:"Also drop phones on Convoso's global DNC list (asked only for phones otherwise kept)."`
	Concurrency       int      `hcl:"concurrency,optional" doc:"Requests in flight at once while phones wait (a request waiting to retry holds none); records leave as their phone is answered, each partition's mark after its records."`
	RequestsPerSecond float64  `hcl:"requests_per_second,optional" doc:"Rate limit on requests, retries included (0: none)."`
	OnNotFound        string   `hcl:"on_not_found,optional" doc:"A phone without leads: \"drop\" it, or \"keep\" it with lead_id = null."`
	OnLookupError     string   `hcl:"on_lookup_error,optional" doc:"A phone whose lookup still fails after max_retries: \"fail\" the run (a resumed run reuses the answers already obtained), or \"skip\" it: its records are dropped as \"lookup failed\" (not queued), the phone is listed in the report, and etl exits 3."`
	// Settings: max_retries also covers success=false answers other than
	// a refused token.
	retry.Settings
}

// DefaultConcurrency is the default number of lookups in flight.
const DefaultConcurrency = 50

func defaultConfig() *Config {
	return &Config{
		BaseURL:       "https://api.convoso.com",
		Concurrency:   DefaultConcurrency,
		OnNotFound:    NotFoundDrop,
		OnLookupError: LookupErrorFail,
		Settings:      retry.DefaultSettings(30 * time.Second),
	}
}

// Validate checks the block without I/O.
func (c *Config) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if strings.TrimSpace(c.AuthToken) == "" && b.Known("auth_token") {
		diags = append(diags, b.Diag("auth_token", "Empty auth token", `auth_token is empty; set it with env("CONVOSO_AUTH_TOKEN").`))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		diags = append(diags, b.Diag("base_url", "Invalid base_url", "base_url must be an http(s) URL without a query, such as https://api.convoso.com."))
	}
	if c.Concurrency < 1 || c.Concurrency > 500 {
		diags = append(diags, b.Diag("concurrency", "Invalid concurrency", "concurrency must be between 1 and 500."))
	}
	if c.RequestsPerSecond < 0 {
		diags = append(diags, b.Diag("requests_per_second", "Invalid requests_per_second", "requests_per_second must be 0 (no limit) or more."))
	}
	if c.OnNotFound != NotFoundDrop && c.OnNotFound != NotFoundKeep {
		diags = append(diags, b.Diag("on_not_found", "Invalid on_not_found", `on_not_found must be "drop" or "keep".`))
	}
	if c.OnLookupError != LookupErrorFail && c.OnLookupError != LookupErrorSkip {
		diags = append(diags, b.Diag("on_lookup_error", "Invalid on_lookup_error", `on_lookup_error must be "fail" or "skip".`))
	}
	for _, f := range c.ExcludeFlags {
		if !contains(validFlags, f) {
			diags = append(diags, b.Diag("exclude_flags", "Invalid exclude flag",
				fmt.Sprintf("exclude_flags may hold %q, not %q.", validFlags, f)))
		}
	}
	for _, s := range c.ExcludeStatuses {
		if strings.TrimSpace(s) == "" {
			diags = append(diags, b.Diag("exclude_statuses", "Empty status", "exclude_statuses holds an empty status."))
		}
	}
	diags = append(diags, c.Settings.Validate(b)...)
	return diags
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
