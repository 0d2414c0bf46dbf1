// Command guarantor runs a ceasefire's security guarantees as verifiable
// software: a transparency log of signed entries, its server, its tools and
// an independent auditor. Run "guarantor help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// env is what a command may touch of the process: its streams.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]command{
	"keygen":   {"generate a signing key: keygen --name NAME --out FILE", runKeygen},
	"init":     {"create a data directory with an empty log and its keys: init --data DIR", runInit},
	"sign":     {"sign an entry: sign --key FILE --kind KIND (--body JSON | --body-file FILE); or add a signature: sign --key FILE --cosign < note", runSign},
	"serve":    {"run the server: serve --data DIR --addr 127.0.0.1:8080", runServe},
	"submit":   {"submit signed notes and print one receipt per line: submit --server URL FILE... (- for stdin)", runSubmit},
	"rebuild":  {"delete the projection and rebuild it from the log: rebuild --data DIR", runRebuild},
	"receipt":  {"verify a receipt offline: receipt verify --log-vkey V receipt.json entry.note", runReceipt},
	"verify":   {"audit a log and replay its engine: verify (--server URL | --data DIR) [--state FILE] [--no-replay]", runVerify},
	"replay":   {"re-run the engine over a log and compare every derived entry byte for byte: replay (--server URL | --data DIR)", runReplay},
	"import":   {"import real event data: import (ucdp|acled) FILE --key KEY --server URL", runImport},
	"field":    {"offline field kit: field sign --key KEY --spool DIR --body JSON; field sync --server URL --spool DIR", runField},
	"demo":     {"run a demo: a temporary log, generated observations, a server and a verify command", runDemo},
	"loadgen":  {"measure a server: loadgen --server URL --data DIR --n N --concurrency C", runLoadgen},
	"witness":  {"run a C2SP tlog-witness: witness --data DIR --addr ADDR (--log ORIGIN=VKEY ... | --guarantor DATA); prints its policy line", runWitness},
	"config":   {"print a commented example --config file, every flag at its default: config example [serve|witness] > guarantor.yaml", runConfig},
	"exchange": {"prisoner exchange: exchange upload --server URL --key PARTY.key --exchange ID --list held|claimed PEOPLE.json; exchange progress --server URL --exchange ID; exchange check --server URL --exchange ID --opening FILE --family NAME ...", runExchange},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// usageError marks an error in how the command was invoked.
type usageError struct{ msg string }

// Error returns the message.
func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run executes one command and returns the process exit code. Every
// failure is one line on stderr saying what is wrong and how to mend it.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "guarantor: unknown command %q; run \"guarantor help\" for the list\n", args[0])
		return 2
	}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if hint := diskHint(err); hint != "" {
		msg += "; " + hint
	}
	fmt.Fprintf(e.stderr, "guarantor %s: %s\n", args[0], msg)
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "guarantor: a ceasefire's security guarantees as verifiable software")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run \"guarantor COMMAND -h\" for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("guarantor "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(e *env, fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stderr)
			fs.PrintDefaults()
			return err
		}
		return usagef("%v (run with -h for the flags)", err)
	}
	return nil
}
