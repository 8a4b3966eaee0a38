package bland

import (
	"fmt"
	"regexp"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Date is a calendar date attribute written "YYYY-MM-DD". A malformed
// value is a diagnostic at the attribute.
type Date struct{ t time.Time }

// DecodeValue reads the date from a string value.
func (d *Date) DecodeValue(v cty.Value) error {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return fmt.Errorf(`must be a date string such as "2025-12-01"`)
	}
	t, err := time.Parse(time.DateOnly, v.AsString())
	if err != nil {
		if len(v.AsString()) == len("2006-01-02") && dateShape.MatchString(v.AsString()) {
			return fmt.Errorf("must be a real date: %q does not exist", v.AsString())
		}
		return fmt.Errorf(`must be a date written YYYY-MM-DD, such as "2025-12-01", not %q`, v.AsString())
	}
	d.t = t
	return nil
}

var dateShape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String returns "YYYY-MM-DD", or "" when unset.
func (d Date) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// datesBetween lists the dates from start to end inclusive.
func datesBetween(start, end Date) []string {
	var out []string
	for t := start.t; !t.After(end.t); t = t.AddDate(0, 0, 1) {
		out = append(out, t.Format(time.DateOnly))
	}
	return out
}

// daysBetween counts the dates from start to end inclusive, without
// listing them: a range may be absurdly long (and longer than a
// time.Duration holds, hence Unix seconds).
func daysBetween(start, end Date) int {
	return int((end.t.Unix()-start.t.Unix())/86400) + 1
}
