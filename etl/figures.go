package etl

import "encoding/json"

// DataSeries is the Data key of the series a block offers with an event
// (a []Series), for a summary to draw whatever the block: the CLI's
// closing summary draws each as a one-line sparkline, and a report may
// chart it. A block reports its numbers; how they look is the reader's
// business. (What became of the items a stage decided on comes the same
// way through Outcomer.)
const DataSeries = "series"

// DataPartitions is the Data key of every partition's figures a block
// holds at the end of a run (a list of objects, each with DataPartition
// naming its partition and the fields its partition events carry), the
// partitions a resumed run restored included: the run report's
// per-partition table and charts take them, so that a run that fetched
// one new date still shows the whole range.
const DataPartitions = "partitions"

// DataPartition is the key naming the partition in an item of
// DataPartitions.
const DataPartition = "partition"

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
