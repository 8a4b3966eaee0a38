package etl

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diagnostics as
//
//	pipeline.hcl:3:8: error: Unknown source type "bland_call"
//	    3 | source "bland_call" "calls" {
//	      |        ^^^^^^^^^^^^
//	  No source plugin is registered under this name (did you mean "bland_calls"? ...).
//
// file:line:col first so that editors and terminals can jump to it.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject == nil {
			fmt.Fprintf(w, "%s: %s\n", sev, d.Summary)
		} else {
			r := d.Subject
			fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", r.Filename, r.Start.Line, r.Start.Column, sev, d.Summary)
			if f := files[r.Filename]; f != nil {
				writeSnippet(w, f.Bytes, *r)
			}
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "  %s\n", d.Detail)
		}
		fmt.Fprintln(w)
	}
}

// writeSnippet prints the subject's first line with a caret underline.
func writeSnippet(w io.Writer, src []byte, r hcl.Range) {
	lines := bytes.Split(src, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(string(lines[r.Start.Line-1]), "\r")
	num := fmt.Sprint(r.Start.Line)
	fmt.Fprintf(w, "  %s | %s\n", num, line)
	start := r.Start.Column - 1
	end := len(line)
	if r.End.Line == r.Start.Line {
		end = r.End.Column - 1
	}
	if start > len(line) {
		start = len(line)
	}
	if end <= start {
		end = start + 1
	}
	// Keep tabs so the carets line up under the source.
	pad := make([]byte, start)
	for i := range pad {
		if line[i] == '\t' {
			pad[i] = '\t'
		} else {
			pad[i] = ' '
		}
	}
	fmt.Fprintf(w, "  %s | %s%s\n", strings.Repeat(" ", len(num)), pad, strings.Repeat("^", end-start))
}
