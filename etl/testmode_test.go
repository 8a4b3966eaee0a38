package etl_test

import (
	"strings"
	"testing"

	"github.com/etlhq/etl/etl"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

type mockCall struct {
	ID string `json:"call_id"`
}

type mockData struct {
	Calls map[string][]mockCall `json:"calls"`
	DNC   []string              `json:"dnc"`
}

// DecodeMock decodes as JSON would, and names a misspelt key with where it
// is and the fields there are.
func TestDecodeMock(t *testing.T) {
	cases := []struct{ src, want string }{
		{`{ calls = { "2025-12-01" = [{ call_id = "c1" }] }, dnc = ["1"] }`, ""},
		{`{ calls = { "2025-12-01" = [{ call_id = "c1" }, { cal_id = "c2" }] } }`, `calls["2025-12-01"][1]: unknown field "cal_id"; the fields there are call_id`},
		{`{ dcn = [] }`, `unknown field "dcn"; the fields there are calls, dnc`},
		{`{ dnc = "1" }`, `dnc: a string where a []string is expected`},
	}
	for _, tc := range cases {
		expr, diags := hclsyntax.ParseExpression([]byte(tc.src), "t", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, _ := expr.Value(nil)
		var d mockData
		err := etl.DecodeMock(v, &d)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.src, err)
		case tc.want == "" && (len(d.Calls["2025-12-01"]) != 1 || d.Calls["2025-12-01"][0].ID != "c1" || len(d.DNC) != 1):
			t.Errorf("%s: decoded %+v", tc.src, d)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}
