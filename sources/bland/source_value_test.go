package bland

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// metadata must give what ctyjson gives, only faster, with one builder
// converting every object (its decoder keeps keys and strings it met).
func TestMetadataMatchesCtyJSON(t *testing.T) {
	b := newRecordBuilder("2025-12-01")
	for _, in := range []string{
		`{"lead_id":17,"campaign":"spring","tags":["a","b"]}`,
		`{"big":12345678901234567890,"f":1.25e-3,"neg":-0,"t":true,"n":null}`,
		`{"nested":{"list":[1,"x",{"y":[]}],"empty":{}}}`,
		`[1,2,3]`, `"text"`, `42`, `{}`, `[]`,
		`{"lead_id":18,"campaign":"spring","tags":["a","b"]}`, `{"campaign":"autumn","lead_id":"18"}`,
	} {
		ty, err := ctyjson.ImpliedType([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		want, err := ctyjson.Unmarshal([]byte(in), ty)
		if err != nil {
			t.Fatal(err)
		}
		got := b.metadata([]byte(in))
		if !got.RawEquals(want) {
			t.Errorf("metadata(%s) = %#v, ctyjson gives %#v", in, got, want)
		}
	}
	if v := b.metadata(nil); !v.IsNull() || v.Type() != cty.DynamicPseudoType {
		t.Errorf("absent metadata = %#v", v)
	}
}
