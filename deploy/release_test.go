package deploy_test

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The platforms make dist builds, as GOOS/GOARCH.
var platforms = []string{"linux/amd64", "linux/arm64", "darwin/arm64"}

// TestDist checks the binaries of make dist in $ETL_DIST (make
// release-check sets it): one per platform, named with the version, for
// that platform, static on Linux and built without cgo, listed in
// SHA256SUMS with their hashes; the one for this machine runs and reports
// the version and the commit.
func TestDist(t *testing.T) {
	dir, version := os.Getenv("ETL_DIST"), os.Getenv("ETL_DIST_VERSION")
	if dir == "" || version == "" {
		t.Skip("ETL_DIST and ETL_DIST_VERSION are not set: run make release-check to check make dist's output")
	}
	sums := readSums(t, filepath.Join(dir, "SHA256SUMS"))
	if len(sums) != len(platforms) {
		t.Errorf("SHA256SUMS lists %d files, want %d: %v", len(sums), len(platforms), sums)
	}
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		name := fmt.Sprintf("etl_%s_%s_%s", version, goos, goarch)
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if h := sha256.Sum256(b); sums[name] != hex.EncodeToString(h[:]) {
			t.Errorf("%s: SHA256SUMS says %q, the file hashes to %x", name, sums[name], h)
		}
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if settings["CGO_ENABLED"] != "0" || settings["GOOS"] != goos || settings["GOARCH"] != goarch || settings["-trimpath"] != "true" {
			t.Errorf("%s: built with %v, want CGO_ENABLED=0 GOOS=%s GOARCH=%s -trimpath", name, settings, goos, goarch)
		}
		if goos == "linux" {
			checkStaticELF(t, path, goarch)
		} else if f, err := macho.Open(path); err != nil || f.Cpu != macho.CpuArm64 {
			t.Errorf("%s: not a Mach-O arm64 binary (%v)", name, err)
		} else {
			f.Close()
		}
		if goos == runtime.GOOS && goarch == runtime.GOARCH {
			out, err := exec.Command(path, "--output", "json", "version").Output()
			var v struct{ Version, Commit string }
			if err != nil || json.Unmarshal(out, &v) != nil || v.Version != version || v.Commit == "unknown" || v.Commit == "" {
				t.Errorf("%s version: %v\n%s\nwant version %s and a commit", name, err, out, version)
			}
		}
	}
}

func checkStaticELF(t *testing.T, path, goarch string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	if f.Machine != want {
		t.Errorf("%s: machine %v, want %v", path, f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: dynamically linked (%v): want a static binary", path, p.Type)
		}
	}
}

// readSums reads a sha256sum file: "HASH  NAME" a line.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("%s: line %q is not HASH  NAME", path, sc.Text())
		}
		sums[strings.TrimPrefix(name, "*")] = hash
	}
	return sums
}

// TestGoInstall runs `go install github.com/etlhq/etl/cmd/etl@VERSION`
// from a module proxy on disk that serves this checkout as VERSION, as
// proxy.golang.org would serve a tag: it proves the module path, the main
// package's place and the absence of replace directives, and that the
// installed binary reports VERSION and the commit of a pseudo-version
// with no -ldflags. It compiles the whole binary: make release-check runs
// it (ETL_RELEASE_TEST=1).
func TestGoInstall(t *testing.T) {
	if os.Getenv("ETL_RELEASE_TEST") == "" {
		t.Skip("ETL_RELEASE_TEST is not set: make release-check runs go install from a local module proxy")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	const module = "github.com/etlhq/etl"
	const version = "v0.0.0-20261130000000-0123456789ab"
	tmp := t.TempDir()
	at := filepath.Join(tmp, "proxy", module, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `","Time":"2026-11-30T00:00:00Z"}`,
		version + ".mod":  string(mod),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(at, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	moduleZip(t, "..", module+"@"+version, filepath.Join(at, version+".zip"))

	gobin := filepath.Join(tmp, "bin")
	cmd := exec.Command(goCmd, "install", module+"/cmd/etl@"+version)
	// Dependencies come from the module cache (make test has filled it);
	// the checksum database is off, since this module is not in it and
	// the test must not need the network.
	cmd.Env = append(os.Environ(), "GOPROXY=file://"+filepath.Join(tmp, "proxy"), "GOBIN="+gobin,
		"GOSUMDB=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s/cmd/etl@%s: %v\n%s", module, version, err, out)
	}
	out, err := exec.Command(filepath.Join(gobin, "etl"), "--output", "json", "version").Output()
	var v struct{ Version, Commit string }
	if err != nil || json.Unmarshal(out, &v) != nil || v.Version != version || v.Commit != "0123456789ab" {
		t.Errorf("the installed etl version: %v\n%s\nwant version %s, commit 0123456789ab", err, out, version)
	}
}

// moduleZip writes the module zip of the tree at root as the proxy
// protocol wants it: every file under MODULE@VERSION/, without the VCS
// directory and the build outputs, which a module zip would not have.
func moduleZip(t *testing.T, root, prefix, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	skip := map[string]bool{".git": true, "bin": true, "dist": true, ".etl": true, "demo-data": true, "data": true}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if skip[rel] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(rel, ".test") || strings.HasSuffix(rel, ".prof") || rel == ".git" {
			return nil
		}
		w, err := zw.Create(prefix + "/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
