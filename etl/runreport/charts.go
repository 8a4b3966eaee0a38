package runreport

import (
	"fmt"
	"html/template"
	"image/color"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Chart is one figure of the page.
type Chart struct {
	ID      string
	Title   string
	Caption string
	SVG     template.HTML
	// Marks is how many data marks (bars, lines) the chart draws: the
	// browser test checks they were drawn.
	Marks int
	// Legend names the colours, drawn by the page below the chart (a
	// legend inside the plot area would cover bars).
	Legend []LegendItem
}

// LegendItem is a colour and what it stands for.
type LegendItem struct {
	Color string
	Label string
}

func legend(pairs ...any) []LegendItem {
	var items []LegendItem
	for i := 0; i+1 < len(pairs); i += 2 {
		items = append(items, LegendItem{Color: hex(pairs[i].(color.RGBA)), Label: pairs[i+1].(string)})
	}
	return items
}

// Charts draws the report's charts, in the page's order; a chart whose
// data the events lack is left out.
func Charts(r *Report) ([]Chart, error) {
	var charts []Chart
	add := func(c *Chart, err error) error {
		if err != nil {
			return err
		}
		if c != nil {
			charts = append(charts, *c)
		}
		return nil
	}
	for _, t := range r.Partitions {
		if err := add(callsChart(t)); err != nil {
			return nil, err
		}
		if err := add(newKeysChart(t)); err != nil {
			return nil, err
		}
	}
	for _, o := range r.Outcomes {
		if err := add(outcomesChart(o)); err != nil {
			return nil, err
		}
	}
	if err := add(apiChart(r.APIs)); err != nil {
		return nil, err
	}
	if err := add(stageChart(r.Stages)); err != nil {
		return nil, err
	}
	for _, c := range r.Changes {
		if err := add(changeChart(c)); err != nil {
			return nil, err
		}
	}
	return charts, nil
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

// partitionTicks labels the x axis: Mondays (and the first date) when the
// partitions are dates, else every nth partition so that labels do not
// collide.
func partitionTicks(t PartitionTable) []string {
	labels := make([]string, len(t.Rows))
	if ds, ok := t.dates(); ok {
		for i, d := range ds {
			if i == 0 || d.Weekday() == time.Monday {
				labels[i] = d.Format("Mon Jan 2")
			}
		}
		return labels
	}
	every := max(1, len(t.Rows)/12)
	for i, r := range t.Rows {
		if i%every == 0 {
			labels[i] = r.Partition
		}
	}
	return labels
}

// barWidth fits n bars in the chart's plot area with a gap between them.
func barWidth(n int) vg.Length {
	return vg.Length(min(40, max(2, 0.7*(chartWidth-90)/float64(max(n, 1)))))
}

// callsChart: records per partition, weekends lighter.
func callsChart(t PartitionTable) (*Chart, error) {
	calls := t.column("totalCalls")
	if calls == nil {
		return nil, nil
	}
	p := newPlot("date (UTC)", "calls")
	grid(p, false)
	b := &bars{values: calls, width: barWidth(len(calls)), colors: []color.Color{blue}}
	ds, isDates := t.dates()
	weekend := false
	if isDates {
		b.colors = make([]color.Color, len(ds))
		for i, d := range ds {
			b.colors[i] = blue
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				b.colors[i], weekend = lightBlue, true
			}
		}
	}
	p.Add(b)
	nominalX(p, partitionTicks(t))
	p.Y.Tick.Marker = countTicks{}
	caption := "Calls listed per date. Taller bars are the busier days; a gap or a short bar is a quiet day."
	var items []LegendItem
	if weekend {
		items = legend(blue, "Monday to Friday", lightBlue, "Saturday and Sunday")
		caption = "Calls listed per date. Taller bars are the busier days; lighter bars are weekends, which usually have fewer calls; a short bar on a weekday is a quiet day."
	}
	s, err := svg(260, p)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "calls-per-date", Title: "Calls per date", Caption: caption, SVG: template.HTML(s), Marks: b.marks(), Legend: items}, nil
}

// newKeysChart: new keys per partition, and the running total of distinct
// keys above it on the same dates.
func newKeysChart(t PartitionTable) (*Chart, error) {
	fresh, total := t.column("newPhonesToday"), t.column("cumulativeUniquePhones")
	if fresh == nil || total == nil {
		return nil, nil
	}
	ticks := partitionTicks(t)
	top := newPlot("", "unique phones so far")
	grid(top, false)
	xys := make(plotter.XYs, len(total))
	for i, v := range total {
		xys[i] = plotter.XY{X: float64(i), Y: v}
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	line.Color, line.Width = orange, 2
	top.Add(line)
	top.Y.Min = 0
	top.Y.Tick.Marker = countTicks{}
	nominalX(top, make([]string, len(total)))
	top.X.Min, top.X.Max = -0.5, float64(len(total))-0.5

	bottom := newPlot("date (UTC)", "new phones")
	grid(bottom, false)
	b := &bars{values: fresh, width: barWidth(len(fresh)), colors: []color.Color{green}}
	bottom.Add(b)
	nominalX(bottom, ticks)
	bottom.Y.Tick.Marker = countTicks{}
	s, err := svg(400, top, bottom)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "new-phones-per-date", Title: "New phones per date", SVG: template.HTML(s), Marks: b.marks() + 1,
		Legend:  legend(orange, "unique phones so far (cumulative)", green, "new phones: first call in the range on that date"),
		Caption: "The lead acquisition pattern. Bars: phones called for the first time in the range on that date. A tall isolated bar is a batch of leads arriving at once (an import); an even row of bars is a steady stream. The line above is the running total of distinct phones: steep where batches land, flat where the dialer only calls phones it already knew."}, nil
}

// outcomeColor colours an outcome by its kind.
func outcomeColor(name string, i int) color.Color {
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

// outcomesChart: one horizontal bar per outcome.
func outcomesChart(o BlockOutcomes) (*Chart, error) {
	names := make([]string, len(o.Counts))
	b := &bars{horizontal: true, values: make([]float64, len(o.Counts)), colors: make([]color.Color, len(o.Counts))}
	var total int64
	for i, c := range o.Counts {
		names[i], b.values[i], b.colors[i] = c.Name, float64(c.N), outcomeColor(c.Name, i)
		total += c.N
	}
	b.width = barWidth(len(names) * 3)
	p := newPlot(o.Of, "")
	grid(p, true)
	p.Add(b)
	if err := valueLabels(p, b, func(v float64) string {
		return fmt.Sprintf("%s (%.0f%%)", count(v), 100*v/float64(max(total, 1)))
	}); err != nil {
		return nil, err
	}
	nominalY(p, names)
	p.X.Tick.Marker = countTicks{}
	p.X.Max = b.maxEnd() * 1.18 // room for the labels
	s, err := svg(vg.Length(60+28*len(names)), p)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "outcomes-" + slug(o.Block), Title: fmt.Sprintf("What became of the %s (%s)", o.Of, o.Block), SVG: template.HTML(s), Marks: b.marks(),
		Caption: fmt.Sprintf("Each of the %s %s checked ended one way. Kept (green) go on to the next block; excluded by a status, on the DNC list or not found are dropped and not redialed. The share of each is next to its bar.", count(float64(total)), o.Of)}, nil
}

func (b *bars) maxEnd() float64 {
	m := 0.0
	for i, v := range b.values {
		m = max(m, b.base(i)+v)
	}
	return max(m, 1)
}

// apiChart: requests, retries and 429s, a panel per API block, each on
// its own scale (one API may send a request per date, another one per
// phone).
func apiChart(apis []API) (*Chart, error) {
	if len(apis) == 0 {
		return nil, nil
	}
	var svgs strings.Builder
	marks := 0
	for _, a := range apis {
		b := &bars{horizontal: true, values: []float64{float64(a.Requests), float64(a.Retries), float64(a.Status429)},
			colors: []color.Color{blue, orange, red}, width: 14}
		p := newPlot(shortAddr(a.Block)+": requests (retries included)", "")
		grid(p, true)
		p.Add(b)
		if err := valueLabels(p, b, count); err != nil {
			return nil, err
		}
		nominalY(p, []string{"requests", "retries", "429s"})
		p.X.Tick.Marker = countTicks{}
		p.X.Min, p.X.Max = 0, b.maxEnd()*1.12
		s, err := svg(120, p)
		if err != nil {
			return nil, err
		}
		svgs.WriteString(s)
		marks += b.marks()
	}
	s := svgs.String()
	return &Chart{ID: "api-requests", Title: "Requests per API", SVG: template.HTML(s), Marks: marks,
		Legend:  legend(blue, "requests", orange, "retries", red, "answered 429"),
		Caption: "HTTP requests each block sent to its API, one panel per API, each on its own scale; retries are included in the requests. Retries (orange) are requests sent again after a 5xx, a network error or a 429; 429s (red) are answers \"too many requests\": many of them mean the rate limit is set above what the API accepts."}, nil
}

// stageChart: each block's time, split into its own work and its waits.
func stageChart(stages []Stage) (*Chart, error) {
	if len(stages) == 0 {
		return nil, nil
	}
	names := make([]string, len(stages))
	work := &bars{horizontal: true, colors: []color.Color{blue}}
	in := &bars{horizontal: true, colors: []color.Color{sand}, stackOn: work}
	out := &bars{horizontal: true, colors: []color.Color{yellow}, stackOn: in}
	for i, s := range stages {
		names[i] = shortAddr(s.Block)
		work.values = append(work.values, s.Work)
		in.values = append(in.values, s.WaitIn)
		out.values = append(out.values, s.WaitOut)
	}
	w := barWidth(len(stages) * 3)
	work.width, in.width, out.width = w, w, w
	p := newPlot("seconds", "")
	grid(p, true)
	p.Add(work, in, out)
	total := &bars{horizontal: true, values: make([]float64, len(stages))}
	for i, s := range stages {
		total.values[i] = s.Work + s.WaitIn + s.WaitOut
	}
	if err := valueLabels(p, total, seconds); err != nil {
		return nil, err
	}
	nominalY(p, names)
	p.X.Max = total.maxEnd() * 1.12
	s, err := svg(vg.Length(90+30*len(names)), p)
	if err != nil {
		return nil, err
	}
	return &Chart{ID: "stage-time", Title: "Time per block", SVG: template.HTML(s), Marks: work.marks() + in.marks() + out.marks(),
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
	var colors []color.Color
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
	b := &bars{values: values, colors: colors, width: barWidth(len(values) * 4)}
	p := newPlot("", unit)
	grid(p, false)
	p.Add(b)
	if err := valueLabels(p, b, count); err != nil {
		return nil, err
	}
	nominalX(p, names)
	p.Y.Tick.Marker = countTicks{}
	p.Y.Min, p.Y.Max = 0, b.maxEnd()*1.12
	s, err := svg(240, p)
	if err != nil {
		return nil, err
	}
	verb := "changed"
	if c.Plan {
		verb = "would change"
	}
	caption := fmt.Sprintf("What %s %s. ", shortAddr(c.Block), verb)
	if len(c.Counts) > 0 {
		caption += "Added are new " + unit + "; already queued were in the output before this run and are left as they are. "
	}
	if c.Size != nil {
		caption += fmt.Sprintf("The last two bars are the output's size before and after: %s %s then %s.", count(float64(c.Size.Before)), unit, count(float64(c.Size.After)))
	}
	return &Chart{ID: "change-" + slug(c.Block), Title: "Change: " + c.Block, Caption: caption, SVG: template.HTML(s), Marks: b.marks()}, nil
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

var _ plot.Plotter = (*bars)(nil)
var _ plot.DataRanger = (*bars)(nil)
var _ plot.GlyphBoxer = (*bars)(nil)
