package redialqueue

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// BenchmarkParseRender50k parses and indexes a 50,000-entry queue and
// renders it with 50,000 more entries: the merge's CPU cost at the issue's
// scale.
func BenchmarkParseRender50k(b *testing.B) {
	mk := func(i int) member {
		ph := fmt.Sprintf("561%07d", i)
		lead := fmt.Sprint(i)
		raw, _ := json.Marshal(entry{LeadID: &lead, PhoneNumber: ph, Status: "pending", NextAttempt: "2026-01-07T16:00:00.000Z",
			CreatedAt: "2025-12-15T14:30:00.000Z", Metadata: json.RawMessage(`{"call_id":"c","batch_id":"b","source":"bland_backfill"}`)})
		return member{key: ph, raw: raw}
	}
	var old, added []member
	for i := 0; i < 50000; i++ {
		old = append(old, mk(i))
		added = append(added, mk(50000+i))
	}
	var file countingWriter
	var data []byte
	{
		w := &bytesWriter{}
		render(w, nil, old, nil)
		data = w.b
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		m, err := parseQueue(data)
		if err != nil {
			b.Fatal(err)
		}
		x := newIndex()
		if err := x.add(m); err != nil {
			b.Fatal(err)
		}
		if err := render(&file, m, added, nil); err != nil {
			b.Fatal(err)
		}
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

var _ io.Writer = (*bytesWriter)(nil)

// BenchmarkEntryJSON renders a backfill entry as the sink does for every
// record it receives.
func BenchmarkEntryJSON(b *testing.B) {
	lead := "1000001"
	e := entry{LeadID: &lead, PhoneNumber: "5619565858", Status: "pending", NextAttempt: "2026-01-07T16:00:00.000Z",
		CreatedAt: "2025-12-15T14:30:00.123Z", Metadata: json.RawMessage(`{"batch_id":"batch-2025-12-15","call_id":"c0a80001-1111-2222-3333-444455556666","source":"bland_backfill"}`)}
	b.Run("appendEntry", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = appendEntry(buf[:0], &e)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
