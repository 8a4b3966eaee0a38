// Package etl is the framework every pipeline runs on: it parses HCL pipeline
// files, looks block types up in a plugin registry, decodes and validates each
// block against its plugin's config struct, builds the block graph and runs it
// on a streaming engine.
//
// A plugin author writes a config struct, a constructor and one of the stage
// interfaces (Source, Processor or Streamer, Sink) and registers them from
// init with the typed constructor of that kind (RegisterSource,
// RegisterProcessor, RegisterStreamer, RegisterSink). Plugin's doc gives
// the lifecycle: the order in which the engine calls the optional hooks. Everything else (channels, batching, partition marks, cancellation,
// counting, plan mode, checkpoints) belongs to the engine. See
// docs/architecture.md for the data flow and the reasons behind it.
package etl
