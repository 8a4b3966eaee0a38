package pipetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Discover returns the test files under paths: a file is taken as it is,
// a directory is searched recursively for *.etltest.hcl files (beside a
// pipeline, or under a tests/ folder next to it). No path means ".".
func Discover(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), Suffix) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// ForPipeline returns the test files that test the pipeline at path: those
// beside it and under tests/ next to it that name it.
func ForPipeline(path string) []string {
	dir := filepath.Dir(path)
	want, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range []string{dir, filepath.Join(dir, "tests")} {
		matches, _ := filepath.Glob(filepath.Join(d, "*"+Suffix))
		for _, m := range matches {
			f, diags := ParseFile(m)
			if f == nil || diags.HasErrors() && f.Pipeline == "" {
				out = append(out, m) // let the caller report why it does not parse
				continue
			}
			if abs, err := filepath.Abs(f.Pipeline); err == nil && abs == want {
				out = append(out, m)
			}
		}
	}
	return out
}
