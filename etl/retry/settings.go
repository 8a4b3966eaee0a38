package retry

import (
	"net/http"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/time/rate"
)

// Settings are the retry attributes every API block shares. Embed it in a
// plugin's config struct (untagged) and its fields become the block's
// attributes, with the same names, docs and checks everywhere.
type Settings struct {
	MaxRetries  int           `hcl:"max_retries,optional" doc:"Retries of a request after 429, 5xx, a network error or an answer cut off mid-read. The first retry after a 5xx or network error comes within 100 ms (random); a 429's Retry-After delays only the request that got it; repeated 429s (3 or more, and 10% of the answers in 2 s) lower the request rate below what the API accepts, and it recovers once they stop."`
	BackoffBase time.Duration `hcl:"backoff_base,optional" doc:"Backoff ceiling of the first 429 retry and the second retry of any other failure; doubles each retry (full jitter). A Retry-After header wins."`
	BackoffMax  time.Duration `hcl:"backoff_max,optional" doc:"Largest backoff ceiling."`
	Timeout     time.Duration `hcl:"timeout,optional" doc:"Time allowed for one request, reading the answer included."`
}

// DefaultSettings returns the defaults: 5 retries, backoff from 1 s to 30 s,
// and the given per-request timeout.
func DefaultSettings(timeout time.Duration) Settings {
	return Settings{MaxRetries: 5, BackoffBase: time.Second, BackoffMax: 30 * time.Second, Timeout: timeout}
}

// Validate checks the settings, pointing at the attribute at fault.
func (s Settings) Validate(b *etl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if s.MaxRetries < 0 {
		diags = append(diags, b.Diag("max_retries", "Invalid max_retries", "max_retries must be 0 or more."))
	}
	if s.BackoffBase <= 0 {
		diags = append(diags, b.Diag("backoff_base", "Invalid backoff_base", "backoff_base must be positive."))
	}
	if s.BackoffMax < s.BackoffBase {
		diags = append(diags, b.Diag("backoff_max", "Invalid backoff_max", "backoff_max must be at least backoff_base."))
	}
	if s.Timeout <= 0 {
		diags = append(diags, b.Diag("timeout", "Invalid timeout", "timeout must be positive."))
	}
	return diags
}

// Client returns a Client with these settings over hc.
func (s Settings) Client(hc *http.Client, limiter *rate.Limiter, secrets ...string) *Client {
	return &Client{
		HTTP:        hc,
		MaxRetries:  s.MaxRetries,
		BackoffBase: s.BackoffBase,
		BackoffMax:  s.BackoffMax,
		Timeout:     s.Timeout,
		Limiter:     limiter,
		Throttle:    NewThrottle(),
		Secrets:     secrets,
	}
}
