package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	ghttp "github.com/guarantor/guarantor/http"
	"golang.org/x/mod/sumdb/note"
)

func runSubmit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "submit")
	server := fs.String("server", "", "server URL, e.g. http://127.0.0.1:8080 (required)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *server == "" || fs.NArg() == 0 {
		return usagef("give --server URL and one or more note files (- reads notes from stdin)")
	}
	c := newClient(*server)
	for _, name := range fs.Args() {
		var notes [][]byte
		if name == "-" {
			var err error
			if notes, err = splitNotes(e.stdin); err != nil {
				return fmt.Errorf("stdin: %w", err)
			}
		} else {
			b, err := os.ReadFile(name)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			if notes, err = splitNotes(bytes.NewReader(b)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		for i, n := range notes {
			rc, _, err := c.submit(ctx, n)
			if err != nil {
				return fmt.Errorf("%s, note %d: %w", name, i+1, err)
			}
			line, _ := json.Marshal(rc)
			fmt.Fprintf(e.stdout, "%s\n", line)
		}
	}
	return nil
}

// splitNotes reads a stream of guarantor notes written one after another:
// a new note starts at each line beginning with entry.Prefix that follows
// a signature line.
func splitNotes(r io.Reader) ([][]byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), entry.MaxSize+1)
	var notes [][]byte
	var cur bytes.Buffer
	afterSig := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, entry.Prefix) && afterSig {
			notes = append(notes, bytes.Clone(cur.Bytes()))
			cur.Reset()
		}
		afterSig = strings.HasPrefix(line, "— ")
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	if cur.Len() > 0 {
		notes = append(notes, cur.Bytes())
	}
	if len(notes) == 0 {
		return nil, errors.New("no notes found")
	}
	return notes, nil
}

// client talks to a guarantor server.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// problemError is a problem+json answer from the server.
type problemError struct{ p ghttp.Problem }

// Error describes the refusal.
func (e *problemError) Error() string {
	return fmt.Sprintf("server refused (%d %s): %s", e.p.Status, e.p.Code, e.p.Detail)
}

// submit posts one note and returns its receipt and whether it was new.
func (c *client) submit(ctx context.Context, raw []byte) (*guarantor.Receipt, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/entries", bytes.NewReader(raw))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("post to %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, false, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var p ghttp.Problem
		if json.Unmarshal(body, &p) == nil && p.Code != "" {
			return nil, false, &problemError{p}
		}
		return nil, false, fmt.Errorf("server answered %s", resp.Status)
	}
	var rc guarantor.Receipt
	if err := json.Unmarshal(body, &rc); err != nil {
		return nil, false, fmt.Errorf("server answered a malformed receipt: %w", err)
	}
	return &rc, resp.StatusCode == http.StatusCreated, nil
}

// getJSON fetches path from the server into v.
func (c *client) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("get %s%s: %w", c.base, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s%s: %s", c.base, path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func runReceipt(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usagef("usage: guarantor receipt verify --log-vkey V receipt.json entry.note")
	}
	fs := newFlags(e, "receipt verify")
	vkey := fs.String("log-vkey", "", "the log's verifier key (required)")
	if err := parseFlags(e, fs, args[1:]); err != nil {
		return err
	}
	if *vkey == "" || fs.NArg() != 2 {
		return usagef("usage: guarantor receipt verify --log-vkey V receipt.json entry.note")
	}
	v, err := note.NewVerifier(*vkey)
	if err != nil {
		return fmt.Errorf("--log-vkey is not a note verifier key: %w", err)
	}
	rb, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	var rc guarantor.Receipt
	if err := json.Unmarshal(rb, &rc); err != nil {
		return fmt.Errorf("%s is not a receipt (JSON with index, leaf_hash, checkpoint, inclusion_proof): %w", fs.Arg(0), err)
	}
	eb, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("read entry: %w", err)
	}
	cp, err := rc.Verify(v, eb)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "OK: entry is at index %d of %s, proved by the checkpoint of size %d\n", rc.Index, cp.Origin, cp.Size)
	return nil
}
