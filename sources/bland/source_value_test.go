package bland

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// metadata must give what ctyjson gives, only faster, with one builder
// converting every object (its decoder keeps keys and strings it met).
func TestMetadataMatchesCtyJSON(t *testing.T) {
	b := newRecordBuilder("2025-12-01", nil)
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

// TestRecordProjection builds records with only some fields: exactly those
// (a field bland_calls does not make is ignored), with the values a full
// build gives.
func TestRecordProjection(t *testing.T) {
	calls := []Call{
		{ID: "a", To: "+15615550100", From: "+18005550100", Status: "completed", BatchID: "b1", AnsweredBy: "human",
			CallLength: 1.5, HasLength: true, Metadata: []byte(`{"lead_id":7}`)},
		{ID: "b", From: "(561) 555-0101", Inbound: true},
		{ID: "c", To: "12"},
	}
	full := newRecordBuilder("2025-12-01", nil)
	want := map[string]bool{"call_id": true, "created_at": true, "phone": true, "batch_id": true, "metadata": true,
		"raw_phone": true, "lead_id": true}
	part := newRecordBuilder("2025-12-01", want)
	for i := range calls {
		all, okAll := full.record(&calls[i])
		got, ok := part.record(&calls[i])
		if ok != okAll {
			t.Errorf("call %s: phone valid %v, full build says %v", calls[i].ID, ok, okAll)
		}
		if len(got) != len(want)-1 { // lead_id is not a bland_calls field
			t.Errorf("call %s: fields %v", calls[i].ID, got)
		}
		for f, v := range got {
			if !want[f] || !v.RawEquals(all[f]) {
				t.Errorf("call %s field %s = %#v, full build %#v", calls[i].ID, f, v, all[f])
			}
		}
	}
}
