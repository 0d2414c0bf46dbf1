package names

import "bytes"

// FastPathAgrees reports whether Key's fast path for plain ASCII and
// Cyrillic text, when it applies to s, agrees with the general one.
func FastPathAgrees(s string) bool {
	fast, ok := flatFast(s)
	return !ok || bytes.Equal(fast, flatFull(s))
}
