package etl

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// neededFields returns the record fields some block downstream of b may
// read, or nil when any field may be read. Blocks whose plugin does not
// declare its reads (Plugin.ReadsDeclaredFields) may read any field; a
// block that passes its input records on needs, besides its own reads,
// what its consumers need.
func (p *Pipeline) neededFields(b *Block) map[string]bool {
	need := map[string]bool{}
	for _, c := range p.Blocks {
		if c.Input != b {
			continue
		}
		own := blockReads(c)
		if own == nil {
			return nil
		}
		maps.Copy(need, own)
		if c.Addr.Kind == KindSink {
			continue // no output
		}
		further := p.neededFields(c)
		if further == nil {
			return nil
		}
		for _, name := range ownOutput(c) {
			delete(further, name) // c sets or removes it: not read from b
		}
		maps.Copy(need, further)
	}
	return need
}

// blockReads returns the fields b reads of its input records, or nil when
// it may read any.
func blockReads(b *Block) map[string]bool {
	reads := map[string]bool{}
	if fr, ok := b.Config.(FieldReader); ok {
		names := fr.ReadFields()
		if names == nil {
			return nil
		}
		for _, n := range names {
			reads[n] = true
		}
	} else if !b.Plugin.ReadsDeclaredFields {
		return nil
	}
	for _, t := range perRecordRefs(b) {
		if len(t) < 2 {
			return nil // the whole record object
		}
		step, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			return nil // record[expr]: any field
		}
		reads[step.Name] = true
	}
	return reads
}

// fieldsFingerprint is a source's projection as a fingerprint value:
// records saved by a stateful stage hold only these fields, so a pipeline
// that reads more must not resume from them.
func fieldsFingerprint(need map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(need)), ",")
}

// ownOutput returns the fields b sets or removes on the records it passes
// on (FieldDeclarer, FieldRemover): the blocks after it cannot read them
// from b's input.
func ownOutput(b *Block) []string {
	var names []string
	if fd, ok := b.Config.(FieldDeclarer); ok {
		for _, f := range fd.DeclaredFields() {
			names = append(names, f.Name)
		}
	}
	if fr, ok := b.Config.(FieldRemover); ok {
		names = append(names, fr.RemovedFields()...)
	}
	return names
}
