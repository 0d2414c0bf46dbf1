package vault_test

import (
	"crypto/sha256"
	"testing"

	"github.com/guarantor/guarantor/exchange/vault"
)

// The benchmarks seal and open a 1 KiB record; BenchmarkBaselineSHA256
// hashes the same bytes once, as a yardstick for the machine.

func benchRecord() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func BenchmarkSeal1KiB(b *testing.B) {
	r, _ := vault.NewRing(vault.GenerateKey())
	pt, aad := benchRecord(), []byte("detainees/12345")
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Seal(pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1KiB(b *testing.B) {
	r, _ := vault.NewRing(vault.GenerateKey())
	pt, aad := benchRecord(), []byte("detainees/12345")
	s, _ := r.Seal(pt, aad)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Open(s, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRewrap1KiB(b *testing.B) {
	old, new := vault.GenerateKey(), vault.GenerateKey()
	r1, _ := vault.NewRing(old)
	r2, _ := vault.NewRing(new, old)
	s, _ := r1.Seal(benchRecord(), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r2.Rewrap(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineSHA256(b *testing.B) {
	pt := benchRecord()
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(pt)
	}
}
