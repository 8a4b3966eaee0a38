// Package pipetest runs pipeline tests: the `*.etltest.hcl` files of
// `etl test`. A test runs the real pipeline file with its real plugins,
// replacing only what the test replaces: a block's output by fixture
// records (override), an API's answers by plain data given to the plugin
// (mock, through etl.Mockable, so that the plugin's own rules still run).
// Sinks write nothing unless the test asks for a real write in its
// temporary directory: the run is a plan, and the engine hands the test
// every record each sink receives (etl.TestHooks). The test then compares
// them (expect) and evaluates its assertions over the sinks' records, the
// blocks' counters and the variables (assert).
package pipetest
