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
	"sync"
	"sync/atomic"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/acled"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/eventcsv"
	ghttp "github.com/guarantor/guarantor/http"
	"github.com/guarantor/guarantor/keyfile"
	"github.com/guarantor/guarantor/ucdp"
	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/mod/sumdb/note"
)

// importStats counts what an import did.
type importStats struct {
	read, created, duplicates, badRows, refused atomic.Int64
}

func (s *importStats) String() string {
	return fmt.Sprintf("read %d rows, submitted %d (%d new, %d already logged), rejected %d (%d bad rows, %d refused by the server)",
		s.read.Load(), s.created.Load()+s.duplicates.Load(), s.created.Load(), s.duplicates.Load(),
		s.badRows.Load()+s.refused.Load(), s.badRows.Load(), s.refused.Load())
}

// importOptions shape an import.
type importOptions struct {
	batch       int  // notes per request
	concurrency int  // requests in flight
	strict      bool // stop at the first bad row
	progress    string
}

func runImport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "ucdp" && args[0] != "acled") {
		return usagef("usage: guarantor import (ucdp|acled) FILE --key KEY --server URL")
	}
	format := args[0]
	fs := newFlags(e, "import "+format)
	key := fs.String("key", "", "key that signs the observations (registered with an observing role; required)")
	server := fs.String("server", "", "server URL (required)")
	var o importOptions
	fs.IntVar(&o.batch, "batch", 250, "notes per request (at most 1000)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "requests in flight")
	fs.BoolVar(&o.strict, "strict", false, "stop at the first bad row")
	fs.StringVar(&o.progress, "progress", "auto", "auto (a bar on a terminal, lines otherwise), bar, lines or none")
	// The file may come before or after the flags.
	rest := args[1:]
	var file string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if err := parseFlags(e, fs, rest); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" || *key == "" || *server == "" || o.batch < 1 || o.batch > ghttp.MaxBatchNotes || o.concurrency < 1 {
		return usagef("usage: guarantor import %s FILE --key KEY --server URL [--batch 1-1000] [--concurrency N] [--strict]", format)
	}
	signer, err := keyfile.Signer(*key)
	if err != nil {
		return err
	}
	stats, err := importFile(ctx, newClient(*server), signer, format, file, o, e.stderr)
	if stats != nil {
		fmt.Fprintf(e.stdout, "import: %s\n", stats)
	}
	return err
}

// eventReader yields events of a dataset as observations.
type eventReader interface {
	// next returns the row's line and observation, io.EOF, a *RowError
	// (the reader goes on), or another error (it stops).
	next() (int, entry.Observation, error)
}

type ucdpEvents struct{ r *ucdp.Reader }

func (u ucdpEvents) next() (int, entry.Observation, error) {
	ev, err := u.r.Next()
	if err != nil {
		return 0, entry.Observation{}, err
	}
	return ev.Line, ev.Observation(), nil
}

type acledEvents struct{ r *acled.Reader }

func (a acledEvents) next() (int, entry.Observation, error) {
	ev, err := a.r.Next()
	if err != nil {
		return 0, entry.Observation{}, err
	}
	return ev.Line, ev.Observation(), nil
}

// importFile streams an event file (format "ucdp" or "acled") into the
// log: rows are read, turned into observations, signed and sent in
// batches, with constant memory. A bad row is reported with its line and
// column and skipped whole.
func importFile(ctx context.Context, c *client, signer note.Signer, format, path string, o importOptions, w io.Writer) (*importStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	counted := &countingReader{r: f}
	in := bufio.NewReaderSize(counted, 1<<16)
	var r eventReader
	switch format {
	case "ucdp":
		ur, err := ucdp.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = ucdpEvents{ur}
	case "acled":
		ar, err := acled.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = acledEvents{ar}
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	stats := &importStats{}
	prog := newProgress(o.progress, w, st.Size(), counted, stats)
	defer prog.stop()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type item struct {
		line int
		raw  []byte
	}
	batches := make(chan []item, o.concurrency)
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }

	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				// Notes the log was too busy for are sent again, a few times.
				for attempt := 0; len(b) > 0; attempt++ {
					raws := make([][]byte, len(b))
					for i, it := range b {
						raws[i] = it.raw
					}
					results, err := c.submitBatch(ctx, raws)
					if err != nil {
						fail(err)
						break
					}
					var retry []item
					for i, res := range results {
						switch {
						case res.Problem != nil && res.Problem.Code == guarantor.EUnavailable && attempt < 5:
							retry = append(retry, b[i])
						case res.Problem != nil:
							stats.refused.Add(1)
							fmt.Fprintf(w, "%s:%d: refused by the server: %s\n", path, b[i].line, res.Problem.Detail)
							if o.strict {
								fail(fmt.Errorf("%s:%d: refused by the server (--strict)", path, b[i].line))
							}
						case res.Created:
							stats.created.Add(1)
						default:
							stats.duplicates.Add(1)
						}
					}
					b = retry
					if len(b) > 0 {
						select {
						case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
						case <-ctx.Done():
							return
						}
					}
				}
			}
		}()
	}

	var batch []item
	readErr := func() error {
		defer close(batches)
		send := func() bool {
			if len(batch) == 0 {
				return true
			}
			select {
			case batches <- batch:
				batch = nil
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			line, obs, err := r.next()
			if errors.Is(err, io.EOF) {
				send()
				return nil
			}
			var rowErr *eventcsv.RowError
			if errors.As(err, &rowErr) {
				stats.read.Add(1)
				stats.badRows.Add(1)
				fmt.Fprintf(w, "%s:%v\n", path, rowErr)
				if o.strict {
					return fmt.Errorf("%s:%v (--strict stops at the first bad row)", path, rowErr)
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			stats.read.Add(1)
			body, err := json.Marshal(obs)
			if err != nil {
				return err
			}
			raw, err := entry.Sign(entry.KindObservation, body, signer)
			if err != nil {
				return err
			}
			batch = append(batch, item{line: line, raw: raw})
			if len(batch) == o.batch && !send() {
				return nil
			}
		}
	}()
	wg.Wait()
	if readErr != nil {
		return stats, readErr
	}
	return stats, firstErr
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress shows how an import advances: a bar with rate and ETA on a
// terminal (mpb), a plain line every few seconds otherwise.
type progress struct {
	stop func()
}

func newProgress(mode string, w io.Writer, total int64, pos *countingReader, stats *importStats) *progress {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			mode = "bar"
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	switch mode {
	case "bar":
		p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
		bar := p.AddBar(total,
			mpb.PrependDecorators(decor.Name("import "), decor.CountersKibiByte("% .1f / % .1f")),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_GO)),
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					bar.SetCurrent(total)
					p.Wait()
					return
				case <-t.C:
					bar.SetCurrent(min(pos.n.Load(), total))
				}
			}
		}()
	case "lines":
		start := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					el := time.Since(start).Seconds()
					pct := 100 * float64(pos.n.Load()) / float64(max(1, total))
					fmt.Fprintf(w, "import: %.0f%%, %d rows read, %d submitted, %.0f rows/s\n",
						pct, stats.read.Load(), stats.created.Load()+stats.duplicates.Load(), float64(stats.read.Load())/el)
				}
			}
		}()
	}
	var once sync.Once
	return &progress{stop: func() { once.Do(func() { close(done); wg.Wait() }) }}
}

// submitBatch posts notes to /v1/entries:batch and returns one result
// per note, in order.
func (c *client) submitBatch(ctx context.Context, notes [][]byte) ([]ghttp.BatchResult, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, n := range notes {
		if err := enc.Encode(string(n)); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/entries:batch", bytes.NewReader(body.Bytes()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("post batch to %s: %w", c.base, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < 5 {
			resp.Body.Close()
			select {
			case <-time.After(time.Duration(attempt+1) * time.Second):
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			var p ghttp.Problem
			if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p) == nil && p.Code != "" {
				return nil, &problemError{p}
			}
			return nil, fmt.Errorf("server answered %s to a batch", resp.Status)
		}
		out := make([]ghttp.BatchResult, 0, len(notes))
		dec := json.NewDecoder(resp.Body)
		for dec.More() {
			var r ghttp.BatchResult
			if err := dec.Decode(&r); err != nil {
				return nil, fmt.Errorf("read batch answer: %w", err)
			}
			out = append(out, r)
		}
		if len(out) != len(notes) {
			return nil, fmt.Errorf("server answered %d results for %d notes", len(out), len(notes))
		}
		return out, nil
	}
}
