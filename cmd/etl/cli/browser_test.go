//go:build browser

package cli

// The run report in a real browser: `make browser-test` (and .ci/run) run
// this with -tags browser; it needs chromium (Debian's package) on PATH or
// in $CHROMIUM.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/etlhq/etl/etl/runreport"
)

// chartMarks is run in the page: for each chart, how many SVG shapes the
// browser drew in the palette's colours with a visible size.
const chartMarks = `(palette) => Array.from(document.querySelectorAll("figure.chart")).map(f => {
  let marks = 0;
  for (const el of f.querySelectorAll("svg path, svg rect, svg line, svg polyline, svg circle")) {
    const st = getComputedStyle(el);
    const filled = palette.includes(st.fill), stroked = palette.includes(st.stroke);
    const r = el.getBoundingClientRect();
    if ((filled && r.width * r.height > 0) || (stroked && r.width + r.height > 0)) marks++;
  }
  const svg = f.querySelector("svg");
  return {id: f.dataset.chart, want: Number(f.dataset.marks), marks: marks,
          width: svg ? svg.getBoundingClientRect().width : 0};
})`

// chartResult is what chartMarks finds of one chart.
type chartResult struct {
	ID    string  `json:"id"`
	Want  int     `json:"want"`
	Marks int     `json:"marks"`
	Width float64 `json:"width"`
}

// inspection is what the browser made of a page.
type inspection struct {
	problems []string // script errors, console errors, requests, charts without marks
	charts   []chartResult
	shot     []byte            // a PNG of the whole page
	figures  map[string][]byte // a PNG of each chart, by id
}

// inspect opens path in headless Chromium, started as the issue asks (no
// network of its own, a fresh profile), and reports what went wrong.
func inspect(t *testing.T, path string) inspection {
	t.Helper()
	browser := os.Getenv("CHROMIUM")
	if browser == "" {
		var err error
		if browser, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("chromium not found: install Debian's chromium package (.ci/run does), or set CHROMIUM to a Chrome or Chromium binary")
		}
	}
	url := "file://" + path
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1000, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var res inspection
	// chromedp enables the Runtime and Network domains itself, so this
	// sees every request and exception of the page.
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; u != url {
				res.problems = append(res.problems, "the page loads "+u)
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			res.problems = append(res.problems, fmt.Sprintf("script error at line %d: %s", d.LineNumber+1, msg))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				res.problems = append(res.problems, fmt.Sprintf("console %s: %v", ev.Type, ev.Args))
			}
		}
	})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	palette := make([]string, len(runreport.Palette))
	for i, hex := range runreport.Palette {
		var r, g, b int
		fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b)
		palette[i] = fmt.Sprintf("rgb(%d, %d, %d)", r, g, b)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]chartResult](fmt.Sprintf("(%s)(%s)", chartMarks, jsArray(palette))))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	resources, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name)`))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	figures := map[string][]byte{}
	for _, c := range charts {
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(fmt.Sprintf(`figure[data-chart="%s"]`, c.ID))))
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		figures[c.ID] = png
	}
	mu.Lock()
	defer mu.Unlock()
	res.charts, res.shot, res.figures = charts, shot, figures
	for _, r := range resources {
		res.problems = append(res.problems, "the page loaded the resource "+r)
	}
	for _, c := range charts {
		if c.Marks == 0 || c.Marks < c.Want {
			res.problems = append(res.problems, fmt.Sprintf("chart %s: %d marks drawn, want %d", c.ID, c.Marks, c.Want))
		}
	}
	return res
}

// TestReportInBrowser renders the demo's report in headless Chromium and
// fails on a script error, on a chart without drawn marks, or on any
// request beyond the page itself. It saves a screenshot of the whole
// page to $ETL_SCREENSHOT (default: the test's temp directory), and one of
// each chart beside it, for a person to look at.
func TestReportInBrowser(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if status := Main([]string{"demo", "--dir", dir}, &out, &errOut, os.Environ(), testRegistry()); status != exitOK {
		t.Fatalf("etl demo: exit %d\n%s\n%s", status, out.String(), errOut.String())
	}
	page := filepath.Join(dir, "state", "backfill.hcl.report.html")
	if !strings.Contains(out.String(), "report: "+page) {
		t.Fatalf("the demo does not print its report's path %s:\n%s", page, out.String())
	}
	res := inspect(t, page)

	path := os.Getenv("ETL_SCREENSHOT")
	if path == "" {
		path = filepath.Join(t.TempDir(), "report.png")
	}
	if err := os.WriteFile(path, res.shot, 0o644); err != nil {
		t.Fatal(err)
	}
	for id, png := range res.figures {
		if err := os.WriteFile(strings.TrimSuffix(path, ".png")+"-"+id+".png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot of the demo's report: %s (and each chart beside it)", path)

	for _, p := range res.problems {
		t.Error(p)
	}
	if len(res.charts) != 6 {
		t.Errorf("%d charts, want the demo's 6: %+v", len(res.charts), res.charts)
	}
	for _, c := range res.charts {
		if c.Width < 500 {
			t.Errorf("chart %s is %.0f px wide in a 1000 px window", c.ID, c.Width)
		}
	}
}

// The inspection catches each failure it is there for: a script error, a
// request to the network and a chart that draws nothing.
func TestBrowserInspectionCatchesFaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><body>
<img src="http://127.0.0.1:9/pixel.png">
<figure class="chart" data-chart="empty" data-marks="3"><svg width="100" height="50"><path d="M0,0L10,0" style="stroke:#000000"/></svg></figure>
<script>undefinedFunction();</script>
</body></html>`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	problems := strings.Join(inspect(t, path).problems, "\n")
	for _, want := range []string{"the page loads http://127.0.0.1:9/pixel.png", "script error at line 4: ReferenceError: undefinedFunction is not defined", "chart empty: 0 marks drawn, want 3"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
}

// jsArray renders strings as a JavaScript array literal.
func jsArray(ss []string) string {
	quoted := make([]string, len(ss))
	for i, s := range ss {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ",") + "]"
}
