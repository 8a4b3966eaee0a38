package phone

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, want, reason string
	}{
		{"+15619565858", "5619565858", ""},
		{"5619565858", "5619565858", ""},
		{"15619565858", "5619565858", ""},
		{"(561) 956-5858", "5619565858", ""},
		{"+1 (561) 956-5858", "5619565858", ""},
		{"561.956.5858", "5619565858", ""},
		{" 561 956 5858 ext", "5619565858", ""},
		{"+1-800-555-0199", "8005550199", ""},
		{"", "", ReasonEmpty},
		{"unknown", "", ReasonEmpty},
		{"+", "", ReasonEmpty},
		{"956-5858", "", ReasonLength},
		{"561956585", "", ReasonLength},
		{"5619565858123", "", ReasonLength},
		{"25619565858", "", ReasonCountryCode},
		{"+44 20 7946 0958", "", ReasonLength},
		{"+44 207 946 095", "", ReasonCountryCode},
		{"0619565858", "", ReasonAreaCode},
		{"1619565858", "", ReasonAreaCode},
		{"10619565858", "", ReasonAreaCode},
		{"11619565858", "", ReasonAreaCode},
		{"１５６１９５６５８５８", "", ReasonEmpty}, // full-width digits are not ASCII digits
		{strings.Repeat("9", 100), "", ReasonLength},
	}
	for _, tt := range tests {
		got, reason, ok := Normalize(tt.raw)
		if got != tt.want || reason != tt.reason || ok != (tt.reason == "") {
			t.Errorf("Normalize(%q) = %q, %q, %v; want %q, %q, %v", tt.raw, got, reason, ok, tt.want, tt.reason, tt.reason == "")
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"5619565858", "******5858"},
		{"12345", "*2345"},
		{"1234", "****"},
		{"", "****"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+15619565858", "5619565858", "15619565858", "(561) 956-5858", "", "0619565858",
		"25619565858", "1", "+1 (800) 555-0199 x12", "１５６１９５６５８５８", "\x00\xff5619565858"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, reason, ok := Normalize(raw)
		if !ok {
			if p != "" || reason == "" {
				t.Fatalf("Normalize(%q) = %q, %q, false: a failure must give no phone and a reason", raw, p, reason)
			}
			return
		}
		if reason != "" || len(p) != 10 || p[0] < '2' || p[0] > '9' {
			t.Fatalf("Normalize(%q) = %q, %q: not a NANP number", raw, p, reason)
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				t.Fatalf("Normalize(%q) = %q: non-digit", raw, p)
			}
		}
		if p2, _, ok2 := Normalize(p); !ok2 || p2 != p {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize(%q) = %q, %v", raw, p, p, p2, ok2)
		}
		if m := Mask(p); m[6:] != p[6:] || strings.Trim(m[:6], "*") != "" {
			t.Fatalf("Mask(%q) = %q", p, m)
		}
	})
}

func TestNumberRoundTrip(t *testing.T) {
	for _, raw := range []string{"5619565858", "+1 (212) 555-0100", "2000000000", "9999999999"} {
		p, _, ok := Normalize(raw)
		if !ok {
			t.Fatalf("%s invalid", raw)
		}
		n, ok := ParseNumber(p)
		if !ok || n.String() != p {
			t.Errorf("%s: Number %d (%v) gives %q", p, n, ok, n.String())
		}
	}
	for _, bad := range []string{"", "561956585", "56195658580", "56195a5858"} {
		if _, ok := ParseNumber(bad); ok {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
}

// A phone a source already normalised is checked, not normalised again:
// Normalize gives it back as it is, with no copy, and still rejects a
// 10-digit string whose area code is invalid.
func TestNormalizeKeepsNormalizedPhone(t *testing.T) {
	raw := strings.Repeat("5619565858", 1)
	if allocs := testing.AllocsPerRun(100, func() {
		if p, _, ok := Normalize(raw); !ok || p != raw {
			t.Fatalf("Normalize(%q) = %q, %v", raw, p, ok)
		}
	}); allocs != 0 {
		t.Errorf("Normalize of a normalized phone allocates %.0f times", allocs)
	}
	if p, reason, ok := Normalize("1619565858"); ok || reason != ReasonAreaCode || p != "" {
		t.Errorf("Normalize(1619565858) = %q, %q, %v", p, reason, ok)
	}
}
