package vault_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/guarantor/guarantor/exchange/vault"
)

// secretRecord is a plaintext distinctive enough to search for in errors.
const secretRecord = `{"family":"Zhyvotovska","given":"Oleksandra","born":"1987-04-19","note":"SECRET-PLAINTEXT-7f3a"}`

func mustKey(tb testing.TB, id string, fill byte) vault.Key {
	tb.Helper()
	k, err := vault.NewKey(id, bytes.Repeat([]byte{fill}, vault.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustRing(tb testing.TB, active vault.Key, old ...vault.Key) *vault.Ring {
	tb.Helper()
	r, err := vault.NewRing(active, old...)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestSealOpen(t *testing.T) {
	r := mustRing(t, vault.GenerateKey())
	for _, size := range []int{0, 1, 15, 16, 17, 1024, 1 << 16} {
		pt := bytes.Repeat([]byte{0xa5}, size)
		aad := []byte(fmt.Sprintf("detainee/%d", size))
		s, err := r.Seal(pt, aad)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.KeyID(), r.ActiveID(); got != want {
			t.Errorf("KeyID() = %q, want %q", got, want)
		}
		got, err := r.Open(s, aad)
		if err != nil {
			t.Fatalf("size %d: Open: %v", size, err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("size %d: Open returned other bytes", size)
		}
		if _, err := r.Open(s, []byte("detainee/other")); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("size %d: Open with other aad: got %v, want ErrDecrypt", size, err)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	r := mustRing(t, vault.GenerateKey())
	a, _ := r.Seal([]byte(secretRecord), nil)
	b, _ := r.Seal([]byte(secretRecord), nil)
	ab, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	if bytes.Equal(ab, bb) {
		t.Error("two seals of the same record are equal")
	}
	if bytes.Contains(ab, []byte("SECRET")) {
		t.Error("sealed bytes contain the plaintext")
	}
}

// TestRowSwap checks that a ciphertext moved to another row does not open
// there when the aad binds the row.
func TestRowSwap(t *testing.T) {
	r := mustRing(t, vault.GenerateKey())
	a, _ := r.Seal([]byte("alice"), []byte("detainees/1"))
	if _, err := r.Open(a, []byte("detainees/2")); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("got %v, want ErrDecrypt", err)
	}
	if _, err := r.Open(a, []byte("guards/1")); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("got %v, want ErrDecrypt", err)
	}
}

func TestRotation(t *testing.T) {
	k1, k2 := mustKey(t, "k1", 1), mustKey(t, "k2", 2)
	r1 := mustRing(t, k1)
	aad := []byte("detainees/42")
	s1, err := r1.Seal([]byte(secretRecord), aad)
	if err != nil {
		t.Fatal(err)
	}

	r2, err := r1.Rotate(k2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(r2.IDs(), ","), "k2,k1"; got != want {
		t.Errorf("IDs() = %s, want %s", got, want)
	}
	if !r2.NeedsRewrap(s1) {
		t.Error("NeedsRewrap(s1) = false after rotation, want true")
	}
	if r1.NeedsRewrap(s1) {
		t.Error("rotation changed the old ring")
	}
	// Old records still open with the old key kept for decryption.
	if _, err := r2.Open(s1, aad); err != nil {
		t.Fatalf("Open before rewrap: %v", err)
	}

	s2, err := r2.Rewrap(s1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s2.KeyID(), "k2"; got != want {
		t.Errorf("rewrapped KeyID() = %q, want %q", got, want)
	}
	if r2.NeedsRewrap(s2) {
		t.Error("NeedsRewrap after Rewrap = true")
	}
	// The record ciphertext is carried over untouched.
	b1, _ := s1.MarshalBinary()
	b2, _ := s2.MarshalBinary()
	if !bytes.Equal(b1[len(b1)-len(secretRecord)-28:], b2[len(b2)-len(secretRecord)-28:]) {
		t.Error("Rewrap changed the record ciphertext")
	}
	// Rewrap of a current record is a no-op.
	s3, err := r2.Rewrap(s2)
	if err != nil {
		t.Fatal(err)
	}
	if b3, _ := s3.MarshalBinary(); !bytes.Equal(b2, b3) {
		t.Error("Rewrap of a current record changed it")
	}

	r3, err := r2.Retire("k1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r3.Open(s2, aad)
	if err != nil {
		t.Fatalf("Open after rewrap and retiring k1: %v", err)
	}
	if string(got) != secretRecord {
		t.Error("Open after rewrap returned other bytes")
	}

	// Without rewrap, a retired key makes Open fail, naming the key.
	_, err = r3.Open(s1, aad)
	var uk *vault.UnknownKeyError
	if !errors.As(err, &uk) || uk.ID != "k1" {
		t.Fatalf("Open of an unrewrapped record: got %v, want UnknownKeyError{k1}", err)
	}
	if !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("error %q does not name key k1", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %q contains the plaintext", err)
	}
	if _, err := r3.Rewrap(s1); !errors.As(err, &uk) {
		t.Errorf("Rewrap of an unrewrapped record: got %v, want UnknownKeyError", err)
	}
}

func TestRingRules(t *testing.T) {
	k1, k2 := mustKey(t, "k1", 1), mustKey(t, "k2", 2)
	r := mustRing(t, k1, k2)
	if _, err := r.Retire("k1"); err == nil {
		t.Error("Retire(active) succeeded")
	}
	if _, err := r.Retire("k9"); err == nil {
		t.Error("Retire(unknown) succeeded")
	}
	if _, err := vault.NewRing(k1, mustKey(t, "k1", 3)); err == nil {
		t.Error("NewRing with a repeated id succeeded")
	}
	if _, err := vault.NewRing(k1, mustKey(t, "k3", 1)); err == nil {
		t.Error("NewRing with a repeated secret succeeded")
	}
	if _, err := vault.NewRing(vault.Key{}); err == nil {
		t.Error("NewRing with a zero Key succeeded")
	}
	if _, err := r.Rotate(k2); err == nil {
		t.Error("Rotate to a key already in the ring succeeded")
	}
	for _, id := range []string{"", "a b", "é", strings.Repeat("x", 65), "k=="} {
		if _, err := vault.NewKey(id, make([]byte, 32)); err == nil {
			t.Errorf("NewKey(%q) succeeded", id)
		}
	}
	if _, err := vault.NewKey("ok", make([]byte, 16)); err == nil {
		t.Error("NewKey with a 16-byte key succeeded")
	}

	var nilRing *vault.Ring
	if _, err := nilRing.Seal(nil, nil); err == nil {
		t.Error("Seal on a nil ring succeeded")
	}
	if _, err := nilRing.Open(vault.Sealed{}, nil); err == nil {
		t.Error("Open on a nil ring succeeded")
	}
	if nilRing.NeedsRewrap(vault.Sealed{}) || nilRing.ActiveID() != "" || nilRing.IDs() != nil {
		t.Error("nil ring reports keys")
	}
	if _, err := r.Open(vault.Sealed{}, nil); !errors.Is(err, vault.ErrMalformed) {
		t.Errorf("Open(zero Sealed): got %v, want ErrMalformed", err)
	}
	if r.NeedsRewrap(vault.Sealed{}) {
		t.Error("NeedsRewrap(zero Sealed) = true")
	}
}

// TestWrongKeySameID checks that a different key under a known id fails
// authentication instead of decrypting garbage.
func TestWrongKeySameID(t *testing.T) {
	s, _ := mustRing(t, mustKey(t, "k1", 1)).Seal([]byte(secretRecord), nil)
	_, err := mustRing(t, mustKey(t, "k1", 9)).Open(s, nil)
	if !errors.Is(err, vault.ErrDecrypt) {
		t.Fatalf("got %v, want ErrDecrypt", err)
	}
}

func TestTamper(t *testing.T) {
	r := mustRing(t, mustKey(t, "k1", 1))
	s, _ := r.Seal([]byte(secretRecord), []byte("aad"))
	b, _ := s.MarshalBinary()
	for i := range b {
		for _, bit := range []byte{0x01, 0x80} {
			c := bytes.Clone(b)
			c[i] ^= bit
			p, err := vault.ParseSealed(c)
			if err != nil {
				continue
			}
			if _, err := r.Open(p, []byte("aad")); err == nil {
				t.Fatalf("flipping bit %#x of byte %d still opens", bit, i)
			}
		}
	}
	for n := 0; n < len(b); n++ {
		p, err := vault.ParseSealed(b[:n])
		if err != nil {
			continue
		}
		if _, err := r.Open(p, []byte("aad")); err == nil {
			t.Fatalf("truncation to %d bytes still opens", n)
		}
	}
}

func TestParseSealed(t *testing.T) {
	r := mustRing(t, mustKey(t, "k1", 1))
	s, _ := r.Seal([]byte("x"), nil)
	good, _ := s.MarshalBinary()
	p, err := vault.ParseSealed(good)
	if err != nil {
		t.Fatal(err)
	}
	if pb, _ := p.MarshalBinary(); !bytes.Equal(pb, good) {
		t.Error("ParseSealed/MarshalBinary does not round-trip")
	}
	var u vault.Sealed
	if err := u.UnmarshalBinary(good); err != nil || u.KeyID() != "k1" {
		t.Errorf("UnmarshalBinary: %v, key %q", err, u.KeyID())
	}
	if got := s.String(); got != fmt.Sprintf("vault.Sealed(key k1, %d bytes)", len(good)) {
		t.Errorf("String() = %q", got)
	}

	bad := map[string][]byte{
		"empty":        nil,
		"one byte":     {1},
		"version 0":    append([]byte{0}, good[1:]...),
		"version 2":    append([]byte{2}, good[1:]...),
		"id length 0":  append([]byte{1, 0}, good[2:]...),
		"id length 65": append([]byte{1, 65}, good[2:]...),
		"id too long":  append([]byte{1, 200}, good[2:]...),
		"bad id":       append([]byte{1, 2, 'k', ' '}, good[4:]...),
		"short":        good[:len(good)-2],
	}
	for name, b := range bad {
		if _, err := vault.ParseSealed(b); !errors.Is(err, vault.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	if _, err := (vault.Sealed{}).MarshalBinary(); err == nil {
		t.Error("MarshalBinary of a zero Sealed succeeded")
	}
	// ParseSealed copies its input.
	c := bytes.Clone(good)
	p, _ = vault.ParseSealed(c)
	clear(c)
	if _, err := r.Open(p, nil); err != nil {
		t.Errorf("ParseSealed aliases its input: %v", err)
	}
}

func writeFile(tb testing.TB, dir, text string, perm os.FileMode) string {
	tb.Helper()
	path := filepath.Join(dir, "vault.keys")
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.keys")
	id1, err := vault.GenerateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("key file mode %04o, want 0600", got)
	}
	if _, err := vault.GenerateKeyFile(path); err == nil {
		t.Error("GenerateKeyFile overwrote a file")
	}
	r1, err := vault.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r1.ActiveID() != id1 {
		t.Errorf("ActiveID() = %q, want %q", r1.ActiveID(), id1)
	}
	s, _ := r1.Seal([]byte(secretRecord), nil)

	id2, err := vault.RotateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := vault.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(r2.IDs(), " "), id2+" "+id1; got != want {
		t.Errorf("after RotateKeyFile IDs() = %s, want %s", got, want)
	}
	if _, err := r2.Open(s, nil); err != nil {
		t.Errorf("Open after RotateKeyFile: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("rotated key file mode %04o, want 0600", fi.Mode().Perm())
	}
}

func TestKeyFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	text := "k1 " + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		path := writeFile(t, t.TempDir(), text, perm)
		_, err := vault.LoadFile(path)
		if err == nil {
			t.Errorf("mode %04o: LoadFile succeeded", perm)
			continue
		}
		if want := "chmod 600 " + path; !strings.Contains(err.Error(), want) {
			t.Errorf("mode %04o: error %q does not say %q", perm, err, want)
		}
	}
	for _, perm := range []os.FileMode{0o600, 0o400} {
		if _, err := vault.LoadFile(writeFile(t, t.TempDir(), text, perm)); err != nil {
			t.Errorf("mode %04o: %v", perm, err)
		}
	}
	if _, err := vault.LoadFile(t.TempDir()); err == nil {
		t.Error("LoadFile of a directory succeeded")
	}
	if _, err := vault.LoadFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}

func TestParseKeys(t *testing.T) {
	k := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	good := "# comment\n\n  new-2025.03 " + k(2) + "  \r\nold_1\t" + k(1) + "\n"
	keys, err := vault.ParseKeys([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID() != "new-2025.03" || keys[1].ID() != "old_1" || !bytes.Equal(keys[1].Secret(), bytes.Repeat([]byte{1}, 32)) {
		t.Errorf("ParseKeys = %v", keys)
	}

	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "", "no key"},
		{"comments only", "# x\n", "no key"},
		{"one field", k(1), "line 1: want two fields"},
		{"three fields", "k1 " + k(1) + " x", "line 1: want two fields"},
		{"swapped", k(1) + " k1", "line 1: key id must be"},
		{"bad id", "k/1 " + k(1), "line 1: key id must be"},
		{"short key", "k1 " + base64.StdEncoding.EncodeToString(make([]byte, 16)), "line 1: key \"k1\": want 32 bytes"},
		{"raw base64", "k1 " + base64.RawStdEncoding.EncodeToString(make([]byte, 32)), "want 32 bytes"},
		{"not base64", "k1 " + strings.Repeat("!", 43) + "=", "not 32 bytes"},
		{"repeated id", "k1 " + k(1) + "\n#\nk1 " + k(2), "line 3: key id \"k1\" repeats"},
		{"repeated secret", "k1 " + k(1) + "\nk2 " + k(1), "line 2: key \"k2\" has the same secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vault.ParseKeys([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, vault.ErrMalformed) {
				t.Fatalf("got %v, want an ErrMalformed containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), k(1)) || strings.Contains(err.Error(), k(1)[:20]) {
				t.Errorf("error %q quotes a key", err)
			}
		})
	}
}

func TestLoadEnv(t *testing.T) {
	k1, k2 := mustKey(t, "k1", 1), mustKey(t, "k2", 2)
	line := func(k vault.Key) string { return k.ID() + " " + base64.StdEncoding.EncodeToString(k.Secret()) }
	t.Setenv("GUARANTOR_TEST_VAULT_KEYS", line(k2)+";"+line(k1))
	r, err := vault.LoadEnv("GUARANTOR_TEST_VAULT_KEYS")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.IDs(), ","); got != "k2,k1" {
		t.Errorf("IDs() = %s, want k2,k1", got)
	}
	t.Setenv("GUARANTOR_TEST_VAULT_KEYS", line(k1)+"\n"+line(k2)+"\n")
	if r, err := vault.LoadEnv("GUARANTOR_TEST_VAULT_KEYS"); err != nil || r.ActiveID() != "k1" {
		t.Errorf("newline-separated: %v, active %q", err, r.ActiveID())
	}
	t.Setenv("GUARANTOR_TEST_VAULT_KEYS", "k1 x;k2 "+base64.StdEncoding.EncodeToString(k2.Secret()))
	if _, err := vault.LoadEnv("GUARANTOR_TEST_VAULT_KEYS"); err == nil || !strings.Contains(err.Error(), "environment variable GUARANTOR_TEST_VAULT_KEYS line 1") {
		t.Errorf("got %v, want an error naming the variable and entry 1", err)
	}
	if _, err := vault.LoadEnv("GUARANTOR_TEST_VAULT_UNSET"); err == nil || !strings.Contains(err.Error(), "GUARANTOR_TEST_VAULT_UNSET is not set") {
		t.Errorf("unset variable: got %v", err)
	}
}

// TestPrintingHidesSecrets prints keys and rings every way a log line
// might, and looks for the key bytes.
func TestPrintingHidesSecrets(t *testing.T) {
	k := mustKey(t, "k1", 0xab)
	r := mustRing(t, k)
	var buf bytes.Buffer
	type holder struct {
		key  vault.Key
		ring *vault.Ring
		Key  vault.Key
		Ring *vault.Ring
	}
	h := holder{k, r, k, r}
	for _, v := range []any{k, &k, r, h, &h} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			fmt.Fprintf(&buf, verb+"\n", v)
		}
	}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", k, "ring", r, "h", h)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", k, "ring", r, "h", h)
	out := buf.String()
	for _, enc := range []string{
		hex.EncodeToString(k.Secret()), strings.ToUpper(hex.EncodeToString(k.Secret())),
		base64.StdEncoding.EncodeToString(k.Secret())[:40], "171 171 171", "0xab, 0xab", "253 253", "\xab\xab",
	} {
		if strings.Contains(out, enc) {
			t.Errorf("printed output contains the key as %q:\n%s", enc, out)
		}
	}
	if got, want := fmt.Sprint(r), "vault.Ring[k1]"; got != want {
		t.Errorf("fmt.Sprint(ring) = %q, want %q", got, want)
	}
}

// TestErrorsLeakNothing provokes every error path of the package with a
// distinctive plaintext and keys, and checks no error quotes them.
func TestErrorsLeakNothing(t *testing.T) {
	k1, k2, kx := mustKey(t, "k1", 0x11), mustKey(t, "k2", 0x22), mustKey(t, "k1", 0x33)
	aad := []byte("detainees/SECRET-AAD-991")
	r1 := mustRing(t, k1)
	s, err := r1.Seal([]byte(secretRecord), aad)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := s.MarshalBinary()
	r2 := mustRing(t, k2)
	var errs []error
	add := func(_ any, err error) { errs = append(errs, err) }

	add(r1.Open(s, []byte("other")))                        // wrong aad
	add(mustRing(t, kx).Open(s, aad))                       // wrong key, same id
	add(r2.Open(s, aad))                                    // unknown key
	add(r2.Rewrap(s))                                       // unknown key
	add(mustRing(t, kx).Rewrap(s))                          // wrong key, same id
	add(r1.Open(vault.Sealed{}, aad))                       // empty
	add(r1.Rewrap(vault.Sealed{}))                          // empty
	add((*vault.Ring)(nil).Open(s, aad))                    // nil ring
	add((*vault.Ring)(nil).Seal([]byte(secretRecord), aad)) // nil ring
	add(r1.Retire("k1"))
	add(r1.Retire("k2"))
	add(vault.NewRing(k1, k1))
	add(vault.NewRing(k1, mustKey(t, "k9", 0x11)))
	add(vault.NewKey("k1", []byte(secretRecord)))
	add(vault.NewKey(secretRecord, k1.Secret()))
	add(vault.NewKey(base64.StdEncoding.EncodeToString(k1.Secret()), k1.Secret()))
	add((vault.Sealed{}).MarshalBinary())
	for i := range sb {
		c := bytes.Clone(sb)
		c[i] ^= 0x40
		p, err := vault.ParseSealed(c)
		if err != nil {
			add(nil, err)
			continue
		}
		add(r1.Open(p, aad))
	}
	for n := range len(sb) {
		add(vault.ParseSealed(sb[:n]))
	}
	line := func(k vault.Key) string { return k.ID() + " " + base64.StdEncoding.EncodeToString(k.Secret()) }
	for _, text := range []string{
		base64.StdEncoding.EncodeToString(k1.Secret()),
		base64.StdEncoding.EncodeToString(k1.Secret()) + " k1",
		line(k1) + " extra",
		line(k1) + "\n" + line(k1),
		line(k1) + "\n" + "k9 " + base64.StdEncoding.EncodeToString(k1.Secret()),
		"k1 " + base64.StdEncoding.EncodeToString(k1.Secret())[:43],
		"k1 " + base64.StdEncoding.EncodeToString(k1.Secret())[1:] + "A",
		secretRecord,
		"k1 " + secretRecord,
	} {
		add(vault.ParseKeys([]byte(text)))
		if runtime.GOOS != "windows" {
			add(vault.LoadFile(writeFile(t, t.TempDir(), text, 0o600)))
			add(vault.LoadFile(writeFile(t, t.TempDir(), text, 0o644)))
		}
		t.Setenv("GUARANTOR_TEST_VAULT_KEYS", text)
		add(vault.LoadEnv("GUARANTOR_TEST_VAULT_KEYS"))
	}

	forbidden := []string{
		secretRecord, "SECRET", "Zhyvotovska", "1987-04-19",
	}
	for _, k := range []vault.Key{k1, k2, kx} {
		forbidden = append(forbidden,
			hex.EncodeToString(k.Secret())[:16],
			base64.StdEncoding.EncodeToString(k.Secret())[:16],
			string(k.Secret()[:8]))
	}
	n := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		n++
		for _, f := range forbidden {
			if strings.Contains(err.Error(), f) {
				t.Errorf("error %q contains %q", err, f)
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d error paths provoked", n)
	}
}

// TestConcurrent seals and opens from many goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	r := mustRing(t, mustKey(t, "k2", 2), mustKey(t, "k1", 1))
	old, _ := mustRing(t, mustKey(t, "k1", 1)).Seal([]byte("old"), nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				aad := []byte(fmt.Sprintf("%d/%d", g, i))
				s, err := r.Seal(aad, aad)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := r.Open(s, aad); err != nil || !bytes.Equal(got, aad) {
					t.Errorf("Open: %v", err)
					return
				}
				if _, err := r.Rewrap(old); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
