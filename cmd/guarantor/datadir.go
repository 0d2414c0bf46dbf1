package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/ledger"
)

// dataDir is the layout of a data directory made by init.
type dataDir string

func (d dataDir) infoPath() string       { return filepath.Join(string(d), "guarantor.json") }
func (d dataDir) logDir() string         { return filepath.Join(string(d), "log") }
func (d dataDir) mysqlMarker() string    { return filepath.Join(string(d), "log.mysql") }
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

// checkLogDriver refuses to open the log where it is not: a data
// directory whose log is in MySQL (init --mysql, init --join wrote
// DATA/log.mysql) opened without a DSN would start a new, empty log in
// DATA/log; one with a log in DATA/log opened with a DSN would leave it.
func (d dataDir) checkLogDriver(mysqlDSN string) error {
	_, err := os.Stat(d.mysqlMarker())
	marked := err == nil
	switch {
	case marked && mysqlDSN == "":
		return usagef("%s keeps its log in MySQL/MariaDB (%s): start with --mysql DSN", d, d.mysqlMarker())
	case !marked && mysqlDSN != "" && ledger.Exists(d.logDir()):
		return usagef("%s keeps its log in %s, not in MySQL/MariaDB: start without --mysql", d, d.logDir())
	case !marked && mysqlDSN != "":
		return usagef("%s was not made for a log in MySQL/MariaDB: make it with guarantor init --mysql DSN, or --join a data directory that was", d)
	}
	return nil
}
