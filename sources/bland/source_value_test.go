package bland

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// jsonValue must give what ctyjson gives, only faster.
func TestJSONValueMatchesCtyJSON(t *testing.T) {
	for _, in := range []string{
		`{"lead_id":17,"campaign":"spring","tags":["a","b"]}`,
		`{"big":12345678901234567890,"f":1.25e-3,"neg":-0,"t":true,"n":null}`,
		`{"nested":{"list":[1,"x",{"y":[]}],"empty":{}}}`,
		`[1,2,3]`, `"text"`, `42`, `{}`, `[]`,
	} {
		ty, err := ctyjson.ImpliedType([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		want, err := ctyjson.Unmarshal([]byte(in), ty)
		if err != nil {
			t.Fatal(err)
		}
		got := jsonValue([]byte(in))
		if !got.RawEquals(want) {
			t.Errorf("jsonValue(%s) = %#v, ctyjson gives %#v", in, got, want)
		}
	}
	if v := jsonValue(nil); !v.IsNull() || v.Type() != cty.DynamicPseudoType {
		t.Errorf("absent metadata = %#v", v)
	}
}
