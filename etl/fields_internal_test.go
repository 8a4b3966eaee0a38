package etl

import "testing"

// TestFieldsMissing: a checkpoint applies when its records carry every field
// the pipeline now reads; one written before projections carried them all.
func TestFieldsMissing(t *testing.T) {
	fp := func(fields string) map[string]string {
		if fields == "all" {
			return map[string]string{"base_url": "x"}
		}
		return map[string]string{"base_url": "x", fieldsKey: fields}
	}
	for _, tt := range []struct {
		old, cur string
		ok       bool
	}{
		{"all", "a,b", true},   // an older checkpoint, or every field built
		{"all", "all", true},   //
		{"a,b,c", "a,c", true}, // a block reads less now
		{"a,b", "a,b", true},   //
		{"a,b", "a,b,c", false},
		{"a,b", "all", false}, // a block may now read any field
		{"", "", true},        // nothing read then, nothing now
		{"", "a", false},
	} {
		if got := fieldsMissing(fp(tt.old), fp(tt.cur)) == ""; got != tt.ok {
			t.Errorf("old %q, now %q: cover = %v, want %v", tt.old, tt.cur, got, tt.ok)
		}
	}
}
