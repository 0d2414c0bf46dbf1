package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/guarantor/guarantor"
)

// Authorisation. Each Route's Allow says who may call it; NewServer
// enforces the role part in one middleware before the handler runs, and
// the handlers keep what only they can check (who owns a webhook, whose
// list an exchange list is, whether a blob is restricted).

// Access is who may call a route. The zero Access is public: anyone may
// call the route, signed or not, and only the handler decides (by an
// entry's own signatures, or a blob's restriction).
type Access struct {
	// Roles, if any, make the route need a signed request (AuthScheme)
	// by a key valid now whose role is one of them. Each is a fixed role
	// ("monitor"); "party:*" or "guarantor:*", any party's or guarantor's
	// key; "party:{name}" or "guarantor:{name}", the one the path
	// wildcard {name} names; or "authority", the mission authority's key.
	Roles []guarantor.Role
	// Note says what the handler checks beyond the role (ownership,
	// restricted content, a body covered by the signature) or what the
	// route serves. It is documentation only.
	Note string
}

// Anyone is public access; note says what the route serves or what its
// handler decides.
func Anyone(note string) Access { return Access{Note: note} }

// Signed is access by a signed request of a key of one of roles (see
// Access.Roles); note says what the handler checks beyond the role.
func Signed(note string, roles ...guarantor.Role) Access {
	return Access{Roles: roles, Note: note}
}

// Public reports whether anyone may call the route.
func (a Access) Public() bool { return len(a.Roles) == 0 }

// authorityRole is the role a request signed by the mission authority's
// key has; the authority's key is not in the registry as any other role.
const authorityRole guarantor.Role = "authority"

// allows reports whether a key of role may make r.
func (a Access) allows(role guarantor.Role, r *http.Request) bool {
	for _, want := range a.Roles {
		kind, name, _ := strings.Cut(string(want), ":")
		switch {
		case want == role:
			return true
		case name == "*":
			if strings.HasPrefix(string(role), kind+":") {
				return true
			}
		case strings.HasPrefix(name, "{"):
			if v := r.PathValue(strings.Trim(name, "{}")); v != "" && string(role) == kind+":"+v {
				return true
			}
		}
	}
	return false
}

// callers describes the roles in words: "a monitor, sensor or operator
// key", "a verifier or party:{side} key or the authority".
func (a Access) callers() string {
	var names []string
	authority := false
	for _, r := range a.Roles {
		switch kind, name, _ := strings.Cut(string(r), ":"); {
		case r == authorityRole:
			authority = true
		case name == "*":
			names = append(names, kind)
		default:
			names = append(names, string(r))
		}
	}
	if len(names) == 0 {
		return "the authority"
	}
	s := names[0]
	if len(names) > 1 {
		s = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	}
	article := "a "
	if strings.ContainsRune("aeiou", rune(s[0])) {
		article = "an "
	}
	s = article + s + " key"
	if authority {
		s += " or the authority"
	}
	return s
}

// check panics unless every role of a is of a form Access.Roles allows
// and every wildcard it names is one of pattern's.
func (a Access) check(pattern string) {
	for _, r := range a.Roles {
		kind, name, bound := strings.Cut(string(r), ":")
		switch {
		case r == authorityRole:
		case !bound:
			if _, err := guarantor.ParseRole(string(r)); err != nil {
				panic(fmt.Sprintf("http: route %s: %v", pattern, err))
			}
		case kind != "party" && kind != "guarantor":
			panic(fmt.Sprintf("http: route %s: role %q is neither a party's nor a guarantor's", pattern, r))
		case name == "*":
		case strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}") && strings.Contains(pattern, name):
		default:
			panic(fmt.Sprintf("http: route %s: role %q must end in :* or name one of the route's wildcards", pattern, r))
		}
	}
}

// Who says in words who may call the route, from Allow and WriteLimited:
// the description README and the OpenAPI document follow.
func (rt Route) Who() string {
	s := "anyone"
	if !rt.Allow.Public() {
		s = "signed request by " + rt.Allow.callers()
	}
	if rt.WriteLimited {
		s += ", rate limited per address"
	}
	if rt.Allow.Note != "" {
		s += "; " + rt.Allow.Note
	}
	return s
}

// callerKey is the context key under which authorize passes the caller on.
type callerKey struct{}

// authorize serves h to the callers rt.Allow admits. A public route is
// served as is. Otherwise a request without a valid signed request (no
// or a malformed Authorization header, a note for another method, path
// or time, a key unknown, revoked or outside its validity window) gets
// 401, one by a key of a role not admitted 403; the caller reaches the
// handler in the request's context, for its finer checks.
func (s *Server) authorize(rt Route, h http.Handler) http.Handler {
	if rt.Allow.Public() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r)
		if err == nil && c == nil {
			err = guarantor.Errorf(guarantor.EUnauthenticated, "Authorization", "%s needs a signed request (%s) by %s", rt.Pattern, AuthScheme, rt.Allow.callers())
		}
		if err != nil {
			if ge := (*guarantor.Error)(nil); errors.As(err, &ge) && ge.Code == guarantor.EUnauthenticated {
				w.Header().Set("WWW-Authenticate", AuthScheme)
			}
			s.problem(w, r, err)
			return
		}
		if !rt.Allow.allows(c.Role, r) {
			s.problem(w, r, guarantor.Errorf(guarantor.EForbidden, "Authorization", "key %s has role %s; %s is for %s", c.ID, c.Role, rt.Pattern, rt.Allow.callers()))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}
