// Package fileformat reads and writes records as CSV, JSON Lines and JSON
// files, streaming: a reader holds one record (one line, one array
// element) at a time and a writer writes each record as it comes, so that
// a file of any size needs no more memory than its largest record. The
// file source and the file sink are built on it, and the sink reads the
// file it is about to replace with the same reader, to say what changes.
package fileformat
