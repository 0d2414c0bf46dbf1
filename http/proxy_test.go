package http

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestTrustedProxyClientAddr checks the address the per-address limits
// count by: X-Forwarded-For only from a trusted peer, walked from the
// right past trusted proxies, and the proxy's own address when the
// header is malformed.
func TestTrustedProxyClientAddr(t *testing.T) {
	trusted := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("fd00::/8"),
	}
	for _, c := range []struct {
		name    string
		proxies []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies trusted", nil, "10.0.0.1:4000", []string{"203.0.113.9"}, "10.0.0.1"},
		{"untrusted peer's header ignored", trusted, "198.51.100.4:4000", []string{"203.0.113.9"}, "198.51.100.4"},
		{"trusted peer", trusted, "10.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"trusted peer without header", trusted, "10.0.0.1:4000", nil, "10.0.0.1"},
		{"chained trusted proxies", trusted, "10.0.0.1:4000", []string{"203.0.113.9, 192.168.1.7, 10.2.3.4"}, "203.0.113.9"},
		{"chain over header lines", trusted, "10.0.0.1:4000", []string{"203.0.113.9", "10.2.3.4"}, "203.0.113.9"},
		{"spoofed left-most entries ignored", trusted, "10.0.0.1:4000", []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, "203.0.113.9"},
		{"spoofed trusted entry ignored", trusted, "10.0.0.1:4000", []string{"10.9.9.9, 203.0.113.9, 10.2.3.4"}, "203.0.113.9"},
		{"all trusted: left-most", trusted, "10.0.0.1:4000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"entry with port", trusted, "10.0.0.1:4000", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"malformed header", trusted, "10.0.0.1:4000", []string{"203.0.113.9, not-an-ip"}, "10.0.0.1"},
		{"empty entry", trusted, "10.0.0.1:4000", []string{"203.0.113.9,,10.2.3.4"}, "10.0.0.1"},
		{"IPv6 client via IPv6 proxy", trusted, "[fd00::1]:4000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv6 chain with spoof", trusted, "[fd00::1]:4000", []string{"2001:db8::bad, 2001:db8::5, fd12::9"}, "2001:db8::5"},
		{"bracketed IPv6 with port", trusted, "10.0.0.1:4000", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"untrusted IPv6 peer", trusted, "[2001:db8::1]:4000", []string{"203.0.113.9"}, "2001:db8::1"},
		{"IPv4-mapped trusted peer", trusted, "[::ffff:10.0.0.1]:4000", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{}
			WithTrustedProxies(c.proxies)(s)
			r := httptest.NewRequest("POST", "/v1/entries", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != c.want {
				t.Errorf("clientAddr = %q, want %q", got, c.want)
			}
		})
	}
}
