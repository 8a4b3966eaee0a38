// Package file is the file sink: records written to a CSV, JSON Lines or
// JSON file, which replaces the previous one atomically at the end of
// input, or to standard output as they come. Its plan compares the rows
// it would write with the file's.
package file
