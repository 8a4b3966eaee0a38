// Package redialqueue provides the "redial_queue" sink: it merges records
// into the JSON file the dialer's queue processor reads, one object keyed by
// 10-digit phone:
//
//	{
//	  "5619565858": {
//	    "lead_id": "123456",
//	    "phone_number": "5619565858",
//	    "status": "pending",
//	    "attempts": 0,
//	    "last_attempt": null,
//	    "next_attempt": "2026-01-07T16:00:00.000Z",
//	    "created_at": "2025-12-15T14:30:00.000Z",
//	    "metadata": {...}
//	  }
//	}
//
// Merge, never clobber: entries already in the file are kept byte for byte
// (a phone already queued is skipped and counted), entries this run does not
// know stay, and only new phones are added. The sink keeps the last record
// per phone in memory and merges once, at the end of input.
//
// Output order: the existing file's entries first, in the file's order and
// with their exact bytes; then the new entries sorted by phone number, so
// that equal input gives an equal file whatever order concurrent upstream
// stages delivered it in. New entries are indented two spaces per level, the
// layout of JSON.stringify(queue, null, 2). Keys inside metadata come out
// sorted: HCL objects carry no attribute order.
//
// Safety: the existing file is read and validated when the sink is built, so
// a broken file stops the run before any API request. At the end the sink
// takes <file>.lock, re-reads the file, writes the merge to a temp file in
// the same directory, fsyncs, keeps the previous file as <file>.bak and
// renames (package etl/atomicfile). If the file changed on disk after it was
// read (the queue processor writes it too; size, mtime and SHA-256 are
// compared right before the rename) the merge is redone on the new content.
// A window of microseconds between that check and the rename remains: the
// queue processor does not take our lock.
//
// In plan mode nothing is written (no lock, temp file or backup); the change
// says how many entries would be added and how many are already queued.
//
// Until the merge, the pending entries wait in a spill file (etl/spill):
// memory holds per phone only where its entry is.
//
// The sink is deliberately not stateful. On a resumed run the records of
// finished dates come back from the stateful stage upstream (dedupe_latest
// re-emits its restored keys) and pass the filters again; restoring pending
// entries here would queue a phone that the Convoso filter now excludes. A
// pipeline that wires a source straight into this sink should put a
// stateful stage (dedupe_latest) in between if it is to be resumed.
package redialqueue
