// Package blob is the content-addressed evidence store: photos, satellite
// image chips, sensor traces. A blob is named by the SHA-256 of its bytes,
// which observations carry in the log; the bytes themselves stay off the
// log, in DIR/<aa>/<sha256> with a small JSON sidecar of metadata. Writes
// go through a synced temporary file and a rename, so a blob is either
// wholly present, with its metadata, or absent.
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/internal/atomicfile"
)

// Meta describes a stored blob.
type Meta struct {
	SHA256     string `json:"sha256"`
	MediaType  string `json:"media_type"`
	Size       int64  `json:"size"`
	Restricted bool   `json:"restricted"`
	Uploader   string `json:"uploader"` // name+hash of the key that uploaded it
}

// MediaTypes are the accepted media types. Each must agree with what the
// bytes look like (see compatible).
var MediaTypes = []string{
	"image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff",
	"video/mp4", "audio/wave", "audio/mpeg", "application/pdf",
	"text/plain", "text/csv", "application/json", "application/geo+json",
	"application/octet-stream",
}

var shaName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Store is a blob store in a directory. It is safe for concurrent use.
type Store struct {
	dir     string
	maxSize int64
}

// Open opens (creating) the store in dir; blobs are at most maxSize bytes.
func Open(dir string, maxSize int64) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", dir, err)
	}
	return &Store{dir: dir, maxSize: maxSize}, nil
}

// MaxSize returns the size limit.
func (s *Store) MaxSize() int64 { return s.maxSize }

func (s *Store) path(sha string) string { return filepath.Join(s.dir, sha[:2], sha) }

// Has reports whether the blob is stored.
func (s *Store) Has(ctx context.Context, sha string) (bool, error) {
	if !shaName.MatchString(sha) {
		return false, nil
	}
	_, err := os.Stat(s.path(sha) + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Stat returns the blob's metadata, or a not_found error.
func (s *Store) Stat(ctx context.Context, sha string) (Meta, error) {
	var m Meta
	if !shaName.MatchString(sha) {
		return m, guarantor.Errorf(guarantor.EInvalid, "sha256", "%q is not a lower-case hex SHA-256", sha)
	}
	b, err := os.ReadFile(s.path(sha) + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return m, guarantor.Errorf(guarantor.ENotFound, "sha256", "no blob %s", sha)
	}
	if err != nil {
		return m, fmt.Errorf("blob: read metadata: %w", err)
	}
	return m, json.Unmarshal(b, &m)
}

// Open returns the blob's bytes; the caller closes them.
func (s *Store) Open(ctx context.Context, sha string) (Meta, *os.File, error) {
	m, err := s.Stat(ctx, sha)
	if err != nil {
		return m, nil, err
	}
	f, err := os.Open(s.path(sha))
	if err != nil {
		return m, nil, fmt.Errorf("blob: open %s: %w", sha, err)
	}
	return m, f, nil
}

// Put stores the bytes read from r as the blob sha, declared of mediaType.
// The bytes must hash to sha, fit the size limit and look like the
// declared type. Storing a blob that exists already changes nothing and
// reports created false. Errors are *guarantor.Error naming the field.
func (s *Store) Put(ctx context.Context, sha string, r io.Reader, mediaType string, restricted bool, uploader string) (Meta, bool, error) {
	if !shaName.MatchString(sha) {
		return Meta{}, false, guarantor.Errorf(guarantor.EInvalid, "sha256", "%q is not a lower-case hex SHA-256", sha)
	}
	mt, _, err := mime.ParseMediaType(mediaType)
	if err != nil || !contains(MediaTypes, mt) {
		return Meta{}, false, guarantor.Errorf(guarantor.EUnsupported, "Content-Type", "media type %q is not accepted; use one of %s", mediaType, strings.Join(MediaTypes, ", "))
	}
	if m, err := s.Stat(ctx, sha); err == nil {
		return m, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(s.path(sha)), 0o755); err != nil {
		return Meta{}, false, fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path(sha)), ".upload-*")
	if err != nil {
		return Meta{}, false, fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(tmp, h, &limitedBuffer{&head, 512}), io.LimitReader(r, s.maxSize+1))
	if err != nil {
		return Meta{}, false, guarantor.Errorf(guarantor.EInvalid, "", "cannot read the blob: %v", err)
	}
	if n > s.maxSize {
		return Meta{}, false, guarantor.Errorf(guarantor.ETooLarge, "", "blobs are at most %d bytes", s.maxSize)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return Meta{}, false, guarantor.Errorf(guarantor.EInvalid, "sha256", "the body hashes to %s, not %s", got, sha)
	}
	if !compatible(mt, head.Bytes()) {
		return Meta{}, false, guarantor.Errorf(guarantor.EUnsupported, "Content-Type", "the bytes look like %s, not %s", http.DetectContentType(head.Bytes()), mt)
	}
	if err := tmp.Sync(); err != nil {
		return Meta{}, false, fmt.Errorf("blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Meta{}, false, fmt.Errorf("blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path(sha)); err != nil {
		return Meta{}, false, fmt.Errorf("blob: %w", err)
	}
	m := Meta{SHA256: sha, MediaType: mt, Size: n, Restricted: restricted, Uploader: uploader}
	b, _ := json.Marshal(m)
	// The metadata file is written last: its presence means the blob is whole.
	if err := atomicfile.Write(s.path(sha)+".json", b, 0o644); err != nil {
		return Meta{}, false, fmt.Errorf("blob: %w", err)
	}
	return m, true, nil
}

// compatible reports whether bytes beginning with head may be of type mt.
func compatible(mt string, head []byte) bool {
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	switch mt {
	case "image/tiff":
		return bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*"))
	case "text/plain", "text/csv", "application/json", "application/geo+json":
		return sniffed == "text/plain"
	case "audio/wave":
		return sniffed == "audio/wave"
	case "application/octet-stream":
		return true // sensor traces: raw bytes, whatever they resemble
	}
	return sniffed == mt
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
