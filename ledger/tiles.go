package ledger

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
)

// tilePath matches the canonical C2SP tlog-tiles resource paths: hash
// tiles "tile/<L>/<N>[.p/<W>]" and entry bundles "tile/entries/<N>[.p/<W>]",
// with N written in groups of three digits, all but the last prefixed "x".
var tilePath = regexp.MustCompile(`^tile/(entries|[0-9]|[1-5][0-9]|6[0-3])/((?:x[0-9]{3}/)*[0-9]{3})(\.p/([1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))?$`)

// TileHandler serves the log's public files exactly as C2SP tlog-tiles
// lays them out: GET checkpoint and GET tile/... relative to the handler's
// root (mount it with http.StripPrefix). Full tiles and bundles never
// change, so they are served as immutable; the checkpoint and partial
// tiles may be replaced and are served uncached. Nothing else in the log
// directory (Tessera's .state) is reachable.
//
// Anyone may call it: the log is public by design.
func TileHandler(dir string) http.Handler {
	return resourceHandler(func(_ context.Context, p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	})
}

// ReaderHandler serves the same resources as TileHandler, read through r
// (a log kept in a database). Anyone may call it.
func ReaderHandler(r tessera.LogReader) http.Handler {
	return resourceHandler(func(ctx context.Context, p string) ([]byte, error) {
		if p == "checkpoint" {
			return r.ReadCheckpoint(ctx)
		}
		rest := strings.TrimPrefix(p, "tile/")
		level, index, _ := strings.Cut(rest, "/")
		if level == "entries" {
			i, w, err := layout.ParseTileIndexPartial(index)
			if err != nil {
				return nil, fs.ErrNotExist
			}
			return r.ReadEntryBundle(ctx, i, w)
		}
		l, i, w, err := layout.ParseTileLevelIndexPartial(level, index)
		if err != nil {
			return nil, fs.ErrNotExist
		}
		return r.ReadTile(ctx, l, i, w)
	})
}

// resourceHandler serves the tlog-tiles resources that read returns by
// their path: it checks the path, sets the caching headers, and maps a
// missing resource to 404.
func resourceHandler(read func(ctx context.Context, path string) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		switch {
		case p == "checkpoint":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
		case tilePath.MatchString(p):
			w.Header().Set("Content-Type", "application/octet-stream")
			if m := tilePath.FindStringSubmatch(p); m[3] == "" {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "public, max-age=60")
			}
		default:
			http.NotFound(w, r)
			return
		}
		b, err := read(r.Context(), p)
		if errors.Is(err, fs.ErrNotExist) {
			w.Header().Del("Cache-Control")
			http.NotFound(w, r)
			return
		}
		if err != nil {
			w.Header().Del("Cache-Control")
			http.Error(w, "cannot read log resource", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	})
}
