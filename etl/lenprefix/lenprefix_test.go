package lenprefix

import (
	"bytes"
	"strings"
	"testing"
)

// Fields appended one after another are cut back in order, whatever their
// length (the length's uvarint takes one byte below 128, more above);
// a cut short or a garbled length is refused.
func TestAppendCut(t *testing.T) {
	fields := []string{"", "a", strings.Repeat("x", 127), strings.Repeat("y", 128), strings.Repeat("z", 70000)}
	var b []byte
	for _, f := range fields {
		b = Append(b, f)
	}
	b = Append(b, []byte("bytes"))
	rest := b
	for _, want := range append(fields, "bytes") {
		var f []byte
		var ok bool
		if f, rest, ok = Cut(rest); !ok || string(f) != want {
			t.Fatalf("Cut = %d bytes, %v; want %d bytes", len(f), ok, len(want))
		}
	}
	if len(rest) != 0 {
		t.Errorf("%d bytes left", len(rest))
	}
	whole := Append(nil, "hello")
	for i := range len(whole) {
		if _, rest, ok := Cut(whole[:i]); ok || !bytes.Equal(rest, whole[:i]) {
			t.Errorf("Cut of %d of %d bytes: ok %v", i, len(whole), ok)
		}
	}
	if _, _, ok := Cut([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}); ok {
		t.Error("an overlong length was taken")
	}
}
