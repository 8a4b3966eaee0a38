// Package file is the file source: records from CSV, JSON Lines or JSON
// files matched by a glob, one partition per file, streamed (see package
// fileformat), so that a checkpointed run skips the files it has done.
package file
