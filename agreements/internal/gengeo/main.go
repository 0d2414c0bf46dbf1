// Command gengeo writes the generated geometry into the shipped agreement
// files: for every file that package geom draws for, it replaces the
// geometry line of each drawn zone and line (see geom.Fill) and rewrites
// the file if anything changed. Run it from the agreements directory
// (go generate does):
//
//	go run ./internal/gengeo [-dir .]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/guarantor/guarantor/agreements/internal/geom"
)

func main() {
	dir := flag.String("dir", ".", "directory holding the agreement YAML files")
	flag.Parse()
	for _, name := range slices.Sorted(maps.Keys(geom.Specs)) {
		path := filepath.Join(*dir, name)
		old, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		out, err := geom.Fill(name, old)
		if err != nil {
			fail(err)
		}
		if bytes.Equal(old, out) {
			continue
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			fail(err)
		}
		fmt.Println("gengeo: wrote", path)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gengeo:", err)
	os.Exit(1)
}
