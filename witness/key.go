package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// LoadOrCreateKey reads the witness's Ed25519 signer key from path, or
// generates one named name and writes it there (mode 0600) if there is
// none. It returns the cosignature/v1 signer and its verifier key, the
// one to put in witness policies.
func LoadOrCreateKey(path, name string) (note.Signer, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, _, gerr := note.GenerateKey(rand.Reader, name)
		if gerr != nil {
			return nil, "", fmt.Errorf("generate witness key: %w", gerr)
		}
		f, oerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if oerr != nil {
			return nil, "", fmt.Errorf("create witness key: %w", oerr)
		}
		_, werr := f.WriteString(skey + "\n")
		if werr == nil {
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, "", fmt.Errorf("write witness key %s: %w", path, werr)
		}
		b, err = []byte(skey), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read witness key: %w", err)
	}
	return CosignerFromKey(strings.TrimSpace(string(b)))
}

// CosignerFromKey returns the cosignature/v1 signer for an Ed25519
// signed-note signer key, and its cosignature/v1 verifier key.
func CosignerFromKey(skey string) (note.Signer, string, error) {
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		return nil, "", fmt.Errorf("witness key: %w", err)
	}
	// The verifier key is the Ed25519 public key under algorithm 0x04.
	parts := strings.SplitN(skey, "+", 5)
	seed, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(seed) != 1+ed25519.SeedSize || seed[0] != 1 {
		return nil, "", errors.New("witness key: not an Ed25519 signer key")
	}
	pk := ed25519.NewKeyFromSeed(seed[1:]).Public().(ed25519.PublicKey)
	pub, err := note.NewEd25519VerifierKey(s.Name(), pk)
	if err != nil {
		return nil, "", fmt.Errorf("witness key: %w", err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(pub)
	if err != nil {
		return nil, "", fmt.Errorf("witness key: %w", err)
	}
	return s, vkey, nil
}
