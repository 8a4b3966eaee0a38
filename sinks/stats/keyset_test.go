package stats

import (
	"slices"
	"testing"
)

func TestKeySet(t *testing.T) {
	s := newKeySet()
	keys := []string{"5619565858", "0123456789", "k1", "+5619565858", "561956585", "5619565858", "k1"}
	var fresh int
	for _, k := range keys {
		if s.add(k) {
			fresh++
		}
	}
	want := []string{"+5619565858", "0123456789", "561956585", "5619565858", "k1"}
	if got := s.sorted(); fresh != 5 || s.len() != 5 || !slices.Equal(got, want) {
		t.Errorf("%d new, len %d, keys %q; want 5, 5, %q", fresh, s.len(), got, want)
	}
	s.clear()
	if s.len() != 0 || !s.add("5619565858") {
		t.Error("clear left keys behind")
	}
}
