package convoso

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/retry"
	"github.com/etlhq/etl/filters/convoso/convosotest"
)

// Requests share their URL and headers (newPost): the fake, which parses
// the form by its Content-Type and checks the token in it, answers every
// kind of request, and the shared headers are as they were afterwards.
func TestSharedRequestPartsStayIntact(t *testing.T) {
	srv := convosotest.NewServer(convosotest.Config{})
	defer srv.Close()
	srv.Seed([]string{"2015550123"})
	before := maps.Clone(formHeader)
	c := &Client{BaseURL: srv.URL() + "/", Token: srv.Token(), HTTP: &retry.Client{HTTP: &http.Client{}, MaxRetries: 1}}
	ctx := context.Background()
	for range 3 {
		if leads, _, err := c.Leads(ctx, "2015550123"); err != nil || len(leads) == 0 {
			t.Fatalf("Leads = %v, %v", leads, err)
		}
		if _, _, err := c.OnDNC(ctx, "2015550123", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Statuses(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !maps.EqualFunc(formHeader, before, slices.Equal) {
		t.Errorf("the shared headers changed: %v, were %v", formHeader, before)
	}
	u, _ := c.endpoints.Load(leadsPath)
	if got := u.(interface{ String() string }).String(); got != srv.URL()+leadsPath {
		t.Errorf("the leads URL is %s", got)
	}
}

// The filter's client does not ask for gzip (answers are small; see
// newFilter), and so sends no Accept-Encoding header.
func TestLookupsDoNotAskForGzip(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		io.WriteString(w, `{"success":true,"data":{"offset":0,"limit":100,"total":0,"entries":[]}}`)
	}))
	defer srv.Close()
	cfg := defaultConfig()
	cfg.BaseURL, cfg.AuthToken = srv.URL, "token"
	f := newFilter(cfg, etl.Env{})
	if _, _, err := f.client.Leads(context.Background(), "2015550123"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(asked, []string{""}) {
		t.Errorf("Accept-Encoding sent: %q", asked)
	}
}

// encodeForm writes what url.Values.Encode writes, escapes included.
func TestEncodeFormAsValues(t *testing.T) {
	for _, token := range []string{"tok3n", "a+b/c=d&e f%", "ünï"} {
		c := &Client{Token: token}
		for _, form := range [][]string{
			nil,
			{"limit", "100", "offset", "0", "phone_number", "2015550123"},
			{"campaign_id", "7", "limit", "1", "phone_number", "+1 (201) 555-0123&x=y"},
		} {
			v := url.Values{"auth_token": {token}}
			for i := 0; i+1 < len(form); i += 2 {
				v.Set(form[i], form[i+1])
			}
			if got, want := c.encodeForm(form), v.Encode(); got != want {
				t.Errorf("encodeForm(%q) with token %q = %q, want %q", form, token, got, want)
			}
		}
	}
}
