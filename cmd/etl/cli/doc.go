// Package cli implements the etl command line (kong): run, plan, validate,
// plugins, fmt, state, demo and version. Main returns the exit status
// instead of exiting, so tests run it in-process or as a subprocess.
package cli
