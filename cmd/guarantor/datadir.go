package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ghttp "github.com/guarantor/guarantor/http"
)

// dataDir is the layout of a data directory made by init.
type dataDir string

func (d dataDir) infoPath() string       { return filepath.Join(string(d), "guarantor.json") }
func (d dataDir) logDir() string         { return filepath.Join(string(d), "log") }
func (d dataDir) keysDir() string        { return filepath.Join(string(d), "keys") }
func (d dataDir) key(name string) string { return filepath.Join(string(d), "keys", name+".key") }
func (d dataDir) contactKey() string     { return filepath.Join(string(d), "keys", "contact.hmac") }
func (d dataDir) blobs() string          { return filepath.Join(string(d), "blobs") }
func (d dataDir) projection() string     { return filepath.Join(string(d), "projection.db") }

// The neutral verifier's exchange service: its records database and keys
// (present only on the verifier's server; see init --verifier).
func (d dataDir) exchangeDB() string { return filepath.Join(string(d), "exchange.db") }
func (d dataDir) exchangeVault() string {
	return filepath.Join(string(d), "keys", "exchange-vault.keys")
}
func (d dataDir) exchangeCommit() string {
	return filepath.Join(string(d), "keys", "exchange-commit.keys")
}

// readInfo reads the public description of the log that init wrote.
func (d dataDir) readInfo() (ghttp.Info, error) {
	var info ghttp.Info
	b, err := os.ReadFile(d.infoPath())
	if errors.Is(err, fs.ErrNotExist) {
		return info, fmt.Errorf("%s holds no guarantor data directory (no guarantor.json); create one with \"guarantor init --data %s\"", d, d)
	}
	if err != nil {
		return info, fmt.Errorf("read %s: %w", d.infoPath(), err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s is not valid JSON: %w", d.infoPath(), err)
	}
	if info.Origin == "" || info.LogVKey == "" || info.AuthorityVKey == "" {
		return info, fmt.Errorf("%s lacks origin, log_vkey or authority_vkey", d.infoPath())
	}
	return info, nil
}

func (d dataDir) writeInfo(info ghttp.Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(d.infoPath(), append(b, '\n'), 0o644)
}
