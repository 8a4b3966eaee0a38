package etl

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// TestAppendTimeMatchesFormat holds the hand-written formatter to
// time.Format over random times, zones, and the years where it falls back.
func TestAppendTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("x", -5*3600), time.FixedZone("y", 5*3600+1800)}
	times := []time.Time{
		{}, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 1, 0, 0, 0, 1, time.FixedZone("z", 3600)),
	}
	for range 10000 {
		sec := r.Int64N(400 * 365 * 86400)
		times = append(times, time.Unix(sec-200*365*86400, r.Int64N(1e9)).In(zones[r.IntN(len(zones))]))
	}
	for _, tm := range times {
		want := tm.UTC().Format(TimeLayout)
		if got := string(AppendTime(nil, tm)); got != want {
			t.Fatalf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
		if got := TimeVal(tm).AsString(); got != want {
			t.Fatalf("TimeVal(%v) = %s, want %s", tm, got, want)
		}
	}
}

// TestSmallIntIsParseNumberVal holds the integer fast path to go-cty's
// parser: the same value, precision, rounding and text.
func TestSmallIntIsParseNumberVal(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-7", "10", "123456789012345678", "-123456789012345678",
		"999999999999999999", "1234567890123456789", "01", "-", "1.5", "1e3", "9223372036854775807"} {
		want, err := cty.ParseNumberVal(s)
		got, ok := smallInt([]byte(s))
		if !ok {
			continue // the slow path handles it
		}
		if err != nil {
			t.Fatalf("smallInt accepted %q, which ParseNumberVal refuses", s)
		}
		gf, wf := got.AsBigFloat(), want.AsBigFloat()
		if gf.Cmp(wf) != 0 || gf.Prec() != wf.Prec() || gf.Mode() != wf.Mode() || gf.Signbit() != wf.Signbit() || gf.Text('g', -1) != wf.Text('g', -1) {
			t.Errorf("%q: smallInt %s (prec %d), ParseNumberVal %s (prec %d)", s, gf.Text('g', -1), gf.Prec(), wf.Text('g', -1), wf.Prec())
		}
	}
	if _, ok := smallInt([]byte("42")); !ok {
		t.Error("the fast path took nothing")
	}
}

// TestAppendNumber holds appendNumber's strconv paths to big.Float.Text.
func TestAppendNumber(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var fs []*big.Float
	for i := range 8000 {
		n := r.Int64N(1<<54) - 1<<53
		if i < 3000 {
			n = int64(i) - 1500
		}
		for _, prec := range []uint{24, 53, 64, 512} {
			fs = append(fs, new(big.Float).SetPrec(prec).SetInt64(n))
			fs = append(fs, new(big.Float).SetPrec(prec).SetInt64(r.Int64()>>r.IntN(12))) // beyond 2^53 too
		}
		parsed, _ := cty.ParseNumberVal(strconv.FormatInt(n, 10))
		fs = append(fs, parsed.AsBigFloat())
		x := math.Float64frombits(r.Uint64())
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			fs = append(fs, new(big.Float).SetFloat64(x))
		}
		fs = append(fs, new(big.Float).SetFloat64(float64(r.IntN(1e6))/float64(1+r.IntN(999))))
		dec, _ := cty.ParseNumberVal(strconv.FormatFloat(r.Float64()*1000, 'f', r.IntN(6), 64))
		fs = append(fs, dec.AsBigFloat())
	}
	for _, f := range fs {
		if got, want := string(appendNumber(nil, f)), f.Text('g', -1); got != want {
			t.Fatalf("%s (prec %d): appendNumber %s", want, f.Prec(), got)
		}
	}
}

// TimeOf reads what TimeVal wrote exactly as time.Parse would, without
// parsing; strings in any other form are left to time.Parse.
func TestTimeOf(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		want := time.Unix(r.Int64N(1<<33), r.Int64N(1e9)).UTC()
		s := TimeVal(want).AsString()
		got, ok := TimeOf(s)
		if !ok || !got.Equal(want) {
			t.Fatalf("TimeOf(%q) = %v, %v; want %v", s, got, ok, want)
		}
		parsed, err := ParseTime(cty.StringVal(s))
		if err != nil || !parsed.Equal(want) {
			t.Fatalf("ParseTime(%q) = %v, %v", s, parsed, err)
		}
		if m, ok := MilliTime(s); !ok || m != want.Format(MilliLayout) {
			t.Fatalf("MilliTime(%q) = %q, want %q", s, m, want.Format(MilliLayout))
		}
	}
	for _, s := range []string{
		"2025-12-01T10:00:00Z",                // RFC 3339, not TimeLayout
		"2025-12-01T10:00:00.000000000+01:00", // not UTC
		"2025-02-30T10:00:00.000000000Z",      // no such day
		"2025-12-01T24:00:00.000000000Z",      // no such hour
		"2025-12-01T10:00:0x.000000000Z",
		"2025-12-01 10:00:00.000000000Z",
	} {
		if tm, ok := TimeOf(s); ok {
			t.Errorf("TimeOf(%q) = %v, want not ok", s, tm)
		}
	}
	if _, err := ParseTime(cty.StringVal("2025-12-01T10:00:00+01:00")); err != nil {
		t.Errorf("ParseTime of another RFC 3339 form: %v", err)
	}
}

func TestUnmarked(t *testing.T) {
	for _, v := range []cty.Value{
		cty.StringVal("a"), cty.StringVal("a").Mark(Sensitive), cty.NumberIntVal(1).Mark("x"),
		cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x").Mark(Sensitive)}),
		cty.ListVal([]cty.Value{cty.True.Mark("y")}), cty.NullVal(cty.String).Mark("z"),
	} {
		got := Unmarked(v)
		want, _ := v.UnmarkDeep()
		if got.ContainsMarked() || !got.RawEquals(want) {
			t.Errorf("Unmarked(%#v) = %#v, want %#v", v, got, want)
		}
	}
	plain := cty.StringVal("a")
	if n := testing.AllocsPerRun(100, func() { Unmarked(plain) }); n != 0 {
		t.Errorf("Unmarked of a plain string allocates %v times", n)
	}
}
