package cli

import (
	"runtime/debug"
	"testing"
)

// TestDescribeBuild checks where `etl version` takes each part from, for
// each way the binary can be built.
func TestDescribeBuild(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	info := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/etlhq/etl", Version: version}, Settings: settings}
	}
	tests := []struct {
		name                string
		info                *debug.BuildInfo
		ldVersion, ldCommit string
		want                buildInfo
	}{
		{"no build info", nil, "dev", "",
			buildInfo{Version: "dev", Commit: "unknown"}},
		{"make build: -ldflags wins", info("(devel)", vcs("vcs.revision", "1111111111111111111111111111111111111111")), "v1.2.3-4-gabcdef0", "abcdef0123",
			buildInfo{Version: "v1.2.3-4-gabcdef0", Commit: "abcdef0123", Go: "go1.26.8"}},
		{"go install @v1.2.3", info("v1.2.3", nil), "dev", "",
			buildInfo{Version: "v1.2.3", Commit: "unknown", Go: "go1.26.8"}},
		{"go install @main: a pseudo-version", info("v0.0.0-20261130052000-eb6aaab1c2d3", nil), "dev", "",
			buildInfo{Version: "v0.0.0-20261130052000-eb6aaab1c2d3", Commit: "eb6aaab1c2d3", Go: "go1.26.8"}},
		{"pseudo-version after a tag, dirty", info("v1.2.4-0.20261130052000-eb6aaab1c2d3+dirty", nil), "dev", "",
			buildInfo{Version: "v1.2.4-0.20261130052000-eb6aaab1c2d3+dirty", Commit: "eb6aaab1c2d3", Go: "go1.26.8"}},
		{"a pre-release tag is no pseudo-version", info("v1.2.4-rc.1", nil), "dev", "",
			buildInfo{Version: "v1.2.4-rc.1", Commit: "unknown", Go: "go1.26.8"}},
		{"go build in a checkout", info("(devel)", vcs("vcs", "git", "vcs.revision", "eb6aaab1d1074bde0c135aae313eee5fc71d666d", "vcs.time", "2026-11-30T05:20:00Z", "vcs.modified", "true")), "dev", "",
			buildInfo{Version: "dev", Commit: "eb6aaab1d1074bde0c135aae313eee5fc71d666d", Time: "2026-11-30T05:20:00Z", Modified: true, Go: "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeBuild(tt.info, tt.ldVersion, tt.ldCommit)
			if tt.want.Go == "" {
				tt.want.Go = got.Go // the running toolchain's
			}
			tt.want.Platform = got.Platform
			if got != tt.want || got.Go == "" || got.Platform == "" {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
