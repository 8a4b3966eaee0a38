package etl

import "encoding/json"

// DataSeries is the Data key of the series a block offers with an event
// (a []Series), for a summary to draw whatever the block: the CLI's
// closing summary draws each as a one-line sparkline, and a report may
// chart it. A block reports its numbers; how they look is the reader's
// business. (What became of the items a stage decided on comes the same
// way through Outcomer.)
const DataSeries = "series"

// Series is a count per partition, in partition order: new phones per
// date, say.
type Series struct {
	Title  string   `json:"title"`
	Labels []string `json:"labels"`
	Values []int64  `json:"values"`
}

// SeriesOf returns the series an event offers (see DataSeries), from this
// process or decoded from `--output json`.
func SeriesOf(e Event) []Series {
	var s []Series
	decodeData(e.Data[DataSeries], &s)
	return s
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
