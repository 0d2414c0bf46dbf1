package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// assets are the embedded static files, served under
// /static/<hash>/<file>, where hash is a digest of every file: a page
// names the current hash, so browsers may cache a file forever and still
// fetch it anew after an upgrade. One hash for the whole tree keeps the
// relative URLs inside stylesheets (Leaflet's images/) working.
type assets struct {
	hash  string
	files map[string]*asset
}

// asset is one static file.
type asset struct {
	body        []byte
	etag        string
	contentType string
	gzipOnce    sync.Once
	gzipped     []byte // nil when compressing does not pay
}

// loadAssets reads every file under dir of fsys.
func loadAssets(fsys fs.FS, dir string) (*assets, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	a := &assets{files: map[string]*asset{}}
	tree := sha256.New()
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(tree, "%s %x\n", name, sum)
		a.files[name] = &asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: contentType(name)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read static files: %w", err)
	}
	a.hash = hex.EncodeToString(tree.Sum(nil)[:6])
	return a, nil
}

// contentType is the media type of a static file by its name.
func contentType(name string) string {
	switch ext := path.Ext(name); ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json"
	case ".md":
		return "text/markdown; charset=utf-8"
	case "":
		return "text/plain; charset=utf-8" // LICENSE
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
		return "application/octet-stream"
	}
}

// url returns the URL of the static file name, or an error for a name
// that is not embedded, so that a template naming a missing file fails
// the tests.
func (a *assets) url(name string) (string, error) {
	if a.files[name] == nil {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + a.hash + "/" + name, nil
}

// ServeHTTP serves GET /static/{hash}/{file...}. Under the current hash
// the answer is immutable; under another (a page from before an upgrade)
// it is the current file, to be revalidated.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := a.files[r.PathValue("file")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if r.PathValue("hash") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz := f.gzip(); gz != nil && r.Header.Get("Range") == "" && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", fmt.Sprint(len(gz)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(gz)
		}
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// gzip returns the file compressed, made on first use, or nil for a file
// that is small or already compressed.
func (f *asset) gzip() []byte {
	f.gzipOnce.Do(func() {
		if len(f.body) < 1024 || strings.HasPrefix(f.contentType, "image/") {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		_ = zw.Close()
		if buf.Len() < len(f.body)*9/10 {
			f.gzipped = buf.Bytes()
		}
	})
	return f.gzipped
}

// acceptsGzip reports whether the request accepts a gzip answer.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
