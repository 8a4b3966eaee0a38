package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/atomicfile"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

type fmtCmd struct {
	Files []string `arg:"" help:"Pipeline files to format."`
	Check bool     `help:"Change nothing; exit 1 when a file is not formatted, and list it."`
}

func (c *fmtCmd) run(a *app) int {
	status := exitOK
	parser := hclparse.NewParser()
	for _, path := range c.Files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(a.stderr, "etl fmt: %v\n", err)
			status = exitError
			continue
		}
		// Refuse to format what does not parse: hclwrite would keep the
		// broken tokens and the user would not learn why.
		if _, diags := parser.ParseHCL(src, path); diags.HasErrors() {
			etl.WriteDiagnostics(a.stderr, parser.Files(), diags)
			status = exitError
			continue
		}
		out := hclwrite.Format(src)
		if bytes.Equal(out, src) {
			continue
		}
		fmt.Fprintln(a.stdout, path)
		if c.Check {
			status = exitError
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			fmt.Fprintf(a.stderr, "etl fmt: %v\n", err)
			status = exitError
			continue
		}
		if err := atomicfile.WriteFile(path, out, info.Mode().Perm()); err != nil {
			fmt.Fprintf(a.stderr, "etl fmt: %v\n", err)
			status = exitError
		}
	}
	return status
}
