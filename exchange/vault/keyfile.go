package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/guarantor/guarantor/internal/atomicfile"
)

// keyFileHeader starts every key file written by this package. The
// format is described in the package documentation; parse errors name
// the line but never repeat its content.
const keyFileHeader = `# guarantor vault keys: one "<id> <base64 32-byte key>" per line.
# The first key seals new records; the others only open older ones.
# To rotate: guarantor adds a new first line (vault.RotateKeyFile); rewrap
# every record, then delete the old line. Keep this file mode 0600 and
# back it up: records whose key is lost cannot be recovered.
`

// maxKeyFile bounds the size of a key file or variable.
const maxKeyFile = 1 << 20

// ParseKeys parses the text of a key file (see the package documentation)
// and returns its keys, the active key first. Its errors name lines but
// never quote them.
func ParseKeys(text []byte) ([]Key, error) {
	return parseKeys(text, "\n", "key text")
}

func parseKeys(text []byte, seps, source string) ([]Key, error) {
	if len(text) > maxKeyFile {
		return nil, fmt.Errorf("vault: %s is larger than %d bytes: %w", source, maxKeyFile, ErrMalformed)
	}
	var keys []Key
	s := string(text)
	lineNo, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && strings.IndexByte(seps, s[i]) < 0 {
			continue
		}
		line := s[start:i]
		start = i + 1
		lineNo++
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("vault: %s line %d: %w", source, lineNo, err)
		}
		for j, prev := range keys {
			if prev.id == k.id {
				return nil, fmt.Errorf("vault: %s line %d: key id %q repeats key %d: %w", source, lineNo, k.id, j+1, ErrMalformed)
			}
			if bytes.Equal(prev.bytes(), k.bytes()) {
				return nil, fmt.Errorf("vault: %s line %d: key %q has the same secret as key %q: %w", source, lineNo, k.id, prev.id, ErrMalformed)
			}
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("vault: %s holds no key: %w", source, ErrMalformed)
	}
	return keys, nil
}

// parseKeyLine parses "<id> <base64>". Its errors never quote the line.
func parseKeyLine(line string) (Key, error) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return Key{}, fmt.Errorf("want two fields, \"<id> <base64 key>\", found %d: %w", len(f), ErrMalformed)
	}
	if !validID(f[0]) {
		return Key{}, fmt.Errorf("key id must be 1 to %d characters of A-Z a-z 0-9 . _ -: %w", MaxKeyIDLen, ErrMalformed)
	}
	var secret [KeySize]byte
	defer clear(secret[:])
	if len(f[1]) != base64.StdEncoding.EncodedLen(KeySize) {
		return Key{}, fmt.Errorf("key %q: want 32 bytes in padded standard base64 (44 characters), found %d characters: %w", f[0], len(f[1]), ErrMalformed)
	}
	// Decode into a buffer with room to spare (base64 may write past
	// the decoded length when checking padding).
	var buf [KeySize + 3]byte
	defer clear(buf[:])
	n, err := base64.StdEncoding.Decode(buf[:], []byte(f[1]))
	if err != nil || n != KeySize {
		return Key{}, fmt.Errorf("key %q: not 32 bytes in padded standard base64: %w", f[0], ErrMalformed)
	}
	copy(secret[:], buf[:n])
	return NewKey(f[0], secret[:])
}

// formatKeys writes keys in the key file format, after the header.
func formatKeys(keys []Key) []byte {
	var b bytes.Buffer
	b.WriteString(keyFileHeader)
	for _, k := range keys {
		b.WriteString(k.id)
		b.WriteByte(' ')
		b.WriteString(base64.StdEncoding.EncodeToString(k.bytes()))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ReadKeyFile reads the keys of a key file, the active key first. The file
// must not be readable or writable by group or others.
func ReadKeyFile(path string) ([]Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vault: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("vault: key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vault: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("vault: key file %s has mode %04o and is open to group or others; fix with: chmod 600 %s", path, perm, path)
	}
	text, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("vault: read key file %s: %w", path, err)
	}
	defer clear(text)
	return parseKeys(text, "\n", "key file "+path)
}

// ReadKeyEnv reads the keys held by the environment variable name, in the
// key file format; keys may be separated by newlines or ';'.
func ReadKeyEnv(name string) ([]Key, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("vault: environment variable %s is not set or empty", name)
	}
	return parseKeys([]byte(v), "\n;", "environment variable "+name)
}

// LoadFile returns the ring of a key file: its first key active, the
// others for opening only. See [ReadKeyFile].
func LoadFile(path string) (*Ring, error) {
	keys, err := ReadKeyFile(path)
	if err != nil {
		return nil, err
	}
	return NewRing(keys[0], keys[1:]...)
}

// LoadEnv returns the ring held by the environment variable name. See
// [ReadKeyEnv].
func LoadEnv(name string) (*Ring, error) {
	keys, err := ReadKeyEnv(name)
	if err != nil {
		return nil, err
	}
	return NewRing(keys[0], keys[1:]...)
}

// GenerateKeyFile writes a new key file at path, mode 0600, holding one new
// random key, and returns the key's id. It refuses to overwrite a file.
func GenerateKeyFile(path string) (id string, err error) {
	k := GenerateKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("vault: key file %s already exists; choose another path, or use RotateKeyFile to add a key", path)
	}
	if err != nil {
		return "", fmt.Errorf("vault: create key file: %w", err)
	}
	text := formatKeys([]Key{k})
	defer clear(text)
	_, err = f.Write(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("vault: write key file %s: %w", path, err)
	}
	return k.id, nil
}

// RotateKeyFile adds a new random key to the key file at path as its
// active key, keeps the other keys for opening, and returns the new key's
// id. The file is replaced atomically, mode 0600; its comments are
// rewritten.
func RotateKeyFile(path string) (id string, err error) {
	keys, err := ReadKeyFile(path)
	if err != nil {
		return "", err
	}
	k := GenerateKey()
	text := formatKeys(append([]Key{k}, keys...))
	defer clear(text)
	if err := atomicfile.Write(path, text, 0o600); err != nil {
		return "", fmt.Errorf("vault: rotate key file: %w", err)
	}
	return k.id, nil
}

// WriteKeyFile replaces the key file at path with ring's keys, the active
// one first (mode 0600, atomically): after re-wrapping, it retires the
// keys a ring no longer holds.
func WriteKeyFile(path string, ring *Ring) error {
	text := formatKeys(ring.Keys())
	defer clear(text)
	if err := atomicfile.Write(path, text, 0o600); err != nil {
		return fmt.Errorf("vault: write key file: %w", err)
	}
	return nil
}
