package http

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/guarantor/guarantor"
)

// Problem is an RFC 9457 problem details object, with two extension
// members: the machine-readable code and the field at fault.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
}

// ProblemType returns the type URI of a problem with the given code.
func ProblemType(code string) string { return "urn:guarantor:problem:" + code }

// StatusOf maps an error code to its HTTP status. It is the only place
// where that mapping lives.
func StatusOf(code string) int {
	switch code {
	case guarantor.EInvalid, guarantor.EUnsupported:
		return http.StatusBadRequest
	case guarantor.EUnauthorized, guarantor.EForbidden, guarantor.EUnknownKey, guarantor.ERevoked, guarantor.EOutOfWindow:
		return http.StatusForbidden
	case guarantor.EUnauthenticated:
		return http.StatusUnauthorized
	case guarantor.ENotFound:
		return http.StatusNotFound
	case guarantor.EConflict:
		return http.StatusConflict
	case guarantor.ETooEarly:
		return http.StatusTooEarly
	case guarantor.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case guarantor.EUnavailable:
		return http.StatusServiceUnavailable
	case guarantor.ERateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// problem writes err as application/problem+json.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problemOf(r, err)
	if w.Header().Get("Retry-After") == "" { // unless the caller knows better
		switch p.Status {
		case http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", "1")
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "600")
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problemOf turns err into a problem. Internal errors are logged and
// described without their detail.
func (s *Server) problemOf(r *http.Request, err error) Problem {
	p := Problem{Code: guarantor.EInternal, Detail: "internal error; it has been logged", Instance: r.URL.Path}
	var ge *guarantor.Error
	if errors.As(err, &ge) {
		p.Code, p.Field, p.Detail = ge.Code, ge.Field, ge.Error()
	}
	if p.Code == guarantor.EInternal {
		s.logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.Status = StatusOf(p.Code)
	p.Type = ProblemType(p.Code)
	p.Title = http.StatusText(p.Status)
	return p
}
