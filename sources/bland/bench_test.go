package bland

import (
	"bytes"
	"io"
	"net/http"
	"testing"

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
