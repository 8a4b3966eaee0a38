package fileformat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/etlhq/etl/etl"
)

// benchLines returns n jsonl lines shaped like scripts/bench_file.sh's:
// seven fields, about 150 bytes, two strings that repeat and three that
// do not.
func benchLines(n int) []byte {
	var b bytes.Buffer
	status := []string{"pending", "called"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"phone_number":"%03d%03d%04d","status":"%s","attempts":%d,"lead_id":"%d","created_at":"2026-01-%02dT%02d:%02d:00.000Z","campaign":"web-form"}`+"\n",
			i, 200+i%800, 200+(i/10000)%800, i%10000, status[i%2], i%5, 100000+i, 1+i%28, i%24, i%60)
	}
	return b.Bytes()
}

// readBench reads every record of data as jsonl.
func readBench(b *testing.B, data []byte) []etl.Record {
	var recs []etl.Record
	r := NewReader(bytes.NewReader(data), "bench.jsonl", Options{Format: JSONL})
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// BenchmarkReadJSONL is the file source's share of the bench pipeline:
// decoding a line into a record.
func BenchmarkReadJSONL(b *testing.B) {
	const n = 10_000
	data := benchLines(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "bench.jsonl", Options{Format: JSONL})
		for {
			_, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/record")
}

// BenchmarkWriteJSONL is the file sink's share: a record to a line, all
// fields, sorted.
func BenchmarkWriteJSONL(b *testing.B) {
	const n = 10_000
	recs := readBench(b, benchLines(n))
	b.ReportAllocs()
	for b.Loop() {
		w := NewWriter(io.Discard, JSONL, nil)
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/record")
}
