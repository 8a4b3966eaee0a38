package runreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/etlhq/etl/etl"
)

//go:embed page.html.tmpl
var pageTemplate string

// echartsJS is Apache ECharts 5.6.0 (echarts/dist/echarts.min.js of the
// npm package, Apache License 2.0, see echarts/LICENSE), embedded in every
// page so that it opens without network.
//
//go:embed echarts/echarts.min.js
var echartsJS string

// page is parsed when a report is first written, not when etl starts.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"label": ColumnLabel,
		"cell":  cell,
		"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"secs": func(s float64) string {
			return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
		},
		"total": func(t PartitionTable, i int) string {
			var sum float64
			for _, r := range t.Rows {
				sum += r.Values[i]
			}
			return cell(t.Columns[i], sum)
		},
		"summable": func(col string) bool { return col == "totalCalls" || col == "invalidPhones" || col == "bytes" },
	}).Parse(pageTemplate))
})

// cell renders a table value: bytes in MB, counts with separators.
func cell(col string, v float64) string {
	if col == "bytes" {
		return fmt.Sprintf("%.1f MB", v/1e6)
	}
	if v == float64(int64(v)) {
		return count(v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Write renders the page of r.
func Write(w io.Writer, r *Report) error {
	charts, err := Charts(r)
	if err != nil {
		return fmt.Errorf("drawing the charts: %w", err)
	}
	return page().Execute(w, struct {
		*Report
		Charts  []Chart
		ECharts template.JS
	}{r, charts, template.JS(echartsJS)})
}

// WriteEvents builds the report of events and renders it.
func WriteEvents(w io.Writer, events []etl.Event) error {
	return Write(w, Build(events))
}
