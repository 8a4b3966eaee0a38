package etl

import "encoding/json"

// Data keys of the figures a block offers with an event, for a summary to
// draw whatever the block: the CLI's closing summary draws a Series as a
// one-line sparkline and a Breakdown as a bar per part, and a report may
// chart them. A block reports its own numbers; how they look is the
// reader's business.
const (
	// DataSeries holds a []Series.
	DataSeries = "series"
	// DataBreakdown holds a Breakdown.
	DataBreakdown = "breakdown"
)

// Series is a count per partition, in partition order: new phones per
// date, say.
type Series struct {
	Title  string   `json:"title"`
	Labels []string `json:"labels"`
	Values []int64  `json:"values"`
}

// Breakdown splits a whole into named parts: the phones checked, by
// outcome, say.
type Breakdown struct {
	Title string `json:"title"`
	Parts []Part `json:"parts"`
}

// Part is one part of a Breakdown.
type Part struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

// SeriesOf returns the series an event offers (see DataSeries), from this
// process or decoded from `--output json`.
func SeriesOf(e Event) []Series {
	var s []Series
	decodeData(e.Data[DataSeries], &s)
	return s
}

// BreakdownOf returns the breakdown an event offers (see DataBreakdown),
// and whether it offers one.
func BreakdownOf(e Event) (Breakdown, bool) {
	var b Breakdown
	return b, decodeData(e.Data[DataBreakdown], &b) && len(b.Parts) > 0
}

// decodeData reads v, a typed value or what encoding/json made of one,
// into into; false when v is absent or of another shape.
func decodeData(v, into any) bool {
	if v == nil {
		return false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, into) == nil
}
