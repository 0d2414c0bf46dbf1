package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.yaml.in/yaml/v3"
)

// A config file (--config FILE) is YAML whose keys are the command's
// flags: "addr: 127.0.0.1:8080" sets --addr, and the keys of a nested
// mapping join with '-', so "witness: {timeout: 5s}" sets
// --witness-timeout. Each value goes through the flag's own Set, so the
// flags keep their types and checks. Flags given on the command line win
// over the file; the file wins over the defaults.

// configFlag names the config file; the file itself may not set it.
const configFlag = "config"

// configurable registers, for each command that takes --config, its flags.
var configurable = map[string]func(fs *flag.FlagSet){
	"serve":   func(fs *flag.FlagSet) { serveFlags(fs) },
	"witness": func(fs *flag.FlagSet) { witnessServerFlags(fs) },
}

// configSources records where a config file set each flag, as
// "FILE:LINE: KEY", for explain.
type configSources map[string]string

// parseConfigured registers --config on fs, parses args, and then sets
// each flag that args left unset from the YAML file --config names. It
// returns where the file set each flag.
func parseConfigured(e *env, fs *flag.FlagSet, args []string) (configSources, error) {
	cmd := strings.TrimPrefix(fs.Name(), "guarantor ")
	path := fs.String(configFlag, "", fmt.Sprintf("YAML file of flag values, keys named after the flags (see guarantor config example %s); flags given here win over it", cmd))
	if err := parseFlags(e, fs, args); err != nil {
		return nil, err
	}
	if *path == "" {
		return nil, nil
	}
	doc, err := os.ReadFile(*path)
	if err != nil {
		return nil, usagef("--config: %v", err)
	}
	return applyConfig(fs, *path, doc)
}

// applyConfig sets the flags of fs from doc, a YAML config file named
// file, leaving alone the flags already set on the command line. Its
// errors are usage errors naming the file, the line and the key.
func applyConfig(fs *flag.FlagSet, file string, doc []byte) (configSources, error) {
	l := &configLoader{fs: fs, file: file, onCmdLine: map[string]bool{}, line: map[string]int{}, src: configSources{}}
	fs.Visit(func(f *flag.Flag) { l.onCmdLine[f.Name] = true })
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var root yaml.Node
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return l.src, nil // empty, or only comments
	} else if err != nil {
		return nil, l.notYAML(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, l.errorf(&extra, "", "a second YAML document; a config file holds one mapping")
	} else if !errors.Is(err, io.EOF) {
		return nil, l.notYAML(err)
	}
	if len(root.Content) == 0 {
		return l.src, nil
	}
	top := root.Content[0]
	switch {
	case top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null":
		return l.src, nil
	case top.Kind != yaml.MappingNode:
		return nil, l.errorf(top, "", "%s at the top; write a mapping of flag names to values, e.g. addr: 127.0.0.1:8080", kindName(top))
	}
	if err := l.mapping(top, "", ""); err != nil {
		return nil, err
	}
	return l.src, nil
}

// configLoader walks one config file's YAML tree.
type configLoader struct {
	fs        *flag.FlagSet
	file      string
	onCmdLine map[string]bool // flags set on the command line
	line      map[string]int  // flag → line of the key that set it
	src       configSources
}

// yamlLine finds the line number in the YAML library's error messages.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// notYAML reports a YAML syntax error, at its line when it names one.
func (l *configLoader) notYAML(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return usagef("%s:%s: not YAML: %s", l.file, m[1], strings.TrimPrefix(msg, m[0]))
	}
	return usagef("%s: not YAML: %s", l.file, strings.TrimPrefix(msg, "yaml: "))
}

// errorf returns a usage error at n's line naming key (when not "").
func (l *configLoader) errorf(n *yaml.Node, key, format string, args ...any) error {
	at := fmt.Sprintf("%s:%d: ", l.file, n.Line)
	if key != "" {
		at += key + ": "
	}
	return usagef("%s%s", at, fmt.Sprintf(format, args...))
}

// mapping applies the entries of m, whose keys extend the flag name
// prefix (joined with '-') and the dotted key path.
func (l *configLoader) mapping(m *yaml.Node, prefix, path string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return l.errorf(k, path, "%s as a key; keys are flag names", kindName(k))
		}
		name, key := k.Value, k.Value
		if prefix != "" {
			name, key = prefix+"-"+k.Value, path+"."+k.Value
		}
		if err := l.entry(k, v, name, key); err != nil {
			return err
		}
	}
	return nil
}

// entry applies one key k (flag name, dotted key) and its value v.
func (l *configLoader) entry(k, v *yaml.Node, name, key string) error {
	if v.Kind == yaml.AliasNode {
		return l.noAlias(v, key)
	}
	if name == configFlag {
		return l.errorf(k, key, "--%s names this file and cannot be set in it", configFlag)
	}
	f := l.fs.Lookup(name)
	group := l.isGroup(name)
	null := v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null"
	switch {
	case f == nil && !group:
		return l.unknown(k, name, key)
	case f == nil && v.Kind == yaml.MappingNode:
		return l.mapping(v, name, key)
	case f == nil && null:
		return nil // an empty group, e.g. every entry commented out
	case f == nil:
		return l.errorf(v, key, "%s where a mapping is expected (keys %s)", kindName(v), strings.Join(l.members(name), ", "))
	case v.Kind == yaml.MappingNode && group:
		return l.mapping(v, name, key)
	}
	if first, ok := l.line[name]; ok {
		return l.errorf(k, key, "sets --%s again (first at line %d)", name, first)
	}
	l.line[name] = k.Line
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		if !null {
			items = []*yaml.Node{v}
		}
	case yaml.SequenceNode:
		if !repeatable(f) {
			return l.errorf(v, key, "a list where one value is expected (--%s is not repeatable)", name)
		}
		for _, it := range v.Content {
			if it.Kind == yaml.AliasNode {
				return l.noAlias(it, key)
			}
			if it.Kind != yaml.ScalarNode {
				return l.errorf(it, key, "%s in the list where one value is expected", kindName(it))
			}
		}
		items = v.Content
	default:
		return l.errorf(v, key, "%s where one value is expected (--%s)", kindName(v), name)
	}
	if l.onCmdLine[name] {
		return nil // the command line wins
	}
	for _, it := range items {
		if err := l.fs.Set(name, it.Value); err != nil {
			return l.errorf(it, key, "%s", valueProblem(f, it.Value, err))
		}
	}
	l.src[name] = fmt.Sprintf("%s:%d: %s", l.file, k.Line, key)
	return nil
}

// noAlias reports the alias n, which config files may not use.
func (l *configLoader) noAlias(n *yaml.Node, key string) error {
	return l.errorf(n, key, "aliases (*%s) are not supported; write the value out", n.Value)
}

// unknown reports a key that names no flag, suggesting the nearest one.
func (l *configLoader) unknown(k *yaml.Node, name, key string) error {
	if s := l.suggest(name); s != "" {
		return l.errorf(k, key, "unknown key (no flag --%s); did you mean --%s?", name, s)
	}
	cmd := strings.TrimPrefix(l.fs.Name(), "guarantor ")
	return l.errorf(k, key, "unknown key (no flag --%s); run \"guarantor config example %s\" for the keys", name, cmd)
}

// suggest returns the flag nearest to name by edit distance, or a flag
// that ends in "-name", or "" when none is near.
func (l *configLoader) suggest(name string) string {
	best, bestD, suffixed := "", max(1, len(name)/3)+1, []string{}
	l.fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag {
			return
		}
		if d := editDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
		if strings.HasSuffix(f.Name, "-"+name) {
			suffixed = append(suffixed, f.Name)
		}
	})
	if best == "" && len(suffixed) == 1 {
		return suffixed[0]
	}
	return best
}

// isGroup reports whether some flag's name starts with name and '-'.
func (l *configLoader) isGroup(name string) bool { return len(l.members(name)) > 0 }

// members returns the keys under group name: the rest of the names of
// the flags that start with name and '-'.
func (l *configLoader) members(name string) []string {
	var keys []string
	l.fs.VisitAll(func(f *flag.Flag) {
		if rest, ok := strings.CutPrefix(f.Name, name+"-"); ok {
			keys = append(keys, rest)
		}
	})
	return keys
}

// repeatable reports whether each value given to f adds to it, so that
// a YAML list sets it once per item.
func repeatable(f *flag.Flag) bool {
	_, ok := f.Value.(*logList)
	return ok
}

// valueProblem says why f refused s (err is Set's error, which for the
// standard flag types is only "parse error").
func valueProblem(f *flag.Flag, s string, err error) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return fmt.Sprintf("%q: %v", s, err)
	}
	switch g.Get().(type) {
	case time.Duration:
		if _, perr := time.ParseDuration(s); perr != nil {
			return fmt.Sprintf("%q is not a duration: %v", s, perr)
		}
	case bool:
		return fmt.Sprintf("%q is not true or false", s)
	case int, int64:
		return fmt.Sprintf("%q is not an integer: %v", s, err)
	case uint, uint64:
		return fmt.Sprintf("%q is not a non-negative integer: %v", s, err)
	case float64:
		return fmt.Sprintf("%q is not a number: %v", s, err)
	}
	return fmt.Sprintf("%q: %v", s, err)
}

// kindName names a YAML node's kind for error messages: "a list".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a single value"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flagError is a flag value that validation refused. explain turns it
// into a usage error naming the flag, or the config file's line and key.
type flagError struct {
	flag    string // the flag's name, without dashes
	problem string // what is wrong and how to mend it
}

// Error returns "--flag: problem".
func (e *flagError) Error() string { return "--" + e.flag + ": " + e.problem }

// explain turns a *flagError into a usage error naming where the value
// came from: the config file's line and key, else the flag. Other errors
// are returned as they are.
func (s configSources) explain(err error) error {
	var fe *flagError
	if !errors.As(err, &fe) {
		return err
	}
	if at, ok := s[fe.flag]; ok {
		return usagef("%s: %s", at, fe.problem)
	}
	return usagef("%v", fe)
}

// minCheckpointInterval is Tessera's least checkpoint interval.
const minCheckpointInterval = 100 * time.Millisecond

// validateServe checks serve's settings, from flags or a config file,
// for values that would otherwise fail late (after the log is opened) or
// be silently replaced by a default. It touches no network and opens
// nothing but to stat the files the settings name. Its errors are
// *flagError, but for a missing --data.
func validateServe(o *serveOptions) error {
	if o.data == "" {
		return usagef("--data is required, e.g. guarantor serve --data ./data --addr 127.0.0.1:8080 (or data: in --config)")
	}
	t := o.tuning
	bad := func(flag, format string, args ...any) error {
		return &flagError{flag, fmt.Sprintf(format, args...)}
	}
	if err := checkHostPort(o.addr); err != nil {
		return bad("addr", "%v", err)
	}
	if o.debugAddr != "" {
		if err := checkHostPort(o.debugAddr); err != nil {
			return bad("debug-addr", "%v", err)
		}
		if sameListener(o.addr, o.debugAddr) {
			return bad("debug-addr", "%s is --addr's port too; give the profiles a port of their own", o.debugAddr)
		}
	}
	switch {
	case t.batchSize == 0:
		return bad("batch-size", "0 entries; give 1 or more (default 512)")
	case t.batchAge <= 0:
		return bad("batch-age", "%v; give a positive duration (default 25ms)", t.batchAge)
	case t.checkpointInterval < minCheckpointInterval:
		return bad("checkpoint-interval", "%v is under the %v minimum", t.checkpointInterval, minCheckpointInterval)
	case t.tick <= 0:
		return bad("tick", "%v; give a positive duration (default 1m0s)", t.tick)
	case t.maxBlob <= 0:
		return bad("max-blob", "%d bytes; give a positive size (default %d)", t.maxBlob, defaultMaxBlob)
	case t.testimonyEvery <= 0:
		return bad("testimony-every", "%v would not limit testimony; give a positive duration (default 10m0s)", t.testimonyEvery)
	case t.testimonyBurst < 1:
		return bad("testimony-burst", "%d would refuse every statement; give 1 or more (default 5)", t.testimonyBurst)
	case t.writeRate < 0:
		return bad("write-rate", "%v; give 0 (no limit) or a positive rate (default %v)", t.writeRate, ghttp.DefaultWriteRate)
	case t.writeBurst < 1:
		return bad("write-burst", "%d would refuse every write; give 1 or more (default %d)", t.writeBurst, ghttp.DefaultWriteBurst)
	case t.witnessTimeout <= 0:
		return bad("witness-timeout", "%v; give a positive duration (default 5s)", t.witnessTimeout)
	case t.witnessFailOpen && t.witnessPolicy == "":
		return bad("witness-fail-open", "true has no effect without --witness-policy")
	}
	if t.witnessPolicy != "" {
		if st, err := os.Stat(t.witnessPolicy); err != nil {
			return bad("witness-policy", "%v", err)
		} else if !st.Mode().IsRegular() {
			return bad("witness-policy", "%s is not a file", t.witnessPolicy)
		}
	}
	if _, err := parseTrustedProxies(t.trustedProxies); err != nil {
		return bad("trusted-proxies", "%v", err)
	}
	if t.postgres != "" {
		if _, err := pgxpool.ParseConfig(t.postgres); err != nil {
			return bad("postgres", "not a PostgreSQL DSN (postgres://user@host:5432/db): %v", err)
		}
	}
	if t.mysql != "" {
		cfg, err := mysql.ParseDSN(t.mysql)
		if err != nil {
			return bad("mysql", "not a MySQL DSN (user:password@tcp(host:3306)/db): %v", err)
		}
		if cfg.DBName == "" {
			return bad("mysql", "the DSN names no database (user:password@tcp(host:3306)/db)")
		}
	}
	return nil
}

// checkHostPort checks that addr is HOST:PORT with a port net.Listen takes.
func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (e.g. 127.0.0.1:8080, or :0 for any port): %v", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// sameListener reports whether two HOST:PORT addresses would listen on
// the same fixed port of the same or an overlapping (unspecified) host.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := net.LookupPort("tcp", pa)
	nb, _ := net.LookupPort("tcp", pb)
	if na == 0 || na != nb {
		return false
	}
	wildcard := func(h string) bool { ip := net.ParseIP(h); return h == "" || ip != nil && ip.IsUnspecified() }
	return ha == hb || wildcard(ha) || wildcard(hb)
}

// runConfig prints a command's example config file.
func runConfig(_ context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "example" || len(args) > 2 {
		return usagef("want guarantor config example [serve|witness], e.g. guarantor config example serve > guarantor.yaml")
	}
	cmd := "serve"
	if len(args) == 2 {
		cmd = args[1]
	}
	if _, ok := configurable[cmd]; !ok {
		return usagef("%q takes no config file; give serve or witness", cmd)
	}
	_, err := e.stdout.Write(exampleConfig(cmd))
	return err
}

// exampleConfig generates a complete example config file for cmd from
// its flag set: every flag at its default, preceded by its usage. Flags
// that share their first '-' segment with another are nested under it.
func exampleConfig(cmd string) []byte {
	fs := flag.NewFlagSet("guarantor "+cmd, flag.ContinueOnError)
	configurable[cmd](fs)
	var flags []*flag.Flag
	groupSize := map[string]int{}
	fs.VisitAll(func(f *flag.Flag) {
		flags = append(flags, f)
		if g, _, ok := strings.Cut(f.Name, "-"); ok {
			groupSize[g]++
		}
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "# guarantor %s configuration: guarantor %s --config FILE\n", cmd, cmd)
	b.WriteString("#\n")
	comment(&b, "", fmt.Sprintf("Generated by \"guarantor config example %s\". Each key is a flag of \"guarantor %s\" and each value its default. The keys of a nested mapping join with '-' to name a flag (a: {b: x} sets --a-b x); a repeatable flag takes a list. Flags given on the command line win over this file.", cmd, cmd))
	group := ""
	for _, f := range flags {
		g, rest, ok := strings.Cut(f.Name, "-")
		if !ok || groupSize[g] < 2 || fs.Lookup(g) != nil {
			g, rest = "", f.Name
		}
		indent := ""
		if g != "" {
			indent = "  "
		}
		if g == "" || g != group {
			b.WriteString("\n")
			if g != "" {
				b.WriteString(g + ":\n")
			}
		}
		group = g
		def := f.DefValue
		if def == "" {
			def = "none"
		}
		comment(&b, indent, f.Usage, "(default: "+def+")")
		fmt.Fprintf(&b, "%s%s: %s\n", indent, rest, yamlValue(f))
	}
	return b.Bytes()
}

// comment writes text, then each unbroken tail, as comment lines of at
// most 80 columns.
func comment(b *bytes.Buffer, indent, text string, tail ...string) {
	line := indent + "#"
	for _, w := range append(strings.Fields(text), tail...) {
		if len(line)+1+len(w) > 80 && len(line) > len(indent)+1 {
			b.WriteString(line + "\n")
			line = indent + "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

// yamlValue writes f's default as YAML that reads back as it.
func yamlValue(f *flag.Flag) string {
	switch {
	case f.DefValue == "" && repeatable(f):
		return "[]"
	case f.DefValue == "":
		return `""`
	}
	out, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Value: f.DefValue})
	if err != nil {
		return fmt.Sprintf("%q", f.DefValue) // a JSON string is YAML too
	}
	return strings.TrimSuffix(string(out), "\n")
}
