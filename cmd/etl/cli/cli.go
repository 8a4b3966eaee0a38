package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/etlhq/etl/etl"
)

// Exit statuses, documented in the README.
const (
	exitOK          = 0
	exitError       = 1
	exitChanges     = 2 // plan --detailed-exitcode: the run would change something
	exitSkipped     = 3 // completed, but a block skipped what it could not process
	exitUsage       = 64
	exitInterrupted = 130
)

// app is what every command gets: where to write, the environment and the
// registry of plugins.
type app struct {
	stdout, stderr io.Writer
	// errOut writes to stderr, or above the live status while one is
	// drawn on the same terminal: the log and the warnings go through it.
	errOut   *switchWriter
	environ  []string
	registry *etl.Registry
	globals  *globals
	logger   *slog.Logger
	rep      etl.Reporter // made once by reporter()
	// text is the text report (nil with --output json), which shows the
	// run's progress; rep may wrap it.
	text *textReporter
}

// globals are the flags every command accepts.
type globals struct {
	Output   string `enum:"text,json" default:"text" help:"Report format: text for people, json for one event object per line."`
	Quiet    bool   `short:"q" help:"Print only errors."`
	LogLevel string `enum:"debug,info,warn,error" default:"warn" help:"Log level of the diagnostic log on stderr (${enum})."`
	// ProgressInterval paces the progress that is not drawn live.
	ProgressInterval time.Duration `default:"10s" placeholder:"DURATION" help:"How often run and plan say how far they are when the report is not a terminal (a plain line) or is --output json (a progress event); 0 turns that progress off."`
}

type cli struct {
	globals

	Run      runCmd      `cmd:"" help:"Run a pipeline: read, transform and write."`
	Plan     planCmd     `cmd:"" help:"Dry run: read everything, write nothing, show the change each sink would make."`
	Validate validateCmd `cmd:"" help:"Check a pipeline file, and the test files that test it, without any network access."`
	Test     testCmd     `cmd:"" help:"Run pipeline tests (*.etltest.hcl): fixtures and mocked APIs in, no network, nothing written."`
	Report   reportCmd   `cmd:"" help:"Render a saved event stream (etl run --output json) as the HTML run report, on standard output."`
	Plugins  pluginsCmd  `cmd:"" help:"List the plugins, or show one plugin's attributes."`
	Fmt      fmtCmd      `cmd:"" help:"Rewrite pipeline files in canonical HCL formatting."`
	State    stateCmd    `cmd:"" help:"Inspect or delete a checkpoint."`
	Demo     demoCmd     `cmd:"" help:"Run pipelines/backfill.hcl against built-in fake Bland and Convoso APIs (no key, no network)."`
	Version  versionCmd  `cmd:"" help:"Print the version, the commit and the Go version it was built with."`
}

// exitCode carries kong's own exits (after --help) out of Parse.
type exitCode int

// Main runs the CLI and returns the process exit status.
func Main(args []string, stdout, stderr io.Writer, environ []string, reg *etl.Registry) (status int) {
	var c cli
	a := &app{stdout: stdout, stderr: stderr, errOut: &switchWriter{w: stderr}, environ: environ, registry: reg, globals: &c.globals}
	extraCommands(&c)
	parser, err := kong.New(&c,
		kong.Name("etl"),
		kong.Description("Declarative ETL pipelines in HCL. Exit status: 0 ok, 1 error, 2 plan --detailed-exitcode with changes, 3 completed with items skipped, 64 usage, 130 interrupted."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "etl: %v\n", err)
		return exitError
	}
	defer func() {
		if r := recover(); r != nil {
			code, ok := r.(exitCode)
			if !ok {
				panic(r)
			}
			status = int(code)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "etl: %v\n", err)
		return exitUsage
	}
	a.logger = newLogger(a.errOut, c.LogLevel)
	cmd, ok := kctx.Selected().Target.Addr().Interface().(command)
	if !ok {
		fmt.Fprintf(stderr, "etl: %s is not runnable\n", kctx.Command())
		return exitUsage
	}
	return cmd.run(a)
}

// command is implemented by every subcommand.
type command interface {
	run(a *app) int
}

// extraCommands is where optional commands (demo, state) hook in.
var extraCommands = func(*cli) {}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// signalContext is cancelled by SIGINT or SIGTERM. After the first signal
// the default handling is restored, so a second Ctrl-C kills at once.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// reporter returns the event sink for the chosen output format.
// It is made once, so that every event of the command goes through the same
// writer lock and progress throttle.
func (a *app) reporter() etl.Reporter {
	switch {
	case a.rep != nil:
	case a.globals.Output == "json":
		a.rep = &etl.JSONReporter{W: a.stdout, Quiet: a.globals.Quiet}
	default:
		a.text = newTextReporter(a)
		a.rep = a.text
	}
	return a.rep
}
