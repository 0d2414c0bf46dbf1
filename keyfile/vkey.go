package keyfile

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"

	"golang.org/x/mod/sumdb/note"
)

// vkeyOf derives the Ed25519 verifier key of signer s from the base64
// key field of its private key string (algorithm byte, then the seed).
func vkeyOf(s note.Signer, b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("not an Ed25519 note private key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(s.Name(), pub)
}
