package cli

import (
	"fmt"
	"strings"

	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/etl/pipetest"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

type validateCmd struct {
	pipelineArgs
}

func (c *validateCmd) run(a *app) int {
	if strings.HasSuffix(c.File, pipetest.Suffix) {
		if !a.checkTestFiles([]string{c.File}) {
			return exitError
		}
		return exitOK
	}
	p := c.loadWith(a, true)
	if p == nil {
		return exitError
	}
	counts := map[etl.Kind]int{}
	for _, b := range p.Blocks {
		counts[b.Addr.Kind]++
	}
	var parts []string
	for _, k := range etl.Kinds {
		if n := counts[k]; n > 0 {
			noun := string(k)
			if n > 1 {
				noun += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, noun))
		}
	}
	if !a.globals.Quiet {
		fmt.Fprintf(a.stdout, "%s is valid: %s.\n", c.File, strings.Join(parts, ", "))
		for _, v := range p.Variables {
			if v.From == etl.FromUnset {
				fmt.Fprintf(a.stdout, "  var.%s has no value: checked as unknown; run and plan need it (--var %s=VALUE).\n", v.Name, v.Name)
			}
		}
	}
	if !a.checkTestFiles(pipetest.ForPipeline(c.File)) {
		return exitError
	}
	return exitOK
}

// formatValue renders a value as HCL, "(sensitive)" when marked.
func formatValue(v cty.Value) string {
	if v.IsMarked() || v.ContainsMarked() {
		return "(sensitive)"
	}
	if !v.IsWhollyKnown() {
		return "(unknown)"
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes()))
}
