package http

import (
	"net/http"
	"time"

	"github.com/guarantor/guarantor"
)

// TallyOf and Median expose the pure aggregation of the fulfilment record
// to the black-box tests.
var (
	TallyOf = tally
	Median  = median
)

// WithClock sets the server's clock, which signed requests and the write
// limit are checked against.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithWriteAddrs sets how many client addresses the write limiter
// tracks at most (after WithWriteLimit).
func WithWriteAddrs(n int) Option { return func(s *Server) { s.writes.max = n } }

// WriteAddrs returns how many client addresses the write limiter tracks.
func WriteAddrs(s *Server) int { return s.writes.tracked() }

// Admits reports whether a admits a key of role making r, as authorize
// decides.
func Admits(a Access, role guarantor.Role, r *http.Request) bool { return a.allows(role, r) }
