package postgres

import (
	"encoding/json"
	"strings"
)

// escape returns s as a text column holds it. PostgreSQL text cannot hold
// NUL, which a logged body may carry, so NUL is stored as "\x01\x01" and
// "\x01" as "\x01\x02". The code words are prefix-free and ordered as
// the bytes they stand for, so byte order (COLLATE "C") and equality are
// those of the original strings; unescape undoes it.
func escape(s string) string {
	if !strings.ContainsAny(s, "\x00\x01") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b.WriteString("\x01\x01")
		case 1:
			b.WriteString("\x01\x02")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescape returns the string escape turned into s. A "\x01" not
// followed by "\x01" or "\x02" (which escape never writes) is kept.
func unescape(s string) string {
	i := strings.IndexByte(s, 1)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == 1 && i+1 < len(s) && (s[i+1] == 1 || s[i+1] == 2) {
			b.WriteByte(s[i+1] - 1)
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// dbArgs returns args as they are sent: strings escaped, and negative zero
// made positive, as SQLite stores it (so that both stores read back and
// export the same value).
func dbArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = escape(v)
		case float64:
			args[i] = plusZero(v)
		}
	}
	return args
}

// decodeSigners reads the JSON array of an entry's signers.
func decodeSigners(js string) ([]string, error) {
	var out []string
	err := json.Unmarshal([]byte(js), &out)
	return out, err
}
