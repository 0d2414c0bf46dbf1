package http

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/blob"
)

// Option configures a Server.
type Option func(*Server)

// WithBlobs serves the evidence store under /v1/blobs/.
func WithBlobs(b *blob.Store) Option { return func(s *Server) { s.blobs = b } }

// uploaders may store evidence: the mission's observing keys and operators.
func uploaders(r guarantor.Role) bool {
	return r.Observes() || r == guarantor.RoleOperator
}

// restrictedReaders may read restricted evidence: mission staff, the
// neutral verifier and the authority. The uploader may always read its own.
func restrictedReaders(r guarantor.Role) bool {
	return r == guarantor.RoleMonitor || r == guarantor.RoleAnalyst || r == guarantor.RoleOperator ||
		r == guarantor.RoleVerifier || r == "authority"
}

// handlePutBlob serves PUT /v1/blobs/{sha256}: a signed request by an
// uploader; the body must hash to the name. Guarantor-Restricted: true
// marks the blob restricted.
func (s *Server) handlePutBlob(w http.ResponseWriter, r *http.Request) {
	if s.blobs == nil {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "", "this server keeps no evidence store"))
		return
	}
	c := s.requireRole(w, r, uploaders, "store evidence")
	if c == nil {
		return
	}
	restricted := r.Header.Get("Guarantor-Restricted") == "true"
	// NewServer caps the body at the store's limit.
	body := &readErr{r: r.Body}
	m, created, err := s.blobs.Put(r.Context(), r.PathValue("sha256"), body, r.Header.Get("Content-Type"), restricted, c.ID)
	if tooBig := (*http.MaxBytesError)(nil); errors.As(body.err, &tooBig) {
		s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "blobs are at most %d bytes", s.blobs.MaxSize()))
		return
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/blobs/"+m.SHA256)
	writeJSON(w, status, m)
}

// handleGetBlob serves GET /v1/blobs/{sha256}: anyone for public blobs,
// restricted readers and the uploader for restricted ones.
func (s *Server) handleGetBlob(w http.ResponseWriter, r *http.Request) {
	if s.blobs == nil {
		s.problem(w, r, guarantor.Errorf(guarantor.ENotFound, "", "this server keeps no evidence store"))
		return
	}
	m, err := s.blobs.Stat(r.Context(), r.PathValue("sha256"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if m.Restricted {
		c := s.requireRole(w, r, func(role guarantor.Role) bool { return true }, "read restricted evidence")
		if c == nil {
			return
		}
		if c.ID != m.Uploader && !restrictedReaders(c.Role) {
			s.problem(w, r, guarantor.Errorf(guarantor.EForbidden, "Authorization", "key %s has role %s, which may not read restricted evidence", c.ID, c.Role))
			return
		}
		w.Header().Set("Cache-Control", "private, no-store")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	_, f, err := s.blobs.Open(r.Context(), m.SHA256)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", m.MediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("ETag", `"`+m.SHA256+`"`)
	w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, f)
}

// readErr remembers the error its reader returned, which blob.Store.Put
// describes without wrapping: an oversize body is told from a broken one.
type readErr struct {
	r   io.Reader
	err error
}

func (b *readErr) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}
