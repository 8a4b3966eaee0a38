// Package lenprefix frames byte strings with their length: a uvarint, then
// the bytes. It is the framing of the state log's keys and values, of the
// scratch file's entries, of the calls bland_calls keeps packed while
// their date waits, and of the values stages keep in their tables.
package lenprefix

import "encoding/binary"

// Append appends field to b, its length first.
func Append[T ~string | ~[]byte](b []byte, field T) []byte {
	b = binary.AppendUvarint(b, uint64(len(field)))
	return append(b, field...)
}

// Cut reads the field at the start of b and returns it and the bytes
// after it, both slices of b; ok is false when b does not start with a
// whole field (rest is then b).
func Cut(b []byte) (field, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, b, false
	}
	return b[w : w+int(n)], b[w+int(n):], true
}
