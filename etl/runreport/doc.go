// Package runreport turns the events of a run (the `--output json`
// stream) into a self-contained HTML page: charts drawn by Apache ECharts,
// whose script is embedded in the page (options built with
// github.com/go-echarts/go-echarts/v2, drawn as SVG), and tables. The
// page loads nothing.
//
// It reads the events in two steps: Build sums them up into a Report (the
// data, which the tests compare with golden files), and Write renders a
// Report. Each chart is drawn from general event fields, so that any
// pipeline gets the charts its events allow and none it cannot fill:
//
//   - records and new keys per partition, from the partition events of a
//     stats sink (totalCalls, newPhonesToday, cumulativeUniquePhones), and
//     from an event's etl.DataPartitions (every partition, restored ones
//     included);
//   - what became of the items a block decided on, from a block event's
//     "outcomes" (etl.Outcomer);
//   - requests, retries and 429s per API, from the block counts named in
//     package retry;
//   - each block's time (own work, waiting for input, waiting for output),
//     from the block events' *_seconds;
//   - each sink's change, from a change event's "counts" and "size".
//
// The settings table comes from the "start" event, with sensitive
// variables already masked by the CLI.
package runreport
