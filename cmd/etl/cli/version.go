package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

type versionCmd struct{}

// version and commit may be set at build time, which wins over what the
// Go toolchain records (make build and make dist set both):
//
//	-ldflags "-X github.com/etlhq/etl/cmd/etl/cli.version=v1.2.3 -X github.com/etlhq/etl/cmd/etl/cli.commit=0123abc"
//
// Left alone, the build info answers: `go install …/cmd/etl@v1.2.3` records
// v1.2.3 (and the commit, for a pseudo-version such as @main), and a go
// build inside a git checkout records the revision.
var (
	version = "dev"
	commit  = ""
)

// buildInfo is what `etl version` prints.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// readBuildInfo describes this binary.
func readBuildInfo() buildInfo {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(info, version, commit)
}

// describeBuild combines the -X overrides with the toolchain's build info
// (nil when the binary has none).
func describeBuild(info *debug.BuildInfo, ldVersion, ldCommit string) buildInfo {
	b := buildInfo{Version: ldVersion, Commit: ldCommit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info == nil {
		info = &debug.BuildInfo{}
	}
	if info.GoVersion != "" {
		b.Go = info.GoVersion
	}
	main := info.Main.Version
	if b.Version == "" || b.Version == "dev" {
		b.Version = "dev"
		if main != "" && main != "(devel)" {
			b.Version = main
		}
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Commit == "" {
		b.Commit = pseudoCommit(main)
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// pseudoCommit returns the commit prefix a pseudo-version ends with
// (v0.0.0-20261130052000-eb6aaab1c2d3, v1.2.4-0.20261130052000-eb6aaab1c2d3,
// possibly +incompatible or +dirty), or "" for a tagged version.
func pseudoCommit(v string) string {
	v, _, _ = strings.Cut(v, "+")
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		return ""
	}
	rev, stamp := v[i+1:], v[:i]
	j := strings.LastIndexAny(stamp, "-.")
	if len(rev) != 12 || j < 0 || len(stamp)-j-1 != 14 || strings.Trim(rev, "0123456789abcdef") != "" || strings.Trim(stamp[j+1:], "0123456789") != "" {
		return ""
	}
	return rev
}

func (versionCmd) run(a *app) int {
	b := readBuildInfo()
	if a.globals.Output == "json" {
		json.NewEncoder(a.stdout).Encode(b)
		return exitOK
	}
	fmt.Fprintf(a.stdout, "etl %s\n", b.Version)
	detail := []string{}
	if b.Time != "" {
		detail = append(detail, b.Time)
	}
	if b.Modified {
		detail = append(detail, "modified")
	}
	if len(detail) > 0 {
		fmt.Fprintf(a.stdout, "commit %s (%s)\n", b.Commit, strings.Join(detail, ", "))
	} else {
		fmt.Fprintf(a.stdout, "commit %s\n", b.Commit)
	}
	fmt.Fprintf(a.stdout, "%s %s\n", b.Go, b.Platform)
	return exitOK
}
