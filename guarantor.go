// Package guarantor holds the domain vocabulary shared by every part of the
// system: roles, the error type that carries a machine-readable code and the
// field at fault, and the receipt a client keeps as proof that its entry is in
// the log. It performs no I/O.
package guarantor

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in package http.
const (
	EInvalid         = "invalid"         // malformed input or a schema violation
	EUnauthorized    = "unauthorized"    // a signature is missing, malformed or does not verify
	EUnauthenticated = "unauthenticated" // a request needs a valid signed-request header
	EForbidden       = "forbidden"       // the signer is known but may not make this entry now
	EConflict        = "conflict"        // the entry contradicts one already logged
	ETooEarly        = "too_early"       // the entry depends on one not yet integrated
	ETooLarge        = "too_large"       // the entry exceeds the size limit
	ENotFound        = "not_found"       // no such entry or resource
	EUnavailable     = "unavailable"     // overloaded or shutting down; retry later
	ERateLimited     = "rate_limited"    // too many requests from this client; retry later
	EInternal        = "internal"        // a fault of the server, never of the input
	EUnsupported     = "unsupported"     // the media type or kind is not accepted here
	EUnknownKey      = "unknown_key"     // the signer is not in the key registry
	ERevoked         = "revoked"         // the signer's key was revoked
	EOutOfWindow     = "out_of_window"   // the entry's time is outside the key's validity window
)

// Error is the one error type that crosses package boundaries when the
// caller must branch on what went wrong. Field names the offending input,
// as a JSON pointer into the entry body ("/location/coordinates") or a
// name such as "signature", when there is one.
type Error struct {
	Code    string
	Field   string
	Message string
	Err     error // optional underlying cause
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and field and a formatted message.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
