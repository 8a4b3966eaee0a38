package bland

import (
	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

func init() { Register(etl.Default) }

// Fields are the fields of every bland_calls record.
var Fields = []etl.Field{
	{Name: "call_id", Type: cty.String, Doc: "Call id (call_id or c_id in the API)."},
	{Name: "created_at", Type: cty.String, Doc: "When the call was created, a time (RFC 3339 UTC)."},
	{Name: "phone", Type: cty.String, Doc: "The lead's phone, 10 NANP digits: to for outbound calls, from for inbound ones; null when invalid."},
	{Name: "phone_invalid_reason", Type: cty.String, Doc: "Why the phone is invalid; null when it is valid."},
	{Name: "raw_phone", Type: cty.String, Doc: "The lead's phone as the API gave it."},
	{Name: "to", Type: cty.String, Doc: "Number called."},
	{Name: "from", Type: cty.String, Doc: "Number calling."},
	{Name: "inbound", Type: cty.Bool, Doc: "True for a call the lead made."},
	{Name: "batch_id", Type: cty.String, Doc: "Batch the call belongs to, or null."},
	{Name: "status", Type: cty.String, Doc: "Call status, e.g. completed."},
	{Name: "answered_by", Type: cty.String, Doc: "human, voicemail, unknown, ... or null."},
	{Name: "call_length", Type: cty.Number, Doc: "Length in minutes, or null."},
	{Name: "metadata", Type: cty.DynamicPseudoType, Doc: "The call's metadata object, or null."},
	{Name: "date", Type: cty.String, Doc: "The date listed (the partition), YYYY-MM-DD."},
}

// Register adds the bland_calls source to r.
func Register(r *etl.Registry) {
	etl.RegisterSource(r, etl.Spec[Config]{
		Type:    "bland_calls",
		Summary: "Lists Bland.ai calls one date at a time, with retries and no silent loss.",
		Config:  defaultConfig,
		Fields:  Fields,
		Mock:    mockDoc,
	}, func(cfg *Config, env etl.Env) (etl.Source, error) {
		return newSource(cfg, env)
	})
}

// Interface guards: a hook whose signature drifts fails to compile.
var (
	_ etl.Validator     = (*Config)(nil)
	_ etl.Fingerprinter = (*Config)(nil)
	_ etl.PartitionSet  = (*Config)(nil)
	_ etl.Source        = (*Source)(nil)
	_ etl.Mockable      = (*Source)(nil)
)
