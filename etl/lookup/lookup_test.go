package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

// seqOut records what a stage sends: "id" per record, "|p" per mark.
type seqOut struct {
	mu     sync.Mutex
	seq    []string
	counts map[string]int64
	drops  map[string]int64
	sent   chan string // each entry as it is sent, when not nil
}

func (o *seqOut) add(s string) {
	o.mu.Lock()
	o.seq = append(o.seq, s)
	o.mu.Unlock()
	if o.sent != nil {
		o.sent <- s
	}
}

func (o *seqOut) Emit(rec etl.Record) error { o.add(rec["id"].AsString()); return nil }
func (o *seqOut) EndPartition(m *etl.Mark) error {
	o.add("|" + m.Partition)
	return nil
}
func (o *seqOut) Drop(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.drops == nil {
		o.drops = map[string]int64{}
	}
	o.drops[reason]++
}
func (o *seqOut) Count(name string, n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int64{}
	}
	o.counts[name] += n
}

func (o *seqOut) got() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.seq)
}

func rec(id, key string) etl.Record {
	return etl.Record{"id": cty.StringVal(id), "key": cty.StringVal(key)}
}

// funcs looks keys up with call, emitting every record; a record with an
// empty key is dropped.
func funcs(call func(ctx context.Context, key string) (string, error)) Funcs[string, string] {
	return Funcs[string, string]{
		Key: func(r etl.Record) (string, string, error) {
			k := r["key"].AsString()
			if k == "" {
				return "", "no key", nil
			}
			return k, "", nil
		},
		Call: call,
		Emit: func(r etl.Record, _ string, out etl.Output) error { return out.Emit(r) },
	}
}

// feed sends parts as batches of one record, a mark after each part.
func feed(ctx context.Context, parts ...[]etl.Record) <-chan etl.Batch {
	in := make(chan etl.Batch)
	go func() {
		defer close(in)
		for i, part := range parts {
			for _, r := range part {
				select {
				case in <- etl.Batch{Records: []etl.Record{r}}:
				case <-ctx.Done():
					return
				}
			}
			select {
			case in <- etl.Batch{Mark: &etl.Mark{Partition: fmt.Sprint("p", i)}}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return in
}

// One key whose call takes long holds up neither the other keys' records,
// of its partition or later ones, nor their calls; the marks wait for it
// and keep their order.
func TestNoHeadOfLineBlocking(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	l := New(Options{Concurrency: 2}, funcs(func(ctx context.Context, key string) (string, error) {
		calls.Add(1)
		if key == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return "ok", nil
	}))
	out := &seqOut{sent: make(chan string, 100)}
	ctx := context.Background()
	in := feed(ctx, []etl.Record{rec("s", "slow"), rec("a", "k1"), rec("b", "k2")}, []etl.Record{rec("c", "k3"), rec("d", "k1")}, []etl.Record{rec("e", "k4")})
	errc := make(chan error, 1)
	go func() { errc <- l.Stream(ctx, in, out) }()
	want := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true}
	deadline := time.After(2 * time.Second)
	for len(want) > 0 {
		select {
		case s := <-out.sent:
			if !want[s] {
				t.Fatalf("%q sent while the slow key was held; sent so far %v", s, out.got())
			}
			delete(want, s)
		case <-deadline:
			t.Fatalf("records behind the slow key did not leave: sent %v", out.got())
		}
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.got()[5:], ","); got != "s,|p0,|p1,|p2" {
		t.Errorf("after the slow key: %s, want s,|p0,|p1,|p2", got)
	}
	if calls.Load() != 5 {
		t.Errorf("%d calls for 5 keys", calls.Load())
	}
}

// Each key is called once; its records leave in input order, and a
// seeded key is never called.
func TestCoalescing(t *testing.T) {
	var mu sync.Mutex
	called := map[string]int{}
	l := New(Options{Concurrency: 4}, funcs(func(ctx context.Context, key string) (string, error) {
		mu.Lock()
		called[key]++
		mu.Unlock()
		time.Sleep(time.Duration(len(key)) * time.Millisecond)
		return "ok", nil
	}))
	l.Seed("old", "saved")
	l.Seed("unused", "saved")
	var part []etl.Record
	for i := range 60 {
		part = append(part, rec(fmt.Sprint(i), []string{"kkkkkkkk", "k", "kkk", "old", ""}[i%5]))
	}
	out := &seqOut{}
	if err := l.Stream(context.Background(), feed(context.Background(), part), out); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(called) != "map[k:1 kkk:1 kkkkkkkk:1]" {
		t.Errorf("calls %v, want one per key and none for the seeded one", called)
	}
	// Per key, input order.
	last := map[int]int{}
	for _, s := range out.got() {
		var i int
		if _, err := fmt.Sscan(s, &i); err != nil {
			continue
		}
		if prev, ok := last[i%5]; ok && prev > i {
			t.Errorf("record %d of key %d left after record %d", i, i%5, prev)
		}
		last[i%5] = i
	}
	if out.counts[CountResumed] != 1 || out.counts[CountReused] != 60-12-3-1 || out.drops["no key"] != 12 {
		t.Errorf("counts %v drops %v", out.counts, out.drops)
	}
	used := map[string]bool{}
	l.Range(func(k, _ string, u bool) { used[k] = u })
	if fmt.Sprint(used) != "map[k:true kkk:true kkkkkkkk:true old:true unused:false]" {
		t.Errorf("answers %v", used)
	}
}

// Input is not read while Waiting records wait: the source runs ahead by
// that much and no more.
func TestWaitingBudget(t *testing.T) {
	release := make(chan struct{})
	l := New(Options{Concurrency: 2, Waiting: 3}, funcs(func(ctx context.Context, key string) (string, error) {
		<-release
		return "ok", nil
	}))
	in := make(chan etl.Batch)
	var sent atomic.Int32
	go func() {
		defer close(in)
		for i := range 10 {
			in <- etl.Batch{Records: []etl.Record{rec(fmt.Sprint(i), "k")}}
			sent.Add(1)
		}
	}()
	out := &seqOut{}
	errc := make(chan error, 1)
	go func() { errc <- l.Stream(context.Background(), in, out) }()
	time.Sleep(100 * time.Millisecond)
	if n := sent.Load(); n != 3 {
		t.Errorf("%d batches read with 3 records waiting allowed", n)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(out.got()) != 10 {
		t.Errorf("sent %v", out.got())
	}
}

// A failed call stops the run with its error, cancels the calls in
// flight, and the answers obtained before it are kept.
func TestCallErrorStops(t *testing.T) {
	boom := errors.New("boom")
	cancelled := make(chan struct{})
	l := New(Options{Concurrency: 4}, funcs(func(ctx context.Context, key string) (string, error) {
		switch key {
		case "bad":
			time.Sleep(20 * time.Millisecond)
			return "", boom
		case "hang":
			<-ctx.Done()
			close(cancelled)
			return "", ctx.Err()
		}
		return "ok", nil
	}))
	err := l.Stream(context.Background(), feed(context.Background(), []etl.Record{rec("1", "good"), rec("2", "hang"), rec("3", "bad")}), &seqOut{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	select {
	case <-cancelled:
	default:
		t.Error("the call in flight was not cancelled")
	}
	if l.Len() != 1 {
		t.Errorf("%d answers kept, want the good key's", l.Len())
	}
}

// The Gate admits Concurrency holders and refuses a stopping run.
func TestGate(t *testing.T) {
	l := New(Options{Concurrency: 2}, Funcs[string, string]{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if l.Acquire(ctx) != nil || l.Acquire(ctx) != nil {
		t.Fatal("two places refused")
	}
	if err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("third place: %v, want to wait until the context ends", err)
	}
	l.Release()
	if err := l.Acquire(ctx); err == nil {
		t.Error("a place given to a cancelled context")
	}
}

// TestMeterCountsKeys: keys are known once each, whatever the records
// that carry them; a seeded key used is known and done without a call.
func TestMeterCountsKeys(t *testing.T) {
	m := etl.NewMeter()
	l := New(Options{Concurrency: 2, Meter: m, Unit: "phones"}, funcs(func(ctx context.Context, key string) (string, error) {
		return "ok", nil
	}))
	l.Seed("old", "saved")
	l.Seed("unused", "saved")
	var part []etl.Record
	for i := range 40 {
		part = append(part, rec(fmt.Sprint(i), []string{"a", "b", "c", "old", ""}[i%5]))
	}
	if err := l.Stream(context.Background(), feed(context.Background(), part), &seqOut{}); err != nil {
		t.Fatal(err)
	}
	got := m.Read()
	if !got.Keyed || got.KeyUnit != "phones" || got.KeysKnown != 4 || got.KeysDone != 4 {
		t.Errorf("meter %+v, want 4 phones known and done (a, b, c and the seeded old)", got)
	}
}
