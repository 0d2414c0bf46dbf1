package main

import (
	"bufio"
	"context"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/transparency-dev/tessera/api"
)

// demoLog runs the demo into dir until it is ready, then stops it, and
// returns its output.
func demoLog(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: pw, stderr: os.Stderr}, append([]string{"demo", "--data", dir}, args...))
		pw.Close()
	}()
	var b strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "press Ctrl-C") {
			cancel()
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			if code := <-done; code != 0 {
				t.Fatalf("demo exited %d:\n%s", code, b.String())
			}
			return b.String()
		}
	}
	t.Fatalf("demo stopped before it was ready:\n%s", b.String())
	return ""
}

// TestReplayTheUCDPDemo: the demo log of real UCDP events and simulated
// monitors reporting them replays byte for byte, from the data directory
// and over HTTP.
func TestReplayTheUCDPDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	const file = "../../../shared/data/ucdp-ged-ukraine-2016-2023.csv"
	if _, err := os.Stat(file); err != nil {
		t.Skipf("UCDP data not found at %s (it lives in ../shared/data beside the repository): %v", file, err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	out := demoLog(t, dir, "--ucdp", file)
	if !regexp.MustCompile(`\d+ SYNTHETIC reports of the same events by 6 simulated independent monitors`).MatchString(out) {
		t.Fatalf("no simulated monitors in:\n%s", out)
	}
	code, stdout, stderr := cli(t, "", "replay", "--data", dir)
	m := regexp.MustCompile(`^OK: replayed (\d+) entries of \S+; (\d+) derived entries checked byte for byte, 0 emitted but not yet logged`).FindStringSubmatch(stdout)
	if code != 0 || m == nil {
		t.Fatalf("replay: exit %d\n%s%s", code, stdout, stderr)
	}
	if n, _ := strconv.Atoi(m[2]); n < 1879 {
		t.Fatalf("only %d derived entries for 1,879 real events and their echoes", n)
	}
	t.Log(strings.TrimSpace(stdout))
}

// TestReplayFindsATamperedDerivedEntry: an incident entry changed in a
// copy of the log, even re-signed with the engine key itself, makes
// replay fail at exactly its index, showing both texts.
func TestReplayFindsATamperedDerivedEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	demoLog(t, dir, "--days", "2")
	if code, stdout, stderr := cli(t, "", "replay", "--data", dir); code != 0 {
		t.Fatalf("untampered replay: exit %d\n%s%s", code, stdout, stderr)
	}
	engineKey, err := keyfile.Signer(filepath.Join(dir, "keys", "engine.key"))
	if err != nil {
		t.Fatal(err)
	}
	incidents := derivedIndexes(t, filepath.Join(dir, "log"))
	if len(incidents) < 100 {
		t.Fatalf("%d incident entries in the demo log", len(incidents))
	}
	for _, victim := range []uint64{incidents[len(incidents)/3], incidents[len(incidents)-1]} {
		copyDir := filepath.Join(t.TempDir(), "copy")
		if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		rewriteEntry(t, filepath.Join(copyDir, "log"), victim, func(text string) string {
			// One more reported event than the engine counted.
			re := regexp.MustCompile(`"count":(\d+)`)
			m := re.FindStringSubmatch(text)
			n, _ := strconv.Atoi(m[1])
			return strings.Replace(text, m[0], fmt.Sprintf(`"count":%d`, n+1), 1)
		}, engineKey)
		code, stdout, stderr := cli(t, "", "replay", "--data", copyDir)
		want := fmt.Sprintf("first divergence: entry %d (derived seq ", victim)
		if code != 1 || !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "expected (the engine):\nguarantor.v1/incident\n") ||
			!strings.Contains(stdout, "found (the log):\nguarantor.v1/incident\n") || !strings.Contains(stderr, fmt.Sprintf("entry %d", victim)) {
			t.Fatalf("tampered entry %d: exit %d\nstdout:\n%s\nstderr:\n%s", victim, code, stdout, stderr)
		}
	}
}

// bundleFiles maps each entry bundle file under logDir to the index of
// its first entry.
func bundleFiles(t *testing.T, logDir string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	root := filepath.Join(logDir, "tile", "entries")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		idx, _, _ := strings.Cut(filepath.ToSlash(rel), ".p/")
		n, err := strconv.ParseUint(strings.NewReplacer("x", "", "/", "").Replace(idx), 10, 64)
		if err != nil {
			return fmt.Errorf("bundle path %s: %w", rel, err)
		}
		out[path] = n * 256
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readBundle(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b api.EntryBundle
	if err := b.UnmarshalText(raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b.Entries
}

// derivedIndexes returns the log indexes of every incident entry.
func derivedIndexes(t *testing.T, logDir string) []uint64 {
	t.Helper()
	seen := map[uint64]bool{}
	for path, first := range bundleFiles(t, logDir) {
		for i, raw := range readBundle(t, path) {
			if strings.HasPrefix(string(raw), entry.Prefix+string(entry.KindIncident)+"\n") {
				seen[first+uint64(i)] = true
			}
		}
	}
	var out []uint64
	for i := range seen {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// rewriteEntry replaces the entry at index, in every bundle file holding
// it, by edit of its text signed again with signer.
func rewriteEntry(t *testing.T, logDir string, index uint64, edit func(string) string, signer interface {
	Name() string
	KeyHash() uint32
	Sign([]byte) ([]byte, error)
}) {
	t.Helper()
	n := 0
	for path, first := range bundleFiles(t, logDir) {
		ents := readBundle(t, path)
		if index < first || index >= first+uint64(len(ents)) {
			continue
		}
		e, err := entry.Parse(ents[index-first])
		if err != nil {
			t.Fatal(err)
		}
		body := json.RawMessage(strings.SplitN(edit(e.Text), "\n", 3)[1])
		ents[index-first], err = entry.Sign(entry.KindIncident, body, signer)
		if err != nil {
			t.Fatal(err)
		}
		var buf []byte
		for _, raw := range ents {
			buf = bin.BigEndian.AppendUint16(buf, uint16(len(raw)))
			buf = append(buf, raw...)
		}
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no bundle holds entry %d", index)
	}
}
