package runreport

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The palette. Data marks are drawn in these colours only (axes and grid
// in black and greys), which is how the browser test tells a chart that
// drew its data from one that drew only its frame.
var (
	blue      = rgb(0x4c, 0x78, 0xa8)
	lightBlue = rgb(0x9e, 0xca, 0xe9)
	orange    = rgb(0xf5, 0x85, 0x18)
	red       = rgb(0xe4, 0x57, 0x56)
	green     = rgb(0x54, 0xa2, 0x4b)
	purple    = rgb(0xb2, 0x79, 0xa2)
	sand      = rgb(0xba, 0xb0, 0xac)
	teal      = rgb(0x72, 0xb7, 0xb2)
	yellow    = rgb(0xee, 0xca, 0x3b)
	// Palette lists them, as "#rrggbb", for the page's checks.
	Palette = []string{hex(blue), hex(lightBlue), hex(orange), hex(red), hex(green), hex(purple), hex(sand), hex(teal), hex(yellow)}
	others  = []color.Color{teal, yellow, purple, orange, lightBlue}
)

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// chartWidth is the SVG's drawing width; the page scales it to fit.
const chartWidth = 720

// sans is the face of every text: metric-compatible with Arial and
// Helvetica, so the browser's substitute fits the space laid out for it.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the page's fonts and axis labels.
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, ts := range []*draw.TextStyle{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle} {
		ts.Font = font.From(sans, 11)
	}
	for _, ts := range []*draw.TextStyle{&p.X.Tick.Label, &p.Y.Tick.Label} {
		ts.Font = font.From(sans, 9)
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	return p
}

// grid adds horizontal (or vertical) grid lines behind the data.
func grid(p *plot.Plot, vertical bool) {
	g := plotter.NewGrid()
	g.Horizontal.Color = color.Gray{Y: 0xe0}
	g.Vertical.Color = color.Gray{Y: 0xe0}
	if vertical {
		g.Horizontal.Width = 0
	} else {
		g.Vertical.Width = 0
	}
	p.Add(g)
}

// svg renders plots stacked in rows of one column, aligned on their
// axes, as an SVG element for the page.
func svg(height vg.Length, plots ...*plot.Plot) (string, error) {
	c := vgsvg.New(chartWidth, height)
	dc := draw.New(c)
	rows := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		rows[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(rows, draw.Tiles{Rows: len(plots), Cols: 1, PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 8, PadY: 12}, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	// The XML prologue and the generator's comment have no place inside
	// an HTML page.
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return s, nil
}

// bars draws one bar per value, each in its own colour: vertical bars at
// x = 0, 1, ...; horizontal ones at y = 0, 1, ... (the first at the top
// when the axis is drawn by nominalY).
type bars struct {
	values     []float64
	colors     []color.Color
	width      vg.Length
	horizontal bool
	// stackOn, when set, is the bars this one is drawn on top of (or to
	// the right of).
	stackOn *bars
}

func (b *bars) base(i int) float64 {
	if b.stackOn == nil {
		return 0
	}
	return b.stackOn.base(i) + b.stackOn.values[i]
}

// Plot draws the bars.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.values {
		if v == 0 {
			continue
		}
		lo, hi := b.base(i), b.base(i)+v
		var r vg.Rectangle
		if b.horizontal {
			y := trY(float64(i))
			r = vg.Rectangle{Min: vg.Point{X: trX(lo), Y: y - b.width/2}, Max: vg.Point{X: trX(hi), Y: y + b.width/2}}
		} else {
			x := trX(float64(i))
			r = vg.Rectangle{Min: vg.Point{X: x - b.width/2, Y: trY(lo)}, Max: vg.Point{X: x + b.width/2, Y: trY(hi)}}
		}
		c.SetColor(b.colors[i%len(b.colors)])
		c.Fill(r.Path())
	}
}

// DataRange covers every bar, from 0.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo, hi := 0.0, 0.0
	for i, v := range b.values {
		hi = math.Max(hi, b.base(i)+v)
	}
	n := float64(len(b.values))
	if b.horizontal {
		return lo, hi, -0.5, n - 0.5
	}
	return -0.5, n - 0.5, lo, hi
}

// GlyphBoxes keeps the bars' half widths inside the plot area.
func (b *bars) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	boxes := make([]plot.GlyphBox, len(b.values))
	for i := range b.values {
		if b.horizontal {
			boxes[i] = plot.GlyphBox{Y: p.Y.Norm(float64(i)), Rectangle: vg.Rectangle{Min: vg.Point{Y: -b.width / 2}, Max: vg.Point{Y: b.width / 2}}}
		} else {
			boxes[i] = plot.GlyphBox{X: p.X.Norm(float64(i)), Rectangle: vg.Rectangle{Min: vg.Point{X: -b.width / 2}, Max: vg.Point{X: b.width / 2}}}
		}
	}
	return boxes
}

// marks counts the bars drawn (values not 0).
func (b *bars) marks() int {
	n := 0
	for _, v := range b.values {
		if v != 0 {
			n++
		}
	}
	return n
}

// valueLabels writes each bar's value beside it (above, or right of a
// horizontal bar), zeros included, so that a bar too short to see still
// reads as a number.
func valueLabels(p *plot.Plot, b *bars, format func(float64) string) error {
	var xys plotter.XYs
	var texts []string
	for i, v := range b.values {
		end := b.base(i) + v
		if b.horizontal {
			xys = append(xys, plotter.XY{X: end, Y: float64(i)})
		} else {
			xys = append(xys, plotter.XY{X: float64(i), Y: end})
		}
		texts = append(texts, format(v))
	}
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font = font.From(sans, 9)
		if b.horizontal {
			l.TextStyle[i].YAlign = draw.YCenter
			l.Offset = vg.Point{X: 3}
		} else {
			l.TextStyle[i].XAlign = draw.XCenter
			l.Offset = vg.Point{Y: 2}
		}
	}
	p.Add(l)
	return nil
}

// nominalY names horizontal bars from the top down (y = 0 is the first).
func nominalY(p *plot.Plot, names []string) {
	p.Y.Tick.Marker = plot.ConstantTicks(ticksFor(names))
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	p.Y.Tick.Length = 0
	p.Y.Padding = 0
}

// nominalX names vertical bars.
func nominalX(p *plot.Plot, names []string) {
	p.X.Tick.Marker = plot.ConstantTicks(ticksFor(names))
	p.X.Tick.Length = 0
	p.X.Padding = 0
}

func ticksFor(names []string) []plot.Tick {
	ticks := make([]plot.Tick, len(names))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: n}
	}
	return ticks
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

// seconds formats a duration in seconds to a readable precision.
func seconds(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f s", v)
	case v >= 10:
		return fmt.Sprintf("%.1f s", v)
	}
	return fmt.Sprintf("%.2f s", v)
}

// countTicks are y axis ticks at round counts, labelled with separators.
type countTicks struct{}

// Ticks returns gonum's default ticks, relabelled.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value != math.Trunc(t.Value) {
			continue // counts are whole
		}
		if t.Label != "" {
			t.Label = count(t.Value)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
