package convoso

import (
	"testing"
	"unsafe"
)

// Symbols number each string once and give back its copy, never the
// string they were given (it may point into an answer); "" is 0.
func TestSymbols(t *testing.T) {
	var syms symbols
	given := []byte("SALE")
	a := syms.id(string(given))
	if b := syms.id("SALE"); a != b || a == 0 {
		t.Fatalf("SALE numbered %d and %d", a, b)
	}
	if syms.str(a) != "SALE" || unsafe.StringData(syms.str(a)) == unsafe.SliceData(given) {
		t.Fatal("the string was not copied")
	}
	if syms.id("") != 0 || syms.str(0) != "" || syms.val(syms.id("DNC")).AsString() != "DNC" {
		t.Fatal("wrong symbols")
	}
}

// A lead id round-trips as given: digits as a number, anything else
// (leading zeros, a sign, letters, too many digits) as text.
func TestLeadIDs(t *testing.T) {
	f := new(Filter)
	for _, id := range []string{"12345", "0", "007", "+5", "-3", "L-42", "99999999999999999999", ""} {
		var v verdict
		f.setLead(&v, id, "NEW", "1001")
		if got := f.leadIDText(v); got != id {
			t.Errorf("lead id %q came back as %q", id, got)
		}
		if !v.found || f.syms.str(v.status) != "NEW" || f.syms.str(v.listID) != "1001" {
			t.Errorf("lead %q: %+v", id, v)
		}
	}
	var v verdict
	f.setLead(&v, "12345", "", "")
	if !v.idNumber {
		t.Error("a numeric id is kept as text")
	}
}
