package c2spcheck

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportsNothingOfGuarantor keeps the checker honest: it may use the
// standard library and golang.org/x/mod only.
func TestImportsNothingOfGuarantor(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.Contains(p, ".") && !strings.HasPrefix(p, "golang.org/x/mod/") {
				t.Errorf("%s imports %s; the outside checker may use only the standard library and golang.org/x/mod", f, p)
			}
		}
	}
}

func TestTileIndex(t *testing.T) {
	for n, want := range map[int64]string{0: "000", 7: "007", 999: "999", 1000: "x001/000", 1234067: "x001/x234/067"} {
		if got := tileIndex(n); got != want {
			t.Errorf("tileIndex(%d) = %q, want %q", n, got, want)
		}
	}
}
