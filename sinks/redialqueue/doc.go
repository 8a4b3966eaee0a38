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
// The file is not only ours: the queue processor and people edit it too, so
// the merge trusts only what it checks. A phone is queued when a key
// normalizes to it (etl/phone: "+12008741568", "(200) 874-1568" and
// "2008741568" are one phone) or when an entry's phone_number does; a
// phone of this run queued under any spelling is never added again (a
// double dial is a compliance problem), and the keys it was found under are
// counted ("queued under another key") and named in the change's details.
// A key written twice, character for character, is an error naming the key
// (masked) and its two lines: which entry the queue processor reads is
// unknown, so the file is left untouched. One phone under two spellings is
// someone else's double entry, not an error: both entries are kept exactly,
// no third is added, and a warning names the keys ("queued under several
// keys"). An entry that is not an object holding the fields the queue
// processor reads (lead_id, phone_number, status, attempts, last_attempt,
// next_attempt, created_at, metadata), or whose key is not a phone, is kept
// as it is, counted ("not queue entries") and reported as a warning, in run
// and plan alike. The index this needs holds one integer per phone
// (phone.Number); only keys that are not 10-digit phones are kept as text.
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
// takes <file>.lock (an OS file lock, github.com/gofrs/flock, released
// when the process ends however it ends; the empty file stays), re-reads the file, writes the merge to a temp file in
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
// Until the merge, the pending entries wait in the engine's scratch table
// (etl.Scratcher): on disk, with only where each entry is in memory.
//
// The sink is deliberately not stateful. On a resumed run the records of
// finished dates come back from the stateful stage upstream (dedupe_latest
// re-emits its restored keys) and pass the filters again; restoring pending
// entries here would queue a phone that the Convoso filter now excludes. A
// pipeline that wires a source straight into this sink should put a
// stateful stage (dedupe_latest) in between if it is to be resumed.
package redialqueue
