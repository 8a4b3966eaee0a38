// Tests of what deploy/ ships: the systemd units, the command line the
// service runs, the Dockerfile, and (with make release-check) the release
// binaries and `go install …@VERSION`.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etlhq/etl/cmd/etl/cli"
	"github.com/etlhq/etl/etl"
	"github.com/etlhq/etl/filters/convoso/convosotest"
	"github.com/etlhq/etl/sources/bland/blandtest"
)

const (
	service = "etl-backfill.service"
	timer   = "etl-backfill.timer"
)

// unitValues returns the values of key in a unit file, in order.
func unitValues(t *testing.T, file, key string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vals []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.TrimSpace(k) == key {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// TestUnitsVerify runs systemd-analyze verify on both units: it fails on
// an unknown key, a bad calendar spec, a missing ExecStart program; and
// the service's security exposure must stay "OK" (2.0 or less of 10).
func TestUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd): the units are not verified")
	}
	out, err := exec.Command(sa, "verify", "./"+service, "./"+timer).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 { // warnings (an unknown key) exit 0
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(sa, "calendar", unitValues(t, timer, "OnCalendar")[0]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "America/New_York") {
		t.Errorf("the timer's OnCalendar: %v\n%s", err, out)
	}
	if out, err := exec.Command(sa, "security", "--offline=yes", "--threshold=20", "./"+service).CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v)\n%s", err, out)
	}
}

// TestUnitsSettings checks what verify cannot: the settings the install
// instructions rely on.
func TestUnitsSettings(t *testing.T) {
	for key, want := range map[string]string{
		"User":             "etl",
		"StateDirectory":   "etl",
		"WorkingDirectory": "/var/lib/etl",
		"EnvironmentFile":  "/etc/etl/etl.env",
		"ProtectSystem":    "strict",
		"NoNewPrivileges":  "yes",
		"Type":             "oneshot",
	} {
		if got := unitValues(t, service, key); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s = %q, want %q", service, key, got, want)
		}
	}
	if got := unitValues(t, timer, "OnCalendar"); len(got) != 1 || !strings.HasSuffix(got[0], " America/New_York") {
		t.Errorf("%s: OnCalendar = %q, want a time in America/New_York", timer, got)
	}
	if got := unitValues(t, timer, "Unit"); len(got) != 1 || got[0] != service {
		t.Errorf("%s: Unit = %q, want %s", timer, got, service)
	}
}

// serviceArgs runs the service's ExecStart through /bin/sh as systemd
// would (%% is %), with the etl binary replaced by a script that prints
// its arguments one a line, and returns them.
func serviceArgs(t *testing.T) []string {
	t.Helper()
	exec0 := unitValues(t, service, "ExecStart")
	if len(exec0) != 1 {
		t.Fatalf("ExecStart = %q, want one", exec0)
	}
	line := strings.ReplaceAll(exec0[0], "%%", "%")
	if strings.Contains(line, "%") && !strings.Contains(line, "+%F") {
		t.Fatalf("ExecStart has a %% specifier this test does not expand: %s", line)
	}
	stub := filepath.Join(t.TempDir(), "etl")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	line = strings.Replace(line, "/usr/local/bin/etl", stub, 1)
	words := shellWords(line)
	if len(words) < 3 || words[0] != "/bin/sh" || words[1] != "-c" {
		t.Fatalf("ExecStart %q: want /bin/sh -c '...'", line)
	}
	out, err := exec.Command(words[0], words[1:]...).Output()
	if err != nil {
		t.Fatalf("ExecStart through /bin/sh: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// shellWords splits a systemd command line: words, with single quotes.
func shellWords(s string) []string {
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			words, s = append(words, s[1:1+end]), s[2+end:]
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		words, s = append(words, s[:end]), s[end:]
	}
	return words
}

// TestServiceRunsTheBackfillUpToYesterday runs the service's command line,
// as the shell expands it, with the real CLI against the fakes: end_date
// is yesterday (UTC), the checkpoint and the outputs land under the state
// directory, and variables from the environment file apply.
func TestServiceRunsTheBackfillUpToYesterday(t *testing.T) {
	args := serviceArgs(t)
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	if !strings.Contains(strings.Join(args, " "), "end_date="+yesterday) {
		t.Fatalf("the service runs %q: want end_date=%s", args, yesterday)
	}

	// The server's paths, moved under a temporary directory.
	root := t.TempDir()
	pipeline, err := os.ReadFile(filepath.Join("..", "pipelines", "backfill.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc", "etl"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "etl", "backfill.hcl"), pipeline, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		a = strings.ReplaceAll(a, "/etc/etl/", filepath.Join(root, "etc", "etl")+"/")
		args[i] = strings.ReplaceAll(a, "/var/lib/etl/", filepath.Join(root, "var", "lib", "etl")+"/")
	}

	bland := blandtest.NewServer(blandtest.Config{Seed: 3, CallsPerDay: 5, PhonePool: 10})
	defer bland.Close()
	convoso := convosotest.NewServer(convosotest.Config{})
	defer convoso.Close()
	convoso.Seed(blandtest.Pool(10))
	// What /etc/etl/etl.env would hold: the keys, and a start date.
	start := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	env := []string{
		"BLAND_API_KEY=" + bland.Key(), "CONVOSO_AUTH_TOKEN=" + convoso.Token(),
		"ETL_VAR_start_date=" + start, "ETL_VAR_bland_url=" + bland.URL(), "ETL_VAR_convoso_url=" + convoso.URL(),
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Chdir(root)
	var stdout, stderr bytes.Buffer
	if status := cli.Main(args, &stdout, &stderr, env, etl.Default); status != 0 {
		t.Fatalf("etl %q: exit %d\n%s\n%s", args, status, stdout.String(), stderr.String())
	}
	dates := map[string]int{}
	for _, r := range bland.Requests() {
		dates[r.Date]++
	}
	if len(dates) != 3 || dates[start] == 0 || dates[yesterday] == 0 {
		t.Errorf("Bland was asked for %v: want the 3 dates from %s to %s", dates, start, yesterday)
	}
	for _, p := range []string{"var/lib/etl/state/backfill.hcl.db", "var/lib/etl/data/backfill-stats.json",
		"var/lib/etl/data/redial-queue/redial-queue_" + yesterday[:7] + ".json"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("after the run: %v", err)
		}
	}
}

// TestEnvExample checks that the example environment file names the keys
// the pipeline reads and tells how to make it readable by the service
// user only.
func TestEnvExample(t *testing.T) {
	b, err := os.ReadFile("etl.env.example")
	if err != nil {
		t.Fatal(err)
	}
	pipeline, _ := os.ReadFile(filepath.Join("..", "pipelines", "backfill.hcl"))
	for _, m := range regexp.MustCompile(`env\("([A-Z_]+)"\)`).FindAllStringSubmatch(string(pipeline), -1) {
		if !regexp.MustCompile(`(?m)^` + m[1] + `=`).Match(b) {
			t.Errorf("etl.env.example lacks %s, which the pipeline reads", m[1])
		}
	}
	if !strings.Contains(string(b), "-o etl -g etl -m 600") {
		t.Error("etl.env.example does not say to install it mode 600, owned by etl")
	}
}

// TestDockerfile checks the image: a Go builder as new as go.mod asks, a
// static binary, a distroless or scratch base, a non-root user. With a
// usable docker, it builds the image and runs `etl version` in it.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) != 2 || goVersion == nil || froms[0][1] != "golang:"+string(goVersion[1]) {
		t.Errorf("stages %q: want golang:%s (go.mod's go line) then the runtime image", froms, goVersion)
	} else if base := froms[1][1]; base != "scratch" && !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("runtime image %s: want scratch or distroless/static", base)
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) != 1 || strings.HasPrefix(users[0][1], "0") || strings.HasPrefix(users[0][1], "root") {
		t.Errorf("USER %q: want one non-root user", users)
	}
	if !strings.Contains(df, "CGO_ENABLED=0 go build") {
		t.Error("the binary is not built with CGO_ENABLED=0: it would not run on distroless/static")
	}

	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("docker is not installed: the image is not built")
	}
	if out, err := exec.Command(docker, "info").CombinedOutput(); err != nil {
		t.Skipf("docker is not usable (%v: %s): the image is not built", err, lastLine(out))
	}
	if testing.Short() {
		t.Skip("-short: the image is not built")
	}
	tag := "etl-deploy-test:" + time.Now().Format("20060102150405")
	build := exec.Command(docker, "build", "-f", "deploy/Dockerfile", "-t", tag, "--build-arg", "VERSION=v0.0.0-dockertest", ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	defer exec.Command(docker, "rmi", tag).Run()
	out, err := exec.Command(docker, "run", "--rm", tag, "--output", "json", "version").Output()
	var v struct{ Version string }
	if err != nil || json.Unmarshal(out, &v) != nil || v.Version != "v0.0.0-dockertest" {
		t.Errorf("etl version in the image: %v\n%s", err, out)
	}
	out, err = exec.Command(docker, "run", "--rm", "--entrypoint", "/usr/local/bin/etl", tag, "validate", "/etc/etl/backfill.hcl").CombinedOutput()
	if err != nil {
		t.Errorf("etl validate in the image: %v\n%s", err, out)
	}
	out, _ = exec.Command(docker, "image", "inspect", "-f", "{{.Config.User}}", tag).Output()
	if u := strings.TrimSpace(string(out)); u == "" || u == "0" || u == "root" {
		t.Errorf("the image runs as %q, want a non-root user", u)
	}
}

// lastLine is where docker info says what is wrong.
func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	return s[strings.LastIndexByte(s, '\n')+1:]
}
