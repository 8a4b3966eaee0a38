package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/etlhq/etl/etl"
)

var update = flag.Bool("update", false, "rewrite the plugin reference in README.md")

// TestREADMEPluginReference keeps the README's plugin reference equal to
// what `etl plugins NAME` prints for each plugin compiled into etl.
func TestREADMEPluginReference(t *testing.T) {
	readme := filepath.Join("..", "..", "..", "README.md")
	src, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- plugins:begin -->\n", "<!-- plugins:end -->"
	i, j := bytes.Index(src, []byte(begin)), bytes.Index(src, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", begin, end)
	}
	var ref bytes.Buffer
	for _, p := range etl.Default.Plugins() {
		var out bytes.Buffer
		describePlugin(&app{stdout: &out}, p)
		ref.WriteString("```\n" + out.String() + "```\n\n")
	}
	want := append(append(append([]byte{}, src[:i+len(begin)]...), ref.Bytes()...), src[j:]...)
	if *update {
		if err := os.WriteFile(readme, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(src, want) {
		t.Error("README.md's plugin reference is out of date: go test ./cmd/etl/cli -run README -update")
	}
}
