package http

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/guarantor/guarantor"
	"golang.org/x/time/rate"
)

// Request limits: every route's body is capped (Route.MaxBody), and the
// public write routes are rate limited per client address
// (Route.WriteLimited, WithWriteLimit).

// DefaultMaxBody is the body limit of the routes whose Route.MaxBody is
// 0: those that take no body or a small one.
const DefaultMaxBody = 64 << 10

// BlobStoreLimit as a Route's MaxBody stands for the evidence store's own
// limit (blob.Store.MaxSize, set by WithBlobs).
const BlobStoreLimit = -1

// limitBody refuses with 413 a request that declares a body over limit
// bytes, and caps the body of any other at limit: a handler reading past
// it gets an *http.MaxBytesError, which it answers with 413 too.
func (s *Server) limitBody(pattern string, limit int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			s.problem(w, r, guarantor.Errorf(guarantor.ETooLarge, "", "the body is %d bytes; %s takes at most %d", r.ContentLength, pattern, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

// The default write limit (WithWriteLimit): far above what one client
// of the mission sends, a load generator's 2,000 entries a second
// included, so that only a flood is refused.
const (
	DefaultWriteRate  = 5000
	DefaultWriteBurst = 10000
)

// maxWriteAddrs is how many client addresses the write limiter tracks at
// most.
const maxWriteAddrs = 1 << 16

// WithWriteLimit rate-limits the public write routes (those whose Route
// is WriteLimited) per client address: each address has a token bucket
// of burst requests, refilled at perSecond a second, and a request when
// it is empty gets 429 with Retry-After. Optional; the default is
// DefaultWriteRate a second with a burst of DefaultWriteBurst. perSecond
// 0 (or less) means unlimited; a burst below 1 is 1.
//
// The address is the connection's (RemoteAddr), unless it is a trusted
// proxy (WithTrustedProxies): then it is the client's address the
// proxies forwarded.
func WithWriteLimit(perSecond float64, burst int) Option {
	return func(s *Server) { s.writes = newWriteLimiter(perSecond, burst) }
}

// writeLimiter holds a token bucket per client address. A bucket that
// has filled up again is forgotten, since a new one is the same: memory
// grows with the addresses active within one refill time, up to
// maxWriteAddrs.
type writeLimiter struct {
	limit  rate.Limit
	burst  int
	refill time.Duration // how long an empty bucket takes to fill
	max    int           // addresses tracked at most

	mu    sync.Mutex
	addrs map[string]*rate.Limiter
	swept time.Time
}

// newWriteLimiter returns a limiter of burst requests refilled at
// perSecond a second, or nil (unlimited) when perSecond is not positive.
func newWriteLimiter(perSecond float64, burst int) *writeLimiter {
	if perSecond <= 0 || math.IsNaN(perSecond) {
		return nil
	}
	burst = max(burst, 1)
	return &writeLimiter{
		limit:  rate.Limit(perSecond),
		burst:  burst,
		refill: time.Duration(min(float64(burst)/perSecond, 24*60*60) * float64(time.Second)),
		max:    maxWriteAddrs,
		addrs:  map[string]*rate.Limiter{},
	}
}

// allow takes a token from addr's bucket at now, or reports how long
// until one is there.
func (l *writeLimiter) allow(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	lim, ok := l.addrs[addr]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.addrs[addr] = lim
	}
	if lim.AllowN(now, 1) {
		return true, 0
	}
	return false, time.Duration((1 - lim.TokensAt(now)) / float64(l.limit) * float64(time.Second))
}

// sweep forgets, once per refill time or when too many addresses are
// tracked, the addresses whose bucket is full again. If too many remain,
// it forgets arbitrary ones down to three quarters of the most (they
// start again with a full bucket).
func (l *writeLimiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.refill && len(l.addrs) < l.max {
		return
	}
	l.swept = now
	for a, lim := range l.addrs {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.addrs, a)
		}
	}
	for a := range l.addrs {
		if len(l.addrs) <= l.max*3/4 {
			break
		}
		delete(l.addrs, a)
	}
}

// tracked returns how many addresses the limiter holds a bucket for.
func (l *writeLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}

// limitWrites refuses with 429 a request from an address whose bucket
// is empty.
func (s *Server) limitWrites(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.writes.allow(s.clientAddr(r), s.now())
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.problem(w, r, guarantor.Errorf(guarantor.ERateLimited, "", "too many writes from this address; retry in %d s", secs))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// WithTrustedProxies names the reverse proxies whose X-Forwarded-For the
// per-address limits (WithWriteLimit, WithTestimony) believe. When the
// connection comes from one of nets, the client is the right-most
// X-Forwarded-For address that is not itself in nets: entries to its
// left are the client's own word and may be forged. Without it, or for
// any other peer, the client is the connection's address.
func WithTrustedProxies(nets []netip.Prefix) Option {
	return func(s *Server) {
		s.proxies = make([]netip.Prefix, len(nets))
		for i, n := range nets {
			s.proxies[i] = n.Masked()
		}
	}
}

// clientAddr is the address rate limits count by: the host of the
// request's connection or, if that is a trusted proxy, the client's
// address it forwarded (WithTrustedProxies). A malformed
// X-Forwarded-For counts as the proxy's own request.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trustedProxy(peer) {
		return host
	}
	hops, ok := forwardedFor(r.Header.Values("X-Forwarded-For"))
	if !ok || len(hops) == 0 {
		return host
	}
	for i := len(hops) - 1; i > 0; i-- {
		if !s.trustedProxy(hops[i]) {
			return hops[i].String()
		}
	}
	return hops[0].String() // all trusted: the left-most is the client
}

// trustedProxy reports whether a is in one of the trusted proxies' nets.
func (s *Server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor parses X-Forwarded-For header lines, in order, into the
// addresses they list, left to right. An entry may carry a port; ok is
// false if any entry is not an address.
func forwardedFor(lines []string) (hops []netip.Addr, ok bool) {
	for _, line := range lines {
		for e := range strings.SplitSeq(line, ",") {
			e = strings.TrimSpace(e)
			a, err := netip.ParseAddr(e)
			if err != nil {
				ap, perr := netip.ParseAddrPort(e)
				if perr != nil {
					return nil, false
				}
				a = ap.Addr()
			}
			hops = append(hops, a.Unmap())
		}
	}
	return hops, true
}
