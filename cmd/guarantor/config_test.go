package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// configFlags returns cmd's flag set as the command registers it,
// --config included, parsed from args.
func configFlags(tb testing.TB, cmd string, args ...string) *flag.FlagSet {
	tb.Helper()
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	fs := newFlags(e, cmd)
	configurable[cmd](fs)
	if _, err := parseConfigured(e, fs, args); err != nil {
		tb.Fatalf("parse %v: %v", args, err)
	}
	return fs
}

// flagValues returns every flag's value in its string form.
func flagValues(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, cmd, doc string
		line           string // "": the error names no line
		want           string
	}{
		{"unknown nested key", "", "addr: 127.0.0.1:1\nwitness:\n  polcy: w.txt\n", "3",
			"witness.polcy: unknown key (no flag --witness-polcy); did you mean --witness-policy?"},
		{"unknown key, suffix of a flag", "", "timeout: 5s\n", "1",
			"timeout: unknown key (no flag --timeout); did you mean --witness-timeout?"},
		{"underscore for dash", "", "checkpoint_interval: 1s\n", "1", "did you mean --checkpoint-interval?"},
		{"unknown key, nothing near", "", "frobnicate: 1\n", "1",
			`frobnicate: unknown key (no flag --frobnicate); run "guarantor config example serve" for the keys`},
		{"bad duration", "", "witness:\n  timeout: five\n", "2",
			`witness.timeout: "five" is not a duration: time: invalid duration "five"`},
		{"duration without unit", "", "tick: 60\n", "1", `tick: "60" is not a duration: time: missing unit`},
		{"bad bool", "", "witness-fail-open: yes\n", "1", `witness-fail-open: "yes" is not true or false`},
		{"negative uint", "", "batch:\n  size: -1\n", "2", `batch.size: "-1" is not a non-negative integer`},
		{"bad int", "", "testimony: {burst: 2.5}\n", "1", `testimony.burst: "2.5" is not an integer`},
		{"list for one value", "", "\naddr: [a, b]\n", "2", "addr: a list where one value is expected (--addr is not repeatable)"},
		{"mapping for one value", "", "addr:\n  host: x\n", "2", "addr: a mapping where one value is expected (--addr)"},
		{"value for a group", "", "witness: on\n", "1",
			"witness: a single value where a mapping is expected (keys fail-open, policy, timeout)"},
		{"duplicate key", "", "addr: a:1\naddr: b:2\n", "2", "addr: sets --addr again (first at line 1)"},
		{"duplicate flat and nested", "", "witness-policy: a\nwitness:\n  policy: b\n", "3",
			"witness.policy: sets --witness-policy again (first at line 1)"},
		{"not YAML", "", "addr: 1\nbatch: [\n", "2", "not YAML: did not find expected node content"},
		{"tab indentation", "", "batch:\n\tsize: 1\n", "2", "not YAML: found character that cannot start any token"},
		{"two documents", "", "addr: a:1\n---\naddr: b:2\n", "2", "a second YAML document"},
		{"list at the top", "", "- addr\n", "1", "a list at the top; write a mapping of flag names to values"},
		{"config in the config", "", "config: other.yaml\n", "1", "config: --config names this file and cannot be set in it"},
		{"alias", "", "tick: &m 1m\nbatch:\n  age: *m\n", "3", "batch.age: aliases (*m) are not supported"},
		{"complex key", "", "? [a]\n: 1\n", "1", "a list as a key; keys are flag names"},
		{"alias in a list", "witness", "name: &n w\nlog:\n  - *n\n", "3", "log: aliases (*n) are not supported"},
		{"mapping in a list", "witness", "log:\n  - {a: b}\n", "2", "log: a mapping in the list where one value is expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := cmp.Or(tc.cmd, "serve")
			_, err := applyConfig(configFlags(t, cmd), "guarantor.yaml", []byte(tc.doc))
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("got %v, want a usage error", err)
			}
			prefix := "guarantor.yaml:" + tc.line + ": "
			if got := err.Error(); !strings.HasPrefix(got, prefix) || !strings.Contains(got, tc.want) || strings.Contains(got, "\n") {
				t.Errorf("got  %q\nwant one line starting %q and holding %q", got, prefix, tc.want)
			}
		})
	}
}

func TestConfigCommandLineWinsOverFile(t *testing.T) {
	fs := configFlags(t, "serve", "--addr", "127.0.0.1:9", "--batch-size", "7")
	doc := "addr: 10.0.0.1:80\nbatch: {size: 9, age: 1s}\nlog-level: debug\n"
	src, err := applyConfig(fs, "guarantor.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := flagValues(fs)
	for name, want := range map[string]string{
		"addr":       "127.0.0.1:9", // command line
		"batch-size": "7",           // command line
		"batch-age":  "1s",          // file
		"log-level":  "debug",       // file
		"tick":       "1m0s",        // default
	} {
		if got[name] != want {
			t.Errorf("--%s = %q, want %q", name, got[name], want)
		}
	}
	if want := []string{"batch-age", "log-level"}; !slices.Equal(slices.Sorted(maps.Keys(src)), want) {
		t.Errorf("file set %v, want %v", slices.Sorted(maps.Keys(src)), want)
	}
	if src["batch-age"] != "guarantor.yaml:2: batch.age" {
		t.Errorf("source of --batch-age: %q", src["batch-age"])
	}
}

func TestConfigNestedAndFlatFormsAreEqual(t *testing.T) {
	docs := []string{
		"witness-policy: w.txt\nwitness-timeout: 2s\nwitness-fail-open: true\nbatch-size: 3\ntestimony-every: 1m\n",
		"witness:\n  policy: w.txt\n  timeout: 2s\n  fail-open: true\nbatch:\n  size: 3\ntestimony:\n  every: 1m\n",
		"witness: {policy: w.txt, timeout: 2s, fail: {open: true}}\nbatch: {size: 3}\ntestimony-every: 60s\n",
	}
	var first map[string]string
	for i, doc := range docs {
		fs := configFlags(t, "serve")
		if _, err := applyConfig(fs, "guarantor.yaml", []byte(doc)); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		got := flagValues(fs)
		if i == 0 {
			first = got
			if got["witness-fail-open"] != "true" || got["batch-size"] != "3" {
				t.Fatalf("doc 0 set %v", got)
			}
			continue
		}
		if !maps.Equal(got, first) {
			t.Errorf("doc %d set %v\nwant %v", i, got, first)
		}
	}
}

func TestConfigRepeatableFlagTakesAList(t *testing.T) {
	fs := configFlags(t, "witness")
	if _, err := applyConfig(fs, "w.yaml", []byte("log:\n  - a.example/log=VKEY1\n  - VKEY2\nname: w1\n")); err != nil {
		t.Fatal(err)
	}
	got := *fs.Lookup("log").Value.(*logList)
	if want := (logList{"a.example/log=VKEY1", "VKEY2"}); !slices.Equal(got, want) {
		t.Errorf("--log = %q, want %q", got, want)
	}
}

// TestConfigEmptyFileAndNullsKeepDefaults: comments only, an empty
// value, or a group whose entries are all commented out set nothing.
func TestConfigEmptyFileAndNullsKeepDefaults(t *testing.T) {
	want := flagValues(configFlags(t, "serve"))
	for _, doc := range []string{"", "# only a comment\n", "---\n", "postgres:\nwitness:\n  # policy: w.txt\n"} {
		fs := configFlags(t, "serve")
		if _, err := applyConfig(fs, "guarantor.yaml", []byte(doc)); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if got := flagValues(fs); !maps.Equal(got, want) {
			t.Errorf("%q set %v", doc, got)
		}
	}
}

const examplePath = "../../guarantor.example.yaml"

func TestConfigExampleIsCurrent(t *testing.T) {
	committed, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, exampleConfig("serve")) {
		t.Errorf("guarantor.example.yaml differs from the flags; regenerate it with\n\tgo run ./cmd/guarantor config example serve > guarantor.example.yaml")
	}
}

func TestConfigExampleLoadsToTheDefaults(t *testing.T) {
	for _, cmd := range []string{"serve", "witness"} {
		doc := exampleConfig(cmd)
		if cmd == "serve" {
			var err error
			if doc, err = os.ReadFile(examplePath); err != nil {
				t.Fatal(err)
			}
		}
		fs := configFlags(t, cmd)
		src, err := applyConfig(fs, cmd+".yaml", doc)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if got := f.Value.String(); got != f.DefValue {
				t.Errorf("%s: --%s = %q, want the default %q", cmd, f.Name, got, f.DefValue)
			}
			if _, ok := src[f.Name]; !ok && f.Name != configFlag && !repeatable(f) {
				t.Errorf("%s: the example sets no --%s", cmd, f.Name)
			}
		})
	}
}

func TestConfigExampleCommand(t *testing.T) {
	code, out, errs := cli(t, "", "config", "example", "witness")
	if code != 0 || out != string(exampleConfig("witness")) {
		t.Errorf("config example witness: exit %d, %s", code, errs)
	}
	for _, args := range [][]string{{"config"}, {"config", "show"}, {"config", "example", "verify"}} {
		if code, _, errs := cli(t, "", args...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want 2 and one line", args, code, errs)
		}
	}
}

// TestConfigServeFailsBeforeOpening runs serve with bad config files: it
// must stop with one line naming the file's line before it opens anything
// (the data directory does not exist).
func TestConfigServeFailsBeforeOpening(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "never-initialised")
	for _, tc := range []struct{ doc, want string }{
		{"addr: 127.0.0.1:0\nbatch:\n  sise: 3\n", ":3: batch.sise: unknown key"},
		{"checkpoint-interval: 50ms\n", ":1: checkpoint-interval: 50ms is under the 100ms minimum"},
		{"witness:\n  fail-open: true\n", ":2: witness.fail-open: true has no effect without --witness-policy"},
	} {
		path := filepath.Join(dir, "guarantor.yaml")
		if err := os.WriteFile(path, []byte(tc.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := cli(t, "", "serve", "--data", data, "--config", path)
		if want := "guarantor serve: " + path + tc.want; code != 2 || !strings.HasPrefix(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("serve --config with %q: exit %d, %q; want 2 and one line starting %q", tc.doc, code, errs, want)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("serve created %s: %v", data, err)
	}
	code, _, errs := cli(t, "", "witness", "--config", filepath.Join(dir, "missing.yaml"))
	if code != 2 || !strings.Contains(errs, "--config: open ") {
		t.Errorf("witness with a missing config file: exit %d, %q", code, errs)
	}
}

func TestConfigValidateServe(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.txt")
	if err := os.WriteFile(policy, []byte("quorum none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string // "": valid
	}{
		{nil, ""},
		{[]string{"--data", ""}, "--data is required"},
		{[]string{"--addr", ":0"}, ""},
		{[]string{"--addr", "localhost"}, `--addr: "localhost" is not HOST:PORT`},
		{[]string{"--addr", "127.0.0.1:99999"}, `--addr: "127.0.0.1:99999": port "99999" is not a number from 0 to 65535`},
		{[]string{"--debug-addr", "127.0.0.1:6060"}, ""},
		{[]string{"--debug-addr", "6060"}, `--debug-addr: "6060" is not HOST:PORT`},
		{[]string{"--debug-addr", "127.0.0.1:8080"}, "--debug-addr: 127.0.0.1:8080 is --addr's port too"},
		{[]string{"--debug-addr", ":8080"}, "--debug-addr: :8080 is --addr's port too"},
		{[]string{"--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0"}, ""},
		{[]string{"--batch-size", "0"}, "--batch-size: 0 entries; give 1 or more"},
		{[]string{"--batch-age", "0s"}, "--batch-age: 0s; give a positive duration"},
		{[]string{"--checkpoint-interval", "99ms"}, "--checkpoint-interval: 99ms is under the 100ms minimum"},
		{[]string{"--checkpoint-interval", "100ms"}, ""},
		{[]string{"--tick", "-1s"}, "--tick: -1s; give a positive duration"},
		{[]string{"--max-blob", "0"}, "--max-blob: 0 bytes; give a positive size"},
		{[]string{"--testimony-every", "0s"}, "--testimony-every: 0s would not limit testimony"},
		{[]string{"--testimony-burst", "0"}, "--testimony-burst: 0 would refuse every statement"},
		{[]string{"--witness-timeout", "0s"}, "--witness-timeout: 0s; give a positive duration"},
		{[]string{"--witness-fail-open"}, "--witness-fail-open: true has no effect without --witness-policy"},
		{[]string{"--witness-policy", policy, "--witness-fail-open"}, ""},
		{[]string{"--witness-policy", filepath.Join(dir, "nope.txt")}, "--witness-policy: stat " + filepath.Join(dir, "nope.txt") + ": no such file"},
		{[]string{"--witness-policy", dir}, "--witness-policy: " + dir + " is not a file"},
		{[]string{"--trusted-proxies", "10.0.0.0/8, fd00::/8"}, ""},
		{[]string{"--trusted-proxies", "10.0.0.0/8,10.0.0.1"}, `--trusted-proxies: "10.0.0.1" is not a CIDR such as 10.0.0.0/8 or fd00::/8`},
		{[]string{"--trusted-proxies", "10.0.0.0/33"}, `--trusted-proxies: "10.0.0.0/33" is not a CIDR`},
		{[]string{"--trusted-proxies", "10.0.0.0/8,"}, `--trusted-proxies: "" is not a CIDR`},
		{[]string{"--postgres", "postgres://guarantor@localhost:5432/guarantor"}, ""},
		{[]string{"--postgres", "postgres://guarantor@localhost:port/db"}, "--postgres: not a PostgreSQL DSN"},
		{[]string{"--mysql", "guarantor@tcp(127.0.0.1:3306)/log"}, ""},
		{[]string{"--mysql", "guarantor@tcp(127.0.0.1:3306)/"}, "--mysql: the DSN names no database"},
		{[]string{"--mysql", "guarantor@tcp(127.0.0.1:3306/log"}, "--mysql: not a MySQL DSN"},
	} {
		fs := newFlags(&env{stderr: io.Discard}, "serve")
		o := serveFlags(fs)
		if err := fs.Parse(append([]string{"--data", dir}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		err := validateServe(o)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want valid", tc.args, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestConfigSuggest(t *testing.T) {
	l := &configLoader{fs: configFlags(t, "serve")}
	for name, want := range map[string]string{
		"adr": "addr", "ticks": "tick", "witness-polcy": "witness-policy", "fail-open": "witness-fail-open",
		"level": "log-level", "x": "", "configg": "", "verbose": "",
	} {
		if got := l.suggest(name); got != want {
			t.Errorf("suggest(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzConfig parses arbitrary bytes as serve's config file: it must not
// panic, and either fail with a usage error naming the file or leave
// every flag it set holding a value that flag accepts.
func FuzzConfig(f *testing.F) {
	if b, err := os.ReadFile(examplePath); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"addr: 127.0.0.1:1\nwitness: {policy: w, timeout: 5x}\n", "batch:\n  size: [1]\n", "a: &a [*a]\n",
		"- x\n", "addr: a\naddr: b\n", "? {a: b}\n: c\n", "witness:\n  fail-open: true\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fs := configFlags(t, "serve")
		src, err := applyConfig(fs, "fuzz.yaml", doc)
		if err != nil {
			var u usageError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Fatalf("error %q is not a usage error naming the file", err)
			}
			return
		}
		fresh := configFlags(t, "serve")
		fs.Visit(func(fl *flag.Flag) {
			if _, ok := src[fl.Name]; !ok {
				t.Errorf("--%s was set but has no source", fl.Name)
			}
			if err := fresh.Set(fl.Name, fl.Value.String()); err != nil {
				t.Errorf("--%s holds %q, which it refuses: %v", fl.Name, fl.Value, err)
			}
		})
	})
}
