package bland

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/etlhq/etl/sources/bland/blandtest"
)

// benchBody is one date of 1,000 calls of about 10 KB each, as the fake
// serves it: the shape the 100 MB day is made of.
func benchBody(b *testing.B) []byte {
	b.Helper()
	srv := blandtest.NewServer(blandtest.Config{Seed: 1, PayloadBytes: 9400, CallsPerDay: 1000})
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL()+"/v1/calls?limit=100000&created_at=2025-12-02", nil)
	req.Header.Set("authorization", srv.Key())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodeCalls measures the scanner alone, from memory.
func BenchmarkDecodeCalls(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if _, err := DecodeCalls(bytes.NewReader(body), func(Call) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecords measures turning decoded calls into records.
func BenchmarkRecords(b *testing.B) {
	body := benchBody(b)
	var calls []Call
	if _, err := DecodeCalls(bytes.NewReader(body), func(c Call) error { calls = append(calls, c); return nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	build := newRecordBuilder("2025-12-02", nil)
	for b.Loop() {
		for i := range calls {
			build.record(&calls[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(calls)), "ns/record")
}

// BenchmarkUnpackChunk unpacks a full chunk of waiting calls, as Read
// takes a date that waited (three dates in four at concurrency 4).
func BenchmarkUnpackChunk(b *testing.B) {
	var chunk []byte
	for i := 0; len(chunk) < packChunk-200; i++ {
		c := Call{ID: fmt.Sprintf("c0a8%04d-1111-2222-3333-444455556666", i), To: "+15615550100", From: "+13055550142",
			BatchID: "batch-2025-12-01", CreatedAt: time.Unix(1764547200+int64(i), 0).UTC()}
		chunk = appendPacked(chunk, &c)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	var buf []Call
	for b.Loop() {
		calls, err := unpackAll(buf, chunk)
		if err != nil || len(calls) == 0 {
			b.Fatal(err)
		}
		buf = calls
	}
}
