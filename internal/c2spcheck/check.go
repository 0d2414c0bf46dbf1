// Package c2spcheck is an outside checker of a guarantor log written
// against the public formats alone: C2SP tlog-tiles, tlog-checkpoint and
// signed-note, with nothing but the standard library and
// golang.org/x/mod. It deliberately imports no guarantor package (a test
// enforces it), so that passing it shows a stranger to the code base can
// audit the log.
package c2spcheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Result summarises a successful check.
type Result struct {
	Size   int64
	Root   tlog.Hash
	Keys   int
	ByKind map[string]int
}

// Check fetches the checkpoint and every entry bundle from baseURL (the
// tlog-tiles prefix, e.g. http://host/log), verifies the checkpoint with
// logVKey, recomputes the root from the entries, compares the level-0
// hash tiles, and verifies every entry's signatures against the keys
// registered by earlier key entries signed by authorityVKey.
func Check(ctx context.Context, baseURL, logVKey, authorityVKey string) (*Result, error) {
	logV, err := note.NewVerifier(logVKey)
	if err != nil {
		return nil, fmt.Errorf("log vkey: %w", err)
	}
	authV, err := note.NewVerifier(authorityVKey)
	if err != nil {
		return nil, fmt.Errorf("authority vkey: %w", err)
	}
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/"+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}

	// The checkpoint: origin, size, root hash, signed by the log key.
	cpRaw, err := get("checkpoint")
	if err != nil {
		return nil, err
	}
	cp, err := note.Open(cpRaw, note.VerifierList(logV))
	if err != nil {
		return nil, fmt.Errorf("checkpoint signature: %w", err)
	}
	lines := strings.Split(cp.Text, "\n")
	if len(lines) < 4 || lines[0] != logV.Name() {
		return nil, fmt.Errorf("checkpoint origin %q, want %q", lines[0], logV.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("checkpoint size: %w", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		return nil, fmt.Errorf("checkpoint root hash %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)

	// Entries: bundles of 256, each entry a big-endian uint16 length and
	// the bytes; a final partial bundle has the suffix .p/<width>.
	var entries [][]byte
	for n := int64(0); n*256 < size; n++ {
		width := min(256, size-n*256)
		path := "tile/entries/" + tileIndex(n)
		if width < 256 {
			path += fmt.Sprintf(".p/%d", width)
		}
		b, err := get(path)
		if err != nil {
			return nil, err
		}
		for len(b) > 0 {
			if len(b) < 2 {
				return nil, fmt.Errorf("bundle %s: truncated length", path)
			}
			l := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+l {
				return nil, fmt.Errorf("bundle %s: truncated entry", path)
			}
			entries = append(entries, b[2:2+l])
			b = b[2+l:]
		}
		if int64(len(entries)) != n*256+width {
			return nil, fmt.Errorf("bundle %s holds %d entries, want %d", path, int64(len(entries))-n*256, width)
		}
	}

	// Recompute the tree: store every hash as tlog lays them out, then ask
	// tlog for the root of the whole tree.
	var stored []tlog.Hash
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	leaves := make([]tlog.Hash, len(entries))
	for i, e := range entries {
		leaves[i] = tlog.RecordHash(e)
		hs, err := tlog.StoredHashes(int64(i), e, hr)
		if err != nil {
			return nil, err
		}
		stored = append(stored, hs...)
	}
	got, err := tlog.TreeHash(size, hr)
	if err != nil {
		return nil, err
	}
	if got != root {
		return nil, fmt.Errorf("recomputed root %s, checkpoint says %s", got, root)
	}

	// The level-0 hash tiles must hold exactly the leaf hashes.
	for n := int64(0); n*256 < size; n++ {
		width := min(256, size-n*256)
		path := "tile/0/" + tileIndex(n)
		if width < 256 {
			path += fmt.Sprintf(".p/%d", width)
		}
		b, err := get(path)
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != width*tlog.HashSize {
			return nil, fmt.Errorf("tile %s is %d bytes", path, len(b))
		}
		for i := range width {
			if !bytes.Equal(b[i*tlog.HashSize:(i+1)*tlog.HashSize], leaves[n*256+i][:]) {
				return nil, fmt.Errorf("tile %s: hash %d does not match entry %d", path, i, n*256+i)
			}
		}
	}

	// Signatures: the authority registers keys; everything else must be
	// signed only by keys registered earlier, within their windows and
	// before any revocation takes effect.
	res := &Result{Size: size, Root: root, ByKind: map[string]int{}}
	keys := map[string]*regKey{}
	for i, raw := range entries {
		kind, err := checkEntry(raw, authV, keys)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		res.ByKind[kind]++
	}
	res.Keys = len(keys)
	return res, nil
}

type regKey struct {
	v         note.Verifier
	role      string
	notBefore time.Time
	notAfter  time.Time
	revokedAt *time.Time
}

func checkEntry(raw []byte, authV note.Verifier, keys map[string]*regKey) (string, error) {
	list := []note.Verifier{authV}
	for _, k := range keys {
		list = append(list, k.v)
	}
	n, err := note.Open(raw, note.VerifierList(list...))
	if err != nil {
		return "", fmt.Errorf("signatures: %w", err)
	}
	if len(n.UnverifiedSigs) > 0 {
		return "", fmt.Errorf("signed by unregistered key %s", n.UnverifiedSigs[0].Name)
	}
	head, rest, _ := strings.Cut(n.Text, "\n")
	kind, ok := strings.CutPrefix(head, "guarantor.v1/")
	if !ok {
		return "", fmt.Errorf("first line %q", head)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSuffix(rest, "\n")), &body); err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	authority := len(n.Sigs) == 1 && n.Sigs[0].Name == authV.Name() && n.Sigs[0].Hash == authV.KeyHash()
	switch kind {
	case "key":
		if !authority {
			return "", errors.New("key entry not signed by the authority alone")
		}
		vkey, _ := body["vkey"].(string)
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return "", fmt.Errorf("key entry vkey: %w", err)
		}
		nb, err1 := time.Parse(time.RFC3339, fmt.Sprint(body["not_before"]))
		na, err2 := time.Parse(time.RFC3339, fmt.Sprint(body["not_after"]))
		if err := errors.Join(err1, err2); err != nil {
			return "", err
		}
		keys[fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())] = &regKey{v: v, role: fmt.Sprint(body["role"]), notBefore: nb, notAfter: na}
	case "revocation":
		if !authority {
			return "", errors.New("revocation not signed by the authority alone")
		}
		k, ok := keys[fmt.Sprint(body["key"])]
		if !ok {
			return "", fmt.Errorf("revokes unknown key %v", body["key"])
		}
		eff, err := time.Parse(time.RFC3339, fmt.Sprint(body["effective"]))
		if err != nil {
			return "", err
		}
		k.revokedAt = &eff
	case "observation", "testimony", "verification", "tick", "incident":
		timeField, roles := "observed_at", map[string]bool{"monitor": true, "sensor": true, "analyst": true}
		switch kind {
		case "testimony":
			timeField, roles = "received_at", map[string]bool{"intake": true}
		case "verification":
			timeField, roles = "at", map[string]bool{"analyst": true}
		case "tick":
			timeField, roles = "at", map[string]bool{"engine": true}
		case "incident":
			timeField, roles = "", map[string]bool{"engine": true}
		}
		var at time.Time
		if timeField != "" {
			var err error
			if at, err = time.Parse(time.RFC3339, fmt.Sprint(body[timeField])); err != nil {
				return "", err
			}
		}
		for _, s := range n.Sigs {
			k := keys[fmt.Sprintf("%s+%08x", s.Name, s.Hash)]
			if k == nil {
				return "", fmt.Errorf("%s signed by the authority", kind)
			}
			if !roles[k.role] {
				return "", fmt.Errorf("%s signed by role %s", kind, k.role)
			}
			if timeField == "" {
				if k.revokedAt != nil {
					return "", fmt.Errorf("%s by %s after its revocation", kind, s.Name)
				}
				continue
			}
			if at.Before(k.notBefore) || at.After(k.notAfter) {
				return "", fmt.Errorf("%s time %s outside %s's window", kind, at, s.Name)
			}
			if k.revokedAt != nil && !at.Before(*k.revokedAt) {
				return "", fmt.Errorf("%s by %s after its revocation", kind, s.Name)
			}
		}
	default:
		return "", fmt.Errorf("unknown kind %q", kind)
	}
	return kind, nil
}

// tileIndex writes a tile index as tlog-tiles paths do: groups of three
// digits, every group but the last prefixed with "x".
func tileIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}
