package bland

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDateStreamPacksWaitingCalls puts calls before and after Read starts
// taking: they come back equal and in order, packed or not, in memory or
// spilled (a budget of one chunk spills every full chunk after the first).
func TestDateStreamPacksWaitingCalls(t *testing.T) {
	var calls []Call
	for i := range 3000 {
		c := Call{
			ID: "call-" + strings.Repeat("x", i%50), CreatedAt: time.Unix(1764547200+int64(i), int64(i*1000+7)).UTC(),
			To: "+15615550100", From: "", BatchID: "b", Status: "completed", AnsweredBy: "human",
			Inbound: i%3 == 0,
		}
		if i%4 != 0 {
			c.CallLength, c.HasLength = float64(i)/7, true
		}
		if i%5 != 0 {
			c.Metadata = json.RawMessage(`{"lead_id":` + strings.Repeat("9", 1+i%30) + `}`)
		}
		if i == 7 {
			c.Metadata = json.RawMessage(strings.Repeat(" ", 70000)) // larger than a chunk
		}
		calls = append(calls, c)
	}
	for name, budget := range map[string]*waitBudget{"unbounded": nil, "spilling": newWaitBudget(packChunk, t.TempDir())} {
		t.Run(name, func(t *testing.T) {
			checkDateStream(t, newDateStream(budget), calls)
			if budget != nil && budget.file == nil {
				t.Error("nothing was spilled")
			}
			if budget != nil && (budget.bytes != 0 || budget.mem != 0) {
				t.Errorf("budget left at %d bytes, %d in memory", budget.bytes, budget.mem)
			}
		})
	}
}

func checkDateStream(t *testing.T, d *dateStream, calls []Call) {
	d.put(calls[:1000])
	d.put(calls[1000:2000])
	var got []Call
	for len(got) < 2000 {
		batch, done, err := d.take(context.Background())
		if err != nil || done {
			t.Fatalf("take: done %v, err %v", done, err)
		}
		got = append(got, batch...)
	}
	d.put(calls[2000:]) // taking now: kept as they are
	d.finish(&Day{}, nil)
	for {
		batch, done, err := d.take(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, batch...)
		if done {
			break
		}
	}
	if len(got) != len(calls) {
		t.Fatalf("%d calls back, want %d", len(got), len(calls))
	}
	for i := range calls {
		if !reflect.DeepEqual(got[i], calls[i]) {
			t.Fatalf("call %d:\n got %+v\nwant %+v", i, got[i], calls[i])
		}
	}
}

// TestWaitBudget: wait blocks while the packed calls of waiting dates fill
// the budget, and returns once a take hands a chunk over.
func TestWaitBudget(t *testing.T) {
	b := newWaitBudget(150<<10, t.TempDir()) // the calls fill three 64 KB chunks
	d := newDateStream(b)
	var calls []Call
	for range 2000 { // about 150 KB packed, in three chunks: over the budget
		calls = append(calls, Call{ID: strings.Repeat("i", 40), To: "+15615550100", Status: "completed", CreatedAt: time.Unix(1764547200, 0)})
	}
	d.put(calls)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.wait(ctx); err == nil {
		t.Fatalf("wait returned with %d bytes waiting", b.bytes)
	}
	done := make(chan error, 1)
	go func() { done <- b.wait(context.Background()) }()
	if _, _, err := d.take(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("wait still blocked with %d bytes waiting", b.bytes)
	}
}
