package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/registry"
	"golang.org/x/mod/sumdb/note"
)

// Signed requests. Endpoints that are not public are called with
//
//	Authorization: Guarantor-Note <base64 of a signed note>
//
// whose text is two lines, like a log entry but never logged:
//
//	guarantor.v1/request
//	{"method":"GET","path":"/v1/blobs/…","at":"2026-11-24T05:00:00Z"}
//
// signed by one key registered in the log. The server checks the
// signature against the key registry, that the key is neither revoked nor
// outside its validity window now, that method and path are this
// request's, and that "at" is within MaxRequestSkew of its clock. A
// captured header is thus good for one method and path for minutes, which
// is acceptable for reads and for uploads whose body is named by its own
// hash. No password or token is stored anywhere.

// AuthScheme is the Authorization scheme of signed requests.
const AuthScheme = "Guarantor-Note"

// MaxRequestSkew is how far a signed request's time may be from the
// server's clock.
const MaxRequestSkew = 5 * time.Minute

// requestBody is the body of a signed request note. BodySHA256, the
// hex SHA-256 of the request's body, binds the signature to that body:
// routes whose body decides what happens (a webhook's URL) require it, so
// that a captured header cannot be replayed with another body.
type requestBody struct {
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	At         time.Time `json:"at"`
	BodySHA256 string    `json:"body_sha256,omitempty"`
}

// SignRequest returns the Authorization header value for a request by
// signer.
func SignRequest(signer note.Signer, method, path string, at time.Time) (string, error) {
	return signRequest(signer, requestBody{Method: method, Path: path, At: at.UTC().Truncate(time.Second)})
}

// SignRequestBody is SignRequest bound to the request's body as well.
func SignRequestBody(signer note.Signer, method, path string, at time.Time, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	return signRequest(signer, requestBody{Method: method, Path: path, At: at.UTC().Truncate(time.Second), BodySHA256: hex.EncodeToString(sum[:])})
}

func signRequest(signer note.Signer, rb requestBody) (string, error) {
	b, err := json.Marshal(rb)
	if err != nil {
		return "", err
	}
	msg, err := note.Sign(&note.Note{Text: entry.Prefix + "request\n" + string(b) + "\n"}, signer)
	if err != nil {
		return "", err
	}
	return AuthScheme + " " + base64.StdEncoding.EncodeToString(msg), nil
}

// caller is who made a signed request.
type caller struct {
	ID   string
	Role guarantor.Role
	// BodySHA256 is the body digest the request note names, if any.
	BodySHA256 string
}

// checkBody reads the request body (at most limit bytes) and checks it
// against the digest the caller's note names, which it requires.
func checkBody(c *caller, body []byte) error {
	if c.BodySHA256 == "" {
		return guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "this request's note must name its body's SHA-256 (body_sha256), so that the signature covers the body")
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != c.BodySHA256 {
		return guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "the request note names another body (body_sha256 does not match)")
	}
	return nil
}

// authenticate checks the request's signature. It returns nil, nil for a
// request that carries none.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, b64, ok := strings.Cut(h, " ")
	if !ok || scheme != AuthScheme {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "use the %s scheme: a base64 signed note naming this method and path", AuthScheme)
	}
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "not base64: %v", err)
	}
	var c *caller
	var verr error
	now := s.now()
	s.node.Registry(func(reg *registry.Registry) {
		c, verr = checkRequestNote(reg, msg, r.Method, r.URL.Path, now)
	})
	return c, verr
}

func checkRequestNote(reg *registry.Registry, msg []byte, method, path string, now time.Time) (*caller, error) {
	n, err := note.Open(msg, reg)
	if err != nil || len(n.UnverifiedSigs) > 0 || len(n.Sigs) != 1 {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "the request note must carry exactly one signature, by a registered key, that verifies")
	}
	head, rest, _ := strings.Cut(n.Text, "\n")
	if head != entry.Prefix+"request" {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "the request note's first line must be %q", entry.Prefix+"request")
	}
	var b requestBody
	dec := json.NewDecoder(bytes.NewReader([]byte(rest)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "the request note's body: %v", err)
	}
	if b.Method != method || b.Path != path {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "the request note is for %s %s, not %s %s", b.Method, b.Path, method, path)
	}
	if d := now.Sub(b.At); d > MaxRequestSkew || d < -MaxRequestSkew {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "the request note's time %s is more than %s from the server's %s", b.At.Format(time.RFC3339), MaxRequestSkew, now.UTC().Format(time.RFC3339))
	}
	sig := n.Sigs[0]
	id := entry.KeyID(sig.Name, sig.Hash)
	if v := reg.Authority(); sig.Name == v.Name() && sig.Hash == v.KeyHash() {
		return &caller{ID: id, Role: "authority", BodySHA256: b.BodySHA256}, nil
	}
	k, ok := reg.Key(id)
	if !ok {
		return nil, errors.New("registry lost a key it verified")
	}
	// A revoked or expired key authenticates no one: 401, like an
	// unknown key, not 403, which says who the caller is.
	if k.Revoked != nil && !now.Before(k.Revoked.Effective) {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "key %s is revoked", id)
	}
	if now.Before(k.NotBefore) || now.After(k.NotAfter) {
		return nil, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "key %s is valid from %s to %s, not now", id, k.NotBefore.Format(time.RFC3339), k.NotAfter.Format(time.RFC3339))
	}
	return &caller{ID: id, Role: k.Role, BodySHA256: b.BodySHA256}, nil
}

// requireRole returns the caller, whom authorize authenticated already
// on a route that is not public, or else authenticates the request, and
// checks the caller's role is allowed. It writes the problem and returns
// nil if not.
func (s *Server) requireRole(w http.ResponseWriter, r *http.Request, allowed func(guarantor.Role) bool, what string) *caller {
	c, _ := r.Context().Value(callerKey{}).(*caller)
	if c == nil {
		var err error
		if c, err = s.authenticate(r); err != nil {
			s.problem(w, r, err)
			return nil
		}
	}
	if c == nil {
		w.Header().Set("WWW-Authenticate", AuthScheme)
		s.problem(w, r, guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "%s needs a signed request (%s)", what, AuthScheme))
		return nil
	}
	if !allowed(c.Role) {
		s.problem(w, r, guarantor.Errorf(guarantor.EForbidden, "Authorization", "key %s has role %s, which may not %s", c.ID, c.Role, what))
		return nil
	}
	return c
}

func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
