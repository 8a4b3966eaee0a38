package etl

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Kind is the first word of a pipeline block: what the block does.
type Kind string

// The block kinds a pipeline may hold.
const (
	KindSource    Kind = "source"
	KindTransform Kind = "transform"
	KindFilter    Kind = "filter"
	KindSink      Kind = "sink"
)

// Kinds lists the plugin kinds in pipeline order.
var Kinds = []Kind{KindSource, KindTransform, KindFilter, KindSink}

// Addr names a block, e.g. sink.redial_queue.queue. It is comparable and its
// String form is what users see in messages and write in references.
type Addr struct {
	Kind Kind
	Type string
	Name string
}

// String returns "kind.type.name".
func (a Addr) String() string { return fmt.Sprintf("%s.%s.%s", a.Kind, a.Type, a.Name) }

// Field describes a record field a plugin produces, so that `etl validate`
// can check per-record expressions downstream.
type Field struct {
	Name string
	Type cty.Type // cty.DynamicPseudoType when it varies
	Doc  string
}

// Spec describes a block type: what `etl plugins` shows and what the engine
// must know about the stage beyond its Go type. The config struct C holds
// the block's attributes; its fields carry tags that drive decoding, docs
// and validation alike:
//
//	BaseURL string   `hcl:"base_url,optional" doc:"API base URL."`
//	APIKey  string   `hcl:"api_key" doc:"API key." etl:"secret"`
//	Key     etl.Expr `hcl:"key" doc:"Key of each record."`   // per-record
//
// A field of type Expr is per-record: kept as an expression and evaluated
// for each record with `record` in scope. Fields of type hcl.Expression are
// kept unevaluated for the plugin. Other fields (string, bool, ints, floats,
// slices and maps of them, cty.Value, time.Duration, and any type with a
// DecodeValue(cty.Value) error method) are evaluated at load time.
// An `etl:"secret"` attribute is never printed.
type Spec[C any] struct {
	// Type is the block's first label, e.g. "bland_calls".
	Type string
	// Summary is one line for `etl plugins`.
	Summary string
	// Config returns a new config holding the defaults; nil means the zero
	// C. Defaults are set here and nowhere else: `etl plugins NAME` reads
	// them from this struct.
	Config func() *C
	// Fields are the record fields this plugin produces: all of them for a
	// source, the ones it adds for a transform or filter. Nil for a source
	// means "unknown": downstream references are not checked.
	Fields []Field
	// ReadsDeclaredFields says the plugin reads records only through its
	// per-record (Expr, Assignments) attributes, and that the records it
	// emits, if any, are its input records, with the fields it declares
	// (FieldDeclarer) set and those it removes (FieldRemover) removed. Sources then build only
	// the fields such blocks read (Env.Fields). A plugin that leaves it
	// false (one that writes whole records, say) gets every field.
	ReadsDeclaredFields bool
	// Buffers says a sink holds what it receives until the end of input
	// (it writes in Finish): its EndPartition does not make a partition
	// durable. Such a sink is safe to resume only behind a stage that
	// Replays; otherwise the engine does not checkpoint its source.
	Buffers bool
	// Replays says a stateful stage emits its restored records again on a
	// resumed run, so that the stages and sinks after it see every finished
	// partition's data.
	Replays bool
	// Mock documents, for a plugin whose stage is Mockable, the mock block
	// a test gives it: its attributes and an example, as `etl plugins
	// NAME` shows them.
	Mock string
}

// Plugin is a registered block type, as the registry hands it out: its
// kind and the untyped form of its Spec. Plugins are made by
// RegisterSource, RegisterProcessor, RegisterStreamer and RegisterSink,
// whose typed constructors let the compiler check what a plugin builds.
//
// The engine calls a stage's hooks in this order; each hook is optional
// but the stage's kind (Source, Processor or Streamer, Sink) and is found
// by type assertion, so every plugin file ends with a guard per hook it
// implements, var _ etl.X = (*T)(nil), which turns a drifted signature
// into a compile error instead of a hook silently never called.
//
//  1. Decode (validate, plan and run): a fresh config from Spec.Config is
//     decoded from the block, then the config's Validator (no I/O),
//     FieldDeclarer, PartitionSet, SinglePartitioner and Fingerprinter
//     are asked. Nothing
//     may be opened or requested.
//  2. Build: the constructor makes the stage from the config and its Env,
//     block by block in pipeline order. It may open files and clients;
//     Close releases them even when a later block fails to build.
//  3. Tables (during build): Stateful.UseState with the stage's table,
//     holding what the checkpoint committed (nothing on a fresh start),
//     Cacher.UseCache with the answers an unfinished run obtained, and
//     Scratcher.UseScratch with an empty table for the run alone.
//  4. Preflight: Preflighter.Preflight of every stage, before any stage
//     starts, in plan and run: one cheap request, so that a wrong key
//     fails before any partition is read. It reads no partition and
//     writes nothing.
//  5. Restored: Restorer.Restored, in the stage's goroutine before its
//     input starts; a stage that Replays emits its restored records here
//     or in Finish.
//  6. Records: Source.Read emits records and calls out.EndPartition after
//     each partition. Processor.Process and Sink.Write are called per
//     record, then PartitionEnder.EndPartition at each partition's mark,
//     which the engine forwards afterwards. Streamer.Stream reads its
//     input itself and forwards every mark with out.EndPartition after
//     the records that precede it. The changes a Stateful stage made to
//     its table before a mark are that partition's, committed with it
//     once it is done. A sink has made a partition durable when its
//     EndPartition returns, unless its Spec says it Buffers.
//  7. Finish: Finisher.Finish once the input ended normally, never after
//     a failure upstream or a cancellation: a transform emits what it
//     held; a sink writes (run) or computes its change (plan). A sink's
//     Output has no consumer: only its Drop and Count are of use.
//  8. Report, after every stage stopped: Skipper.Skipped, and on success
//     Outcomer.Outcomes (what became of the items a stage decided on) and
//     Changer.Change, the change a sink made or would make.
//  9. Close: Closer.Close once the run ends, whatever happened: release
//     locks, remove temp files, roll back what Finish did not commit.
//
// Plan mode (Env.Plan) takes the same steps; sinks report instead of
// writing and nothing is committed: tables keep their changes in memory.
type Plugin struct {
	Kind    Kind
	Type    string
	Summary string
	// Fields, ReadsDeclaredFields, Buffers, Replays and Mock are the
	// Spec's.
	Fields              []Field
	ReadsDeclaredFields bool
	Buffers             bool
	Replays             bool
	Mock                string

	// config returns a pointer to a new config with defaults set.
	config func() any
	// build makes the stage from what config returned: a Source,
	// Processor, Streamer or Sink as Kind requires.
	build func(cfg any, env Env) (any, error)
}

// Env is what a stage is given when it is built: who it is, how the run goes,
// and where to report.
type Env struct {
	// Addr is the block's address, for messages.
	Addr Addr
	// Plan is true in `etl plan`: read everything, write nothing, report the
	// change a run would make.
	Plan bool
	// Dir is the directory of the pipeline file; relative paths in config
	// are already resolved against it where the plugin asks (see Path).
	Dir string
	// ShowEntries and Unmask ask sinks to list the entries a plan would add,
	// with personal data unmasked.
	ShowEntries, Unmask bool
	// Logger logs under the block's address.
	Logger *slog.Logger
	// Events reports progress and results; the CLI renders them.
	Events Reporter
	// Fields, for a source, are the record fields some block downstream
	// may read; nil means any. A source may build only these: the others
	// would be built for nothing.
	Fields map[string]bool
	// ScratchDir is where stages put spill files (see package spill): the
	// checkpoint's directory in a run, "" (the system's temp directory) in
	// a plan, which must leave nothing in the pipeline's directories.
	ScratchDir string
	// Done reports whether a source's partition is already finished in the
	// checkpoint being resumed; a source skips such partitions.
	Done func(partition string) bool
	// AwaitDone, for a source, blocks until one of its partitions is done
	// in this run (committed, or in a plan acknowledged by every stage that
	// holds it), or ctx ends. A source that reads ahead waits on it before
	// starting more partitions, so that a crash costs no more than the
	// partitions it keeps in flight.
	AwaitDone func(ctx context.Context, partition string) error
	// Meter counts the stage's progress for the run's progress events
	// (partitions, keys, requests, bytes); etl/retry and etl/lookup count
	// into it when given it. Nil-safe: an Env made by hand may leave it nil.
	Meter *Meter
	// Stdout is where a sink asked to write to standard output ("-")
	// writes: the command's standard output.
	Stdout io.Writer
}

// Output is where a stage sends what it produces. Emit blocks while
// downstream is full (backpressure) and fails once the run is cancelled.
type Output interface {
	// Emit sends a record downstream.
	Emit(rec Record) error
	// Drop counts a record that was not emitted, with a short reason
	// ("invalid phone", "excluded: SALE") shown in the report.
	Drop(reason string)
	// Count adds n to a named counter shown in the block's report line
	// ("distinct keys", "requests").
	Count(name string, n int64)
	// EndPartition sends a partition mark after the records emitted so far.
	// Only sources and Streamers call it; for other stages the engine
	// forwards marks itself.
	EndPartition(m *Mark) error
}

// Source produces records: Read emits every record and a mark after each
// partition, and returns at the end of input.
type Source interface {
	Read(ctx context.Context, out Output) error
}

// Processor is a transform or filter that handles one record at a time.
// It may emit zero, one or many records per call.
type Processor interface {
	Process(ctx context.Context, rec Record, out Output) error
}

// Streamer is a transform or filter that reads its input itself, e.g. to
// keep many lookups in flight. It must forward every mark with
// out.EndPartition after the records that precede it, in order.
type Streamer interface {
	Stream(ctx context.Context, in <-chan Batch, out Output) error
}

// Sink consumes records.
type Sink interface {
	Write(ctx context.Context, rec Record) error
}

// PartitionEnder is called by the engine when a mark reaches a Processor or
// Sink, after the partition's records. A sink makes the partition durable
// here (the checkpoint follows).
type PartitionEnder interface {
	EndPartition(ctx context.Context, m *Mark, out Output) error
}

// Finisher is called at the end of input, before the stage's output closes:
// a transform that holds records emits them here; a sink writes (apply) or
// computes its change (plan). A sink is given an Output too, but has no
// consumer: only its Drop and Count are of use.
type Finisher interface {
	Finish(ctx context.Context, out Output) error
}

// Closer is always called once the stage stops, even after an error or a
// cancellation: release locks, remove temp files, roll back.
type Closer interface {
	Close() error
}

// Preflighter is called for every stage before any stage starts, in run
// and plan alike, for all stages at once (so a run waits for the slowest
// API, not their sum): check credentials with one cheap request, so that a
// wrong key fails the run before any partition is read or written.
type Preflighter interface {
	Preflight(ctx context.Context) error
}

// Stateful stages keep keyed state that the engine checkpoints (see
// Table). UseState is called once, before Preflight, with the stage's
// table: it holds what the run being resumed had committed, nothing on a
// fresh start. The stage reads it there or later, and changes it as it
// handles records; the changes made before a mark are the partition's and
// are committed with it once it is done. A stateful stage holds the
// checkpoint back until it has handled a partition's mark.
type Stateful interface {
	UseState(t Table) error
}

// Cacher is implemented by stages that keep answers obtained from outside
// during a run (convoso_status: a verdict per phone) that a resumed run
// should reuse rather than ask for again. Unlike a Stateful stage's state,
// a cache is valid at any moment, not only at a partition boundary, and
// only for the run that obtained it: the engine commits its changes with
// every checkpoint and once more when the run fails or is interrupted, and
// empties it when the run completes, so that running a finished pipeline
// again asks afresh. UseCache is called once, before Preflight, with the
// table holding what an interrupted run left.
type Cacher interface {
	UseCache(t Table) error
}

// Scratcher is implemented by stages that hold keyed values for the
// length of one run, more of them than memory should hold (redial_queue:
// the entry of each phone until the merge). UseScratch is called once,
// during build, with an empty table whose values wait on disk in a file
// that has no name (package spill), in the state's directory in a run and
// the system's temporary directory in a plan; the engine empties it when
// the stage closes. A scratch table is never committed: a resumed run
// starts with it empty, and nothing of it is left behind, whatever way the
// process ends. Values a resume must find belong in a Stateful table.
type Scratcher interface {
	UseScratch(t Table) error
}

// Skipper is implemented by stages that can be told to skip what they
// cannot process instead of failing the run (convoso_status with
// on_lookup_error = "skip"). After the run, Skipped lists what was
// skipped, one line each, as a report may show it (phones masked unless
// Env.Unmask). The run completes; the CLI then exits 3, so that
// automation notices.
type Skipper interface {
	Skipped() []string
}

// Restorer is implemented by stages that must act once after UseState and
// before input starts, e.g. a transform that re-emits restored records.
type Restorer interface {
	Restored(ctx context.Context, out Output) error
}

// Validator checks a decoded config without I/O (it runs in `etl validate`).
// Problems are diagnostics pointing at the attribute, via b.AttrRange.
type Validator interface {
	Validate(b *Block) hcl.Diagnostics
}

// Fingerprinter returns what determines the meaning of a checkpoint: the
// settings that, if changed, make saved state wrong. Never secrets.
type Fingerprinter interface {
	Fingerprint() map[string]string
}

// PartitionSet is implemented by source configs that know which
// partitions they produce (bland_calls: the dates from start_date to
// end_date). A checkpoint holding a partition outside the set is refused:
// its state would carry data the user no longer asked for.
type PartitionSet interface {
	HasPartition(name string) bool
}

// SinglePartitioner is implemented by source configs that can tell from
// their settings alone that they read exactly one partition (the file
// source given a path rather than a glob). Such a source has nothing a
// checkpoint could skip within a run, so a buffering sink behind it draws
// no "not checkpointed" warning.
type SinglePartitioner interface {
	SinglePartition() bool
}

// FieldDeclarer is implemented by configs whose output fields depend on
// their settings (a transform that sets a field named in its config): the
// fields it adds, beyond Plugin.Fields. The stage sets them on every record
// it passes on, so the blocks after it read them from it: sources are not
// asked to build them for those blocks. For a source whose Spec.Fields is
// nil, a nil result means its fields are unknown (a CSV file read by its
// header): downstream references are then not checked.
type FieldDeclarer interface {
	DeclaredFields() []Field
}

// FieldRemover is implemented by configs of transforms that remove fields
// from the records they pass on (map's drop): `etl validate` rejects a
// later block's reference to one, and sources are not asked to build them
// for the blocks after it.
type FieldRemover interface {
	RemovedFields() []string
}

// FieldReader is implemented by configs of blocks that read named fields of
// their input records other than through per-record expressions (a sink
// writing the fields a list names): the fields it reads, or nil when it
// may read any. Sources then build only those (see Env.Fields).
type FieldReader interface {
	ReadFields() []string
}

// ValueDecoder is implemented by config field types that decode themselves
// from an HCL value (etl.Date, for example). An error becomes a diagnostic
// at the attribute.
type ValueDecoder interface {
	DecodeValue(v cty.Value) error
}
