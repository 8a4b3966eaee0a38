package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/etlhq/etl/etl"
	"github.com/zclconf/go-cty/cty"
)

type pluginsCmd struct {
	Name string `arg:"" optional:"" help:"Plugin type to describe, e.g. bland_calls."`
}

func (c *pluginsCmd) run(a *app) int {
	if c.Name == "" {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tTYPE\tSUMMARY")
		for _, p := range a.registry.Plugins() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Kind, p.Type, p.Summary)
		}
		tw.Flush()
		return exitOK
	}
	found := a.registry.Find(c.Name)
	if len(found) == 0 {
		fmt.Fprintf(a.stderr, "etl: no plugin named %q; `etl plugins` lists them\n", c.Name)
		return exitError
	}
	for i, p := range found {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		describePlugin(a, p)
	}
	return exitOK
}

func describePlugin(a *app, p *etl.Plugin) {
	w := a.stdout
	fmt.Fprintf(w, "%s %q: %s\n\n", p.Kind, p.Type, p.Summary)
	if p.Kind != etl.KindSource {
		fmt.Fprintf(w, "  input  reference, required\n      The block this one reads from, e.g. source.TYPE.NAME.\n")
	}
	for _, s := range p.Attrs() {
		var tags []string
		tags = append(tags, s.Type)
		if s.Required {
			tags = append(tags, "required")
		} else {
			tags = append(tags, "optional")
		}
		if s.Default != "" {
			tags = append(tags, "default "+s.Default)
		}
		if s.PerRecord {
			tags = append(tags, "per-record")
		}
		if s.Secret {
			tags = append(tags, "secret")
		}
		fmt.Fprintf(w, "  %s  %s\n", s.Name, strings.Join(tags, ", "))
		if s.Doc != "" {
			fmt.Fprintf(w, "      %s\n", s.Doc)
		}
	}
	if len(p.Fields) > 0 {
		verb := "Records carry"
		if p.Kind != etl.KindSource {
			verb = "Adds to each record"
		}
		fmt.Fprintf(w, "\n  %s:\n", verb)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range p.Fields {
			ty := "any"
			if f.Type != cty.NilType {
				ty = f.Type.FriendlyNameForConstraint()
			}
			if f.Doc == "" {
				fmt.Fprintf(tw, "    %s\t%s\n", f.Name, ty)
			} else {
				fmt.Fprintf(tw, "    %s\t%s\t%s\n", f.Name, ty, f.Doc)
			}
		}
		tw.Flush()
	}
	if p.Mock != "" {
		fmt.Fprintf(w, "\n  In tests (etl test), its API is mocked with:\n")
		for _, line := range strings.Split(strings.TrimRight(p.Mock, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
}
