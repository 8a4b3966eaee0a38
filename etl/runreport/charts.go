package runreport

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The palette. Data marks are drawn in these colours only (axes and grid
// in greys), which is how the browser test tells a chart that drew its
// data from one that drew only its frame.
const (
	blue      = "#4c78a8"
	lightBlue = "#9ecae9"
	orange    = "#f58518"
	red       = "#e45756"
	green     = "#54a24b"
	purple    = "#b279a2"
	sand      = "#bab0ac"
	teal      = "#72b7b2"
	yellow    = "#eeca3b"
)

// Palette lists the colours data marks are drawn in.
var Palette = []string{blue, lightBlue, orange, red, green, purple, sand, teal, yellow}

var others = []string{teal, yellow, purple, orange, lightBlue}

// Chart is one figure of the page: an ECharts option, drawn by the
// ECharts script embedded in the page.
type Chart struct {
	ID      string
	Title   string
	Caption string
	// Option is the chart's ECharts option, as JSON.
	Option template.JS
	Height int // pixels
	// Marks is how many data marks (bars, lines) the chart draws: the
	// browser test checks they were drawn.
	Marks int
	// Legend names the colours, written by the page below the chart.
	Legend []LegendItem
}

// LegendItem is a colour and what it stands for.
type LegendItem struct {
	Color string
	Label string
}

func legend(pairs ...string) []LegendItem {
	var items []LegendItem
	for i := 0; i+1 < len(pairs); i += 2 {
		items = append(items, LegendItem{Color: pairs[i], Label: pairs[i+1]})
	}
	return items
}

// Charts draws the report's charts, in the page's order; a chart whose
// data the events lack is left out.
func Charts(r *Report) ([]Chart, error) {
	var out []Chart
	add := func(c *Chart, err error) error {
		if err == nil && c != nil {
			out = append(out, *c)
		}
		return err
	}
	var steps []func() error
	for _, t := range r.Partitions {
		steps = append(steps, func() error { return add(callsChart(t)) }, func() error { return add(newKeysChart(t)) })
	}
	for _, o := range r.Outcomes {
		steps = append(steps, func() error { return add(outcomesChart(o)) })
	}
	steps = append(steps, func() error { return add(apiChart(r.APIs)) }, func() error { return add(stageChart(r.Stages)) })
	for _, c := range r.Changes {
		steps = append(steps, func() error { return add(changeChart(c)) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// option is a chart's ECharts option as JSON, with <, > and & escaped so
// that no label can end the page's script element.
func option(c interface {
	Validate()
	JSON() map[string]any
}) (template.JS, error) {
	c.Validate()
	obj := c.JSON()
	// The page draws as SVG without animation: marks are in the DOM as
	// soon as the page has loaded, for a test and for printing.
	obj["animation"] = false
	b, err := json.Marshal(obj)
	return template.JS(b), err
}

// frame sets what every chart shares: no animation, an axis tooltip, no
// ECharts legend (the page writes one), room for the axis names.
func frame(c *charts.Bar, x opts.XAxis, y opts.YAxis, left int) {
	x.NameLocation, y.NameLocation = "middle", "middle"
	if x.NameGap == 0 {
		x.NameGap = 28
	}
	if y.NameGap == 0 {
		y.NameGap = 50
	}
	c.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: fmt.Sprint(left), Right: "60", Top: "24", Bottom: "48"}),
		charts.WithXAxisOpts(x),
		charts.WithYAxisOpts(y),
	)
}

// column returns a partition table's values of one field, or nil.
func (t PartitionTable) column(field string) []float64 {
	i := slices.Index(t.Columns, field)
	if i < 0 || len(t.Rows) == 0 {
		return nil
	}
	vs := make([]float64, len(t.Rows))
	for k, r := range t.Rows {
		vs[k] = r.Values[i]
	}
	return vs
}

// dates parses the partitions as dates; ok is false unless all are.
func (t PartitionTable) dates() (ds []time.Time, ok bool) {
	for _, r := range t.Rows {
		d, err := time.Parse(time.DateOnly, r.Partition)
		if err != nil {
			return nil, false
		}
		ds = append(ds, d)
	}
	return ds, true
}

// categories are the x axis's labels: "Mon 12-01" for dates, so that
// weekends read at a glance, else the partition names.
func (t PartitionTable) categories() []string {
	labels := make([]string, len(t.Rows))
	ds, isDates := t.dates()
	for i, r := range t.Rows {
		labels[i] = r.Partition
		if isDates {
			labels[i] = ds[i].Format("Mon 01-02")
		}
	}
	return labels
}

// barData makes bar values, each in its colour (colors[i % len]), with a
// value label when labelled.
func barData(values []float64, colors []string, labelled bool, position string) []opts.BarData {
	data := make([]opts.BarData, len(values))
	for i, v := range values {
		data[i] = opts.BarData{Value: v, ItemStyle: &opts.ItemStyle{Color: colors[i%len(colors)]}}
		if labelled {
			data[i].Label = &opts.Label{Show: opts.Bool(true), Position: position, Formatter: count(v)}
		}
	}
	return data
}

func marks(values []float64) int {
	n := 0
	for _, v := range values {
		if v != 0 {
			n++
		}
	}
	return n
}

// callsChart: records per partition, weekends lighter.
func callsChart(t PartitionTable) (*Chart, error) {
	calls := t.column("totalCalls")
	if calls == nil {
		return nil, nil
	}
	colors := []string{blue}
	ds, isDates := t.dates()
	weekend := false
	if isDates {
		colors = make([]string, len(ds))
		for i, d := range ds {
			colors[i] = blue
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				colors[i], weekend = lightBlue, true
			}
		}
	}
	bar := charts.NewBar()
	frame(bar, opts.XAxis{Name: "date (UTC)", Type: "category"}, opts.YAxis{Name: "calls", Type: "value"}, 70)
	bar.SetXAxis(t.categories()).AddSeries("calls", barData(calls, colors, false, ""))
	o, err := option(bar)
	if err != nil {
		return nil, err
	}
	c := &Chart{ID: "calls-per-date", Title: "Calls per date", Option: o, Height: 300, Marks: marks(calls),
		Caption: "Calls listed per date. Taller bars are the busier days; a short bar is a quiet day. Hover over a bar for its date and count."}
	if weekend {
		c.Legend = legend(blue, "Monday to Friday", lightBlue, "Saturday and Sunday")
		c.Caption = "Calls listed per date. Taller bars are the busier days; lighter bars are weekends, which usually have fewer calls; a short bar on a weekday is a quiet day. Hover over a bar for its date and count."
	}
	return c, nil
}

// newKeysChart: new keys per partition as bars, the running total of
// distinct keys as a line on its own axis.
func newKeysChart(t PartitionTable) (*Chart, error) {
	fresh, total := t.column("newPhonesToday"), t.column("cumulativeUniquePhones")
	if fresh == nil || total == nil {
		return nil, nil
	}
	bar := charts.NewBar()
	frame(bar, opts.XAxis{Name: "date (UTC)", Type: "category"}, opts.YAxis{Name: "new phones", Type: "value"}, 70)
	bar.ExtendYAxis(opts.YAxis{Name: "unique phones so far", Type: "value", NameLocation: "middle", NameGap: 50, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	bar.SetGlobalOptions(charts.WithGridOpts(opts.Grid{Left: "70", Right: "90", Top: "24", Bottom: "48"}))
	bar.SetXAxis(t.categories()).AddSeries("new phones", barData(fresh, []string{green}, false, ""))
	line := charts.NewLine()
	points := make([]opts.LineData, len(total))
	for i, v := range total {
		points[i] = opts.LineData{Value: v}
	}
	line.SetXAxis(t.categories()).AddSeries("unique phones so far", points,
		charts.WithLineChartOpts(opts.LineChart{YAxisIndex: 1, ShowSymbol: opts.Bool(false)}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: orange, Width: 2}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: orange}))
	bar.Overlap(line)
	o, err := option(bar)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "new-phones-per-date", Title: "New phones per date", Option: o, Height: 340, Marks: marks(fresh) + 1,
		Legend:  legend(green, "new phones: first call in the range on that date (left axis)", orange, "unique phones so far (right axis)"),
		Caption: "The lead acquisition pattern. Bars: phones called for the first time in the range on that date. A tall isolated bar is a batch of leads arriving at once (an import); an even row of bars is a steady stream. The line is the running total of distinct phones: steep where batches land, flat where the dialer only calls phones it already knew."}, nil
}

// outcomeColor colours an outcome by its kind.
func outcomeColor(name string, i int) string {
	switch {
	case name == "kept":
		return green
	case strings.HasPrefix(name, "excluded"):
		return red
	case strings.Contains(strings.ToLower(name), "dnc"):
		return purple
	case name == "not found":
		return sand
	}
	return others[i%len(others)]
}

// hbar is a horizontal bar chart of named values, one colour each,
// labelled with their values; the first name at the top.
func hbar(id string, names []string, values []float64, colors []string, xName string, label func(float64) string) (template.JS, error) {
	bar := charts.NewBar()
	frame(bar, opts.XAxis{Name: xName, Type: "value"}, opts.YAxis{Type: "category", Inverse: opts.Bool(true)}, 190)
	data := barData(values, colors, true, "right")
	for i, v := range values {
		data[i].Label.Formatter = label(v)
	}
	bar.SetXAxis(names).AddSeries(id, data, charts.WithBarChartOpts(opts.BarChart{BarWidth: "24"}))
	bar.XYReversal()
	return option(bar)
}

// outcomesChart: one horizontal bar per outcome.
func outcomesChart(o BlockOutcomes) (*Chart, error) {
	names := make([]string, len(o.Counts))
	values := make([]float64, len(o.Counts))
	colors := make([]string, len(o.Counts))
	var total int64
	for i, c := range o.Counts {
		names[i], values[i], colors[i] = c.Name, float64(c.N), outcomeColor(c.Name, i)
		total += c.N
	}
	js, err := hbar("outcomes", names, values, colors, o.Of, func(v float64) string {
		return fmt.Sprintf("%s (%.0f%%)", count(v), 100*v/float64(max(total, 1)))
	})
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "outcomes-" + slug(o.Block), Title: fmt.Sprintf("What became of the %s (%s)", o.Of, o.Block), Option: js,
		Height: 90 + 36*len(names), Marks: marks(values),
		Caption: fmt.Sprintf("Each of the %s %s checked ended one way. Kept (green) go on to the next block; excluded by a status (red), on the DNC list (purple) or not found (grey) are dropped and not redialed. The share of each is next to its bar.", count(float64(total)), o.Of)}, nil
}

// apiChart: requests, retries and 429s per API block.
func apiChart(apis []API) (*Chart, error) {
	if len(apis) == 0 {
		return nil, nil
	}
	var names []string
	var values []float64
	var colors []string
	for _, a := range apis {
		for _, m := range []struct {
			what  string
			n     int64
			color string
		}{{"requests", a.Requests, blue}, {"retries", a.Retries, orange}, {"429s", a.Status429, red}} {
			names = append(names, shortAddr(a.Block)+": "+m.what)
			values = append(values, float64(m.n))
			colors = append(colors, m.color)
		}
	}
	bar := charts.NewBar()
	frame(bar, opts.XAxis{Name: "requests (retries included; logarithmic scale)", Type: "log", Min: 1}, opts.YAxis{Type: "category", Inverse: opts.Bool(true)}, 230)
	data := barData(values, colors, true, "right")
	for i, v := range values {
		if v == 0 {
			// A log scale has no 0: the bar is left out, its label says 0.
			data[i].Value = nil
			data[i].Label = &opts.Label{Show: opts.Bool(true), Position: "insideLeft", Formatter: "0"}
		}
	}
	bar.SetXAxis(names).AddSeries("requests", data, charts.WithBarChartOpts(opts.BarChart{BarWidth: "18"}))
	bar.XYReversal()
	js, err := option(bar)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "api-requests", Title: "Requests per API", Option: js, Height: 90 + 26*len(names), Marks: marks(values),
		Legend:  legend(blue, "requests", orange, "retries", red, "answered 429"),
		Caption: "HTTP requests each block sent to its API, retries included, on a logarithmic scale so that an API called once a date and one called once a phone both read. Retries (orange) are requests sent again after a 5xx, a network error or a 429; 429s (red) are answers \"too many requests\": many of them mean the rate limit is set above what the API accepts. No bar: none."}, nil
}

// stageChart: each block's time, split into its own work and its waits.
func stageChart(stages []Stage) (*Chart, error) {
	if len(stages) == 0 {
		return nil, nil
	}
	names := make([]string, len(stages))
	var work, in, out []float64
	for i, s := range stages {
		names[i] = shortAddr(s.Block)
		work = append(work, round3(s.Work))
		in = append(in, round3(s.WaitIn))
		out = append(out, round3(s.WaitOut))
	}
	bar := charts.NewBar()
	frame(bar, opts.XAxis{Name: "seconds", Type: "value"}, opts.YAxis{Type: "category", Inverse: opts.Bool(true)}, 190)
	stacked := charts.WithBarChartOpts(opts.BarChart{Stack: "time", BarWidth: "24"})
	bar.SetXAxis(names).
		AddSeries("own work", barData(work, []string{blue}, false, ""), stacked).
		AddSeries("waiting for input", barData(in, []string{sand}, false, ""), stacked).
		AddSeries("waiting for the next block", barData(out, []string{yellow}, false, ""), stacked)
	bar.XYReversal()
	js, err := option(bar)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "stage-time", Title: "Time per block", Option: js, Height: 90 + 40*len(names), Marks: marks(work) + marks(in) + marks(out),
		Legend:  legend(blue, "own work (API calls included)", sand, "waiting for input", yellow, "waiting for the next block"),
		Caption: "Where each block spent the run. Blue is its own work, the time its API calls take included; grey is time it waited for records from the block before it; yellow is time it waited for the block after it to take its output. The block with the longest blue bar sets the pace: the blocks before it wait for it (yellow), those after it wait on it (grey)."}, nil
}

// changeChart: a sink's change by parts, and its output's size before and
// after.
func changeChart(c Change) (*Chart, error) {
	if len(c.Counts) == 0 && c.Size == nil {
		return nil, nil
	}
	var names []string
	var values []float64
	var colors []string
	for i, k := range c.Counts {
		names = append(names, k.Name)
		values = append(values, float64(k.N))
		col := others[i%len(others)]
		switch k.Name {
		case "added":
			col = green
		case "already queued", "unchanged":
			col = sand
		}
		colors = append(colors, col)
	}
	unit := "items"
	if c.Size != nil {
		unit = c.Size.Unit
		names = append(names, unit+" before", unit+" after")
		values = append(values, float64(c.Size.Before), float64(c.Size.After))
		colors = append(colors, lightBlue, blue)
	}
	bar := charts.NewBar()
	frame(bar, opts.XAxis{Type: "category"}, opts.YAxis{Name: unit, Type: "value"}, 70)
	bar.SetXAxis(names).AddSeries(unit, barData(values, colors, true, "top"), charts.WithBarChartOpts(opts.BarChart{BarWidth: "60"}))
	js, err := option(bar)
	if err != nil {
		return nil, err
	}
	verb := "changed"
	if c.Plan {
		verb = "would change"
	}
	caption := fmt.Sprintf("What %s %s: ", shortAddr(c.Block), verb)
	var parts []string
	for _, k := range c.Counts {
		switch k.Name {
		case "added":
			parts = append(parts, "added are new "+unit)
		case "already queued":
			parts = append(parts, "already queued were in the output before this run and are left as they are")
		}
	}
	caption += strings.Join(parts, "; ") + ". "
	if c.Size != nil {
		caption += fmt.Sprintf("The last two bars are the output's size before and after: %s %s, then %s.", count(float64(c.Size.Before)), unit, count(float64(c.Size.After)))
	}
	return &Chart{ID: "change-" + slug(c.Block), Title: "Change: " + c.Block, Caption: caption, Option: js, Height: 280, Marks: marks(values)}, nil
}

// shortAddr drops the kind from a block address: "convoso_status.redialable".
func shortAddr(addr string) string {
	if _, rest, ok := strings.Cut(addr, "."); ok {
		return rest
	}
	return addr
}

// slug makes an id of an address.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// count formats a count with thousands separators: 12,345.
func count(v float64) string {
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// round3 keeps milliseconds of a time in seconds.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
