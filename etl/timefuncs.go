package etl

import (
	"math/big"
	"sync/atomic"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// timestampFunc is timestamp(): the run's start time (LoadOptions.Now), in
// UTC to the second as RFC 3339, the form formatdate and timeadd read.
// Every call in a run returns it, so per-record expressions agree with
// each other and with the settings evaluated at load. used is set once
// a call is made, so that plan and run can say which time they used.
func timestampFunc(now time.Time, used *atomic.Bool) function.Function {
	s := now.UTC().Truncate(time.Second).Format(time.RFC3339)
	return function.New(&function.Spec{
		Description: "The run's start time, RFC 3339 UTC; the same for every call in a run (etl run --timestamp fixes it).",
		Params:      []function.Parameter{},
		Type:        function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
			return b.NotNull()
		},
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			used.Store(true)
			return cty.StringVal(s), nil
		},
	})
}

// DateAddFunc is dateadd(DATE, DAYS): the "YYYY-MM-DD" date DAYS days
// after DATE (before it when negative), e.g. dateadd("2026-03-01", -1) is
// "2026-02-28".
var DateAddFunc = function.New(&function.Spec{
	Description: "The YYYY-MM-DD date a whole number of days after (or, when negative, before) a YYYY-MM-DD date.",
	Params: []function.Parameter{
		{Name: "date", Type: cty.String},
		{Name: "days", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		s := args[0].AsString()
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "date %q is not a YYYY-MM-DD date; formatdate(\"YYYY-MM-DD\", TIME) turns a time into one", s)
		}
		n, acc := args[1].AsBigFloat().Int64()
		if acc != big.Exact || n < -1_000_000 || n > 1_000_000 {
			return cty.NilVal, function.NewArgErrorf(1, "days must be a whole number of days (at most a million either way), not %s", args[1].AsBigFloat().Text('g', -1))
		}
		return cty.StringVal(d.AddDate(0, 0, int(n)).Format(time.DateOnly)), nil
	},
})
