// Command fakeapis serves the blandtest and convosotest fakes on loopback in
// a process of their own, for benchmarks that measure bin/etl from outside:
// the fakes' memory (the Bland fake keeps every generated day) stays out of
// the etl process's peak RSS.
//
//	go run ./pipelines/internal/fakeapis -calls-per-day 10000 -phones 50000
//
// With -calls-per-day, every date has that many calls (the uniform volume
// the benchmarks are measured on, so their figures stay comparable);
// without it, it serves the demo's data (blandtest.Demo): a call center's
// dates, with weekends, holidays and batch days.
//
// It prints one line of shell-sourceable settings on stdout
// (BLAND_URL=... CONVOSO_URL=... BLAND_API_KEY=... CONVOSO_AUTH_TOKEN=...
// ETL_VAR_bland_url=... ETL_VAR_convoso_url=...),
// then serves until SIGTERM or SIGINT, when it prints what it was asked as
// shell-sourceable NAME=VALUE lines (Bland requests in total and per date,
// Convoso requests per path, 429s) and exits. The dates served are whatever
// the client asks for.
package main
