// Package keyfile reads and writes note signing keys as files: one line
// holding the standard private key string of golang.org/x/mod/sumdb/note
// (PRIVATE+KEY+name+hash+base64), mode 0600.
package keyfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Generate creates a new Ed25519 note key named name, writes its private
// key to path (refusing to overwrite an existing file) and returns the
// verifier key string.
func Generate(path, name string) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("generate key %q: %w", name, err)
	}
	if err := Write(path, skey); err != nil {
		return "", err
	}
	return vkey, nil
}

// Write stores skey at path with mode 0600, refusing to overwrite.
func Write(path, skey string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key file %s already exists; choose another path or remove it first", path)
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync key file %s: %w", path, err)
	}
	return f.Close()
}

// Signer reads the private key at path and returns its signer.
func Signer(path string) (note.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("key file %s does not hold a note private key (PRIVATE+KEY+name+hash+key): %w", path, err)
	}
	return s, nil
}

// VerifierKey returns the verifier key string for the private key string skey.
func VerifierKey(skey string) (string, error) {
	// PRIVATE+KEY+name+hash+base64(alg||seed)
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("not a note private key")
	}
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return "", err
	}
	return vkeyOf(s, parts[4])
}

// VerifierKeyOfFile returns the verifier key string for the key at path.
func VerifierKeyOfFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	return VerifierKey(string(b))
}
