// Package atomicfile replaces files so that readers and crashes only ever
// see the old content or the new content, never a mix or a truncated file.
//
// The sequence is: create a temp file in the target's directory (a rename
// is only atomic within one file system), write, fsync, close, optionally
// keep the old file as <path>.bak, rename over the target, fsync the
// directory so the rename itself is durable. On any failure the temp file is
// removed and the target is left as it was.
//
// This is hand-written rather than built on github.com/google/renameio/v2:
// renameio deliberately stops at atomicity and does not fsync the directory,
// has no keep-a-backup step, and no hook between "temp file complete" and
// "rename", which the redial queue sink needs to re-check the target for
// concurrent writers. The whole sequence is some 100 lines.
package atomicfile
