package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runDemoUntilReady starts the demo in-process and returns the verify
// command it prints, then stops it when the test ends.
func runDemoUntilReady(t *testing.T, args ...string) (verifyArgs []string, output string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	e := &env{stdin: strings.NewReader(""), stdout: pw, stderr: os.Stderr}
	done := make(chan int, 1)
	dir := t.TempDir() // before the cleanup below, so removed after it
	go func() {
		done <- run(ctx, e, append([]string{"demo", "--data", dir + "/demo"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("demo exited %d", code)
			}
		case <-time.After(60 * time.Second):
			t.Error("demo did not stop within 60s")
		}
	})
	var b strings.Builder
	sc := bufio.NewScanner(pr)
	verifyLine := regexp.MustCompile(`go run ./cmd/guarantor (verify .*)$`)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if m := verifyLine.FindStringSubmatch(sc.Text()); m != nil {
			verifyArgs = strings.Fields(m[1])
		}
		if strings.HasPrefix(sc.Text(), "press Ctrl-C") {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return verifyArgs, b.String()
		}
	}
	t.Fatalf("demo stopped before it was ready:\n%s", b.String())
	return nil, ""
}

func TestDemoPrintsAVerifyCommandThatSucceeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	args, out := runDemoUntilReady(t, "--days", "3")
	if !strings.Contains(out, "imported a partner's open-source feed (SYNTHETIC, UCDP layout) through the import path: read ") {
		t.Errorf("demo did not import the partner feed:\n%s", out)
	}
	if !strings.Contains(out, "SYNTHETIC") {
		t.Errorf("demo output does not label the generated scenario synthetic:\n%s", out)
	}
	if args == nil {
		t.Fatalf("no verify command in:\n%s", out)
	}
	var stdout, stderr strings.Builder
	if code := run(context.Background(), &env{stdout: &stdout, stderr: &stderr}, args); code != 0 {
		t.Fatalf("%v exited %d: %s", args, code, stderr.String())
	}
	t.Log(stdout.String())

	// The demo's SYNTHETIC exchange: its public progress, from the log.
	url := regexp.MustCompile(`serving on (http://\S+)`).FindStringSubmatch(out)
	if url == nil {
		t.Fatalf("no server URL in:\n%s", out)
	}
	stdout.Reset()
	if code := run(context.Background(), &env{stdout: &stdout, stderr: &stderr}, []string{"exchange", "progress", "--server", url[1], "--exchange", demoExchangeID}); code != 0 {
		t.Fatalf("exchange progress exited %d: %s", code, stderr.String())
	}
	if !regexp.MustCompile(`^exchange all-for-all-demo: [1-9][0-9]* held on both sides' lists, [1-9][0-9]* in 2 batches, [1-9][0-9]* released, [1-9][0-9]* received: [0-9.]+% complete\n$`).MatchString(stdout.String()) {
		t.Fatalf("exchange progress: %q", stdout.String())
	}
}

func TestDemoWithUCDP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	const file = "../../../shared/data/ucdp-ged-ukraine-2016-2023.csv"
	if _, err := os.Stat(file); err != nil {
		t.Skipf("UCDP data not found at %s (it lives in ../shared/data beside the repository): %v", file, err)
	}
	args, out := runDemoUntilReady(t, "--ucdp", file)
	if !strings.Contains(out, "submitted 1879 observations (1879 new") {
		t.Fatalf("demo did not submit all 1,879 UCDP events:\n%s", out)
	}
	var stdout, stderr strings.Builder
	if code := run(context.Background(), &env{stdout: &stdout, stderr: &stderr}, args); code != 0 {
		t.Fatalf("verify exited %d: %s", code, stderr.String())
	}
}
