package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/agreements"
	"github.com/guarantor/guarantor/engine/agreement"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/vault"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/guarantor/guarantor/ledger"
	"golang.org/x/mod/sumdb/note"
)

func runKeygen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keygen")
	name := fs.String("name", "", "key name, e.g. monitor.team-7 (required)")
	out := fs.String("out", "", "file to write the private key to, mode 0600 (required)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *name == "" || *out == "" {
		return usagef("--name and --out are required, e.g. guarantor keygen --name monitor.team-7 --out team-7.key")
	}
	vkey, err := keyfile.Generate(*out, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, vkey)
	return nil
}

// siblingName derives a key name from the origin: "example.org/log" gives
// "example.org/engine" for suffix "engine".
func siblingName(origin, suffix string) string {
	if i := strings.LastIndexByte(origin, '/'); i > 0 {
		return origin[:i+1] + suffix
	}
	return origin + "-" + suffix
}

func runInit(ctx context.Context, e *env, args []string) (rerr error) {
	fs := newFlags(e, "init")
	data := fs.String("data", "", "data directory to create (required)")
	origin := fs.String("origin", "guarantor.local/log", "log origin: the name of the checkpoint signing key")
	authVKey := fs.String("authority-vkey", "", "verifier key of an offline mission authority; if set, no authority private key is created")
	verifier := fs.Bool("verifier", false, "this server is the neutral verifier of prisoner exchanges: make the keys of its exchange service (detainee records encrypted at rest)")
	mysqlDSN := fs.String("mysql", "", "keep the log in this MySQL/MariaDB database (user:password@tcp(host:3306)/db, which must exist and hold no log) instead of DATA/log, so that several servers can serve it; serve then needs the same --mysql")
	join := fs.String("join", "", "make a data directory for another server of the log that the data directory JOIN keeps in MySQL/MariaDB: copy its public description and the log, engine and intake keys (not the authority's)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" {
		return usagef("--data is required, e.g. guarantor init --data ./data")
	}
	// A failed init (a full disk, a refused database) must not leave
	// half a data directory behind, which the next attempt would refuse:
	// what init made in a directory that was empty or absent goes.
	if before, err := os.ReadDir(*data); err == nil && len(before) == 0 || os.IsNotExist(err) {
		defer func() {
			if rerr != nil {
				removeContents(*data)
			}
		}()
	}
	if *join != "" {
		info, err := joinDataDir(dataDir(*join), dataDir(*data))
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(info)
	}
	if *mysqlDSN != "" {
		held, err := ledger.MySQLExists(ctx, *mysqlDSN)
		if err != nil {
			return err
		}
		if held {
			return usagef("the MySQL database already holds a log; init never touches an existing log (give an empty database, or --join a data directory of that log)")
		}
		if err := os.MkdirAll(*data, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", *data, err)
		}
		if _, err := os.Stat(dataDir(*data).infoPath()); err == nil {
			return usagef("%s already holds %s; init never touches an existing data directory", *data, dataDir(*data).infoPath())
		}
		if err := os.WriteFile(dataDir(*data).mysqlMarker(), []byte("This data directory's log is kept in MySQL/MariaDB: start guarantor with --mysql DSN.\n"), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", dataDir(*data).mysqlMarker(), err)
		}
	}
	info, err := initDataDir(ctx, dataDir(*data), *origin, *authVKey, time.Now(), *mysqlDSN)
	if err != nil {
		return err
	}
	if *verifier {
		if err := initVerifier(dataDir(*data)); err != nil {
			return err
		}
	}
	return json.NewEncoder(e.stdout).Encode(info)
}

// initDataDir creates the directory layout, the keys, an empty log and,
// when the authority key is local, the key entry registering the engine.
func initDataDir(ctx context.Context, d dataDir, origin, authorityVKey string, now time.Time, mysqlDSN string) (ghttp.Info, error) {
	var info ghttp.Info
	if ledger.Exists(d.logDir()) {
		return info, fmt.Errorf("%s already holds a log; init never touches an existing log (choose an empty directory)", d)
	}
	if _, err := os.Stat(d.infoPath()); err == nil {
		return info, fmt.Errorf("%s already holds %s; init never touches an existing data directory", d, d.infoPath())
	}
	if authorityVKey != "" {
		if _, err := note.NewVerifier(authorityVKey); err != nil {
			return info, fmt.Errorf("--authority-vkey %q is not a note verifier key (name+hash+key): %v", authorityVKey, err)
		}
	}
	if strings.ContainsAny(origin, " +\n") || origin == "" {
		return info, fmt.Errorf("--origin %q must be non-empty with no spaces or '+'", origin)
	}
	if err := os.MkdirAll(d.keysDir(), 0o700); err != nil {
		return info, fmt.Errorf("create %s: %w", d.keysDir(), err)
	}
	logVKey, err := keyfile.Generate(d.key("log"), origin)
	if err != nil {
		return info, err
	}
	engineVKey, err := keyfile.Generate(d.key("engine"), siblingName(origin, "engine"))
	if err != nil {
		return info, err
	}
	intakeVKey, err := keyfile.Generate(d.key("intake"), siblingName(origin, "intake"))
	if err != nil {
		return info, err
	}
	contact := make([]byte, 32)
	if _, err := rand.Read(contact); err != nil {
		return info, err
	}
	if err := os.WriteFile(d.contactKey(), []byte(hex.EncodeToString(contact)+"\n"), 0o600); err != nil {
		return info, fmt.Errorf("write contact key: %w", err)
	}
	local := authorityVKey == ""
	if local {
		if authorityVKey, err = keyfile.Generate(d.key("authority"), siblingName(origin, "authority")); err != nil {
			return info, err
		}
	}
	info = ghttp.Info{Origin: origin, LogVKey: logVKey, AuthorityVKey: authorityVKey, EngineVKey: engineVKey, IntakeVKey: intakeVKey}
	if err := d.writeInfo(info); err != nil {
		return info, err
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	quietTessera(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	inst, err := openInstance(ctx, d, logTuning{mysql: mysqlDSN}, logger)
	if err != nil {
		return info, err
	}
	if local {
		auth, err := keyfile.Signer(d.key("authority"))
		if err != nil {
			return info, errors.Join(err, inst.Close(ctx))
		}
		for _, k := range []struct {
			vkey  string
			role  guarantor.Role
			label string
		}{{engineVKey, guarantor.RoleEngine, "guarantor engine"}, {intakeVKey, guarantor.RoleIntake, "guarantor server intake (public testimony)"}} {
			raw, err := keyEntry(auth, k.vkey, k.role, k.label, now, now.AddDate(10, 0, 0))
			if err == nil {
				_, err = inst.node.Submit(ctx, raw)
			}
			if err != nil {
				return info, errors.Join(fmt.Errorf("register the %s key: %w", k.role, err), inst.Close(ctx))
			}
		}
	}
	return info, inst.Close(ctx)
}

// keyEntry returns a key entry registering vkey with role, signed by auth.
func keyEntry(auth note.Signer, vkey string, role guarantor.Role, label string, notBefore, notAfter time.Time) ([]byte, error) {
	body, err := json.Marshal(entry.KeyBody{
		VKey: vkey, Role: string(role), Label: label,
		NotBefore: notBefore.UTC().Truncate(time.Second), NotAfter: notAfter.UTC().Truncate(time.Second),
	})
	if err != nil {
		return nil, err
	}
	return entry.Sign(entry.KindKey, body, auth)
}

func runSign(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sign")
	keyPath := fs.String("key", "", "private key file (required)")
	kind := fs.String("kind", "", "entry kind: "+strings.Join(entry.KindNames(), ", "))
	body := fs.String("body", "", "entry body as JSON")
	bodyFile := fs.String("body-file", "", "file holding the entry body as JSON (or, for an agreement, as YAML: a .yaml or .yml file)")
	cosign := fs.Bool("cosign", false, "add a signature to the note read from stdin instead of signing a new one")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *keyPath == "" {
		return usagef("--key is required")
	}
	signer, err := keyfile.Signer(*keyPath)
	if err != nil {
		return err
	}
	if *cosign {
		if *kind != "" || *body != "" || *bodyFile != "" {
			return usagef("--cosign reads the note from stdin; do not give --kind, --body or --body-file")
		}
		msg, err := io.ReadAll(io.LimitReader(e.stdin, entry.MaxSize+1))
		if err != nil {
			return fmt.Errorf("read note from stdin: %w", err)
		}
		out, err := entry.Cosign(msg, signer)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(out)
		return err
	}
	if *kind == "" || (*body == "") == (*bodyFile == "") {
		return usagef("give --kind and exactly one of --body or --body-file")
	}
	b := []byte(*body)
	if *bodyFile != "" {
		if b, err = os.ReadFile(*bodyFile); err != nil {
			return fmt.Errorf("read body file: %w", err)
		}
		if ext := strings.ToLower(filepath.Ext(*bodyFile)); ext == ".yaml" || ext == ".yml" {
			if entry.Kind(*kind) != entry.KindAgreement {
				return usagef("--body-file %s: YAML is read for --kind agreement only; give other bodies as JSON", *bodyFile)
			}
			if b, err = agreements.Convert(b); err != nil {
				return fmt.Errorf("%s: %w", *bodyFile, err)
			}
		}
	}
	out, err := entry.Sign(entry.Kind(*kind), b, signer)
	if err != nil {
		return err
	}
	// Refuse to print an entry the log would reject for its form.
	parsed, err := entry.Parse(out)
	var decoded any
	if err == nil {
		decoded, err = parsed.Validate()
	}
	if a, ok := decoded.(*entry.Agreement); ok && err == nil {
		_, err = agreement.Compile(a) // triggers, geometry, references
	}
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

// initVerifier makes the keys of the neutral verifier's exchange service
// in d: the vault's key ring, which encrypts detainee records at rest,
// and the commitment key, which keys every person's commitment. Both are
// written 0600 and never overwritten.
func initVerifier(d dataDir) error {
	if err := os.MkdirAll(d.keysDir(), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", d.keysDir(), err)
	}
	if _, err := vault.GenerateKeyFile(d.exchangeVault()); err != nil {
		return fmt.Errorf("exchange vault key: %w", err)
	}
	if _, err := vault.GenerateKeyFile(d.exchangeCommit()); err != nil {
		return fmt.Errorf("exchange commitment key: %w", err)
	}
	return nil
}

// joinDataDir makes dst a data directory for another server of the log
// that src keeps in MySQL/MariaDB: it copies the log's public description,
// the marker saying where the log is, and the keys every server of the
// log signs with (log checkpoints, engine, intake and the contact key of
// public testimony). The authority's key is not copied: no server needs
// it. Nothing else is shared; dst gets its own projection.
func joinDataDir(src, dst dataDir) (ghttp.Info, error) {
	info, err := src.readInfo()
	if err != nil {
		return info, err
	}
	if _, err := os.Stat(src.mysqlMarker()); err != nil {
		return info, usagef("%s keeps its log in %s: only a log in MySQL/MariaDB (init --mysql) can be served by several servers", src, src.logDir())
	}
	if _, err := os.Stat(dst.infoPath()); err == nil {
		return info, usagef("%s already holds %s; init never touches an existing data directory", dst, dst.infoPath())
	}
	if err := os.MkdirAll(dst.keysDir(), 0o700); err != nil {
		return info, fmt.Errorf("create %s: %w", dst.keysDir(), err)
	}
	files := []string{src.key("log"), src.key("engine"), src.key("intake"), src.contactKey(), src.mysqlMarker()}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) && f != src.key("log") && f != src.mysqlMarker() {
			continue // an optional key
		}
		if err != nil {
			return info, fmt.Errorf("join: %w", err)
		}
		rel, err := filepath.Rel(string(src), f)
		if err != nil {
			return info, err
		}
		mode := os.FileMode(0o600)
		if f == src.mysqlMarker() {
			mode = 0o644
		}
		if err := os.WriteFile(filepath.Join(string(dst), rel), b, mode); err != nil {
			return info, fmt.Errorf("join: %w", err)
		}
	}
	return info, dst.writeInfo(info)
}

// removeContents deletes everything in dir, which init made.
func removeContents(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
