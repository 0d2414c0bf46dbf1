//go:build linux

package main

// Disk faults under a running server: a data directory on a small tmpfs
// that fills up, or turns read-only, while clients submit; and commands
// started on such a disk.
//
// What Tessera v1.0.4's POSIX driver does on a faulty disk (read from
// storage/posix/files.go and file_ops.go; these tests confirm it):
//
//   - Every write is a temporary file opened with O_SYNC, linked or
//     renamed into place, then the directory fsynced. A sequencing batch
//     (sequenceBatch) writes its entry bundles, then the hash tiles, then
//     .state/treeState, under one lock. When a write fails with ENOSPC the
//     batch returns the error, every future of the batch resolves to it,
//     and treeState is not advanced. The next batch re-reads treeState and
//     writes the same bundle and tile paths again (overwrite), so what the
//     failed batch left (a bundle or partial tile naming entries never
//     integrated) is replaced, or lies beyond every tree size and is never
//     read. Tessera keeps no other state between batches, so it recovers
//     by itself once there is room.
//   - But it leaks the temporary file of a failed write: createTemp sets
//     its named result to "" when it returns the error, before its
//     deferred os.Remove(name) runs, which then removes "" (logged as
//     "Failed to remove temporary file name=\"\""). On a full disk every
//     failed checkpoint publication leaves an empty log/checkpointNNNN,
//     one per checkpoint interval, and a failed bundle, tile or tree
//     state write leaves its partial file beside its target (under tile/
//     or .state/). They are never read, and cost
//     an inode and what was written; the server's reserve (checkDisk)
//     makes Tessera meet ENOSPC seldom.
//   - The errno is lost on the way: createEx and overwrite wrap
//     createTemp's error with %v, so errors.Is(err, syscall.ENOSPC) is
//     false for a future's error and only its text ("no space left on
//     device") tells. node classifies disk errors by both.
//   - A checkpoint that cannot be written is only logged (a klog warning,
//     "publishCheckpoint: ...") and tried again at the next interval:
//     entries already integrated stay unpublished, and their requests
//     wait, until there is room. So does the projection's follower when
//     SQLite cannot write (SQLITE_FULL). The node answers such requests
//     503 ("may be logged: resubmit the same bytes") once the disk has
//     been at fault for a few seconds, instead of letting them hang.
//   - On a read-only file system the driver panics: sequenceBatch takes
//     .state/treeState.lock by os.OpenFile(O_CREAT|O_RDWR), which fails
//     with EROFS, and it panics on any error taking the lock. So the first
//     entry handed to the log after the disk turned read-only kills the
//     process. The node therefore asks the disk (node.Config.Disk) before
//     it hands an entry to the log; an entry handed in the instant before
//     the remount can still meet the panic, a window only Tessera can
//     close (by returning lockFile's error instead of panicking).
//
// A tmpfs cannot be remounted read-only while a process holds a file on
// it open for writing (mount(2) answers EBUSY), and the server keeps its
// SQLite projection and its lock file open. So the read-only test
// bind-mounts the data directory over itself once the server runs and
// remounts that bind mount read-only: every file opened afterwards fails
// with EROFS, which is every write of Tessera's (each is a fresh file),
// while the files the server already holds stay writable, as if only the
// log's disk had failed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	ghttp "github.com/guarantor/guarantor/http"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and
// unmounts it, with whatever is mounted over it, when the test ends. It
// skips the test where mount(2) is refused.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("simulating a full or read-only disk needs root and mount(2): mount -t tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		// Detached, so that a server still exiting cannot hold it busy;
		// a bind mount over it comes off first.
		for range 3 {
			if syscall.Unmount(dir, syscall.MNT_DETACH) != nil {
				break
			}
		}
	})
	return dir
}

// resize grows or shrinks the tmpfs at dir.
func resize(t *testing.T, dir string, size int) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%d", size)); err != nil {
		t.Fatalf("mount -o remount,size=%d %s: %v", size, dir, err)
	}
}

// fill writes a file on the file system of dir until it is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 2*st.Blocks*uint64(st.Bsize))); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
	}
}

// stopAtEnd kills s at the end of the test if it is still running (a
// failed test leaves it so), so that its disk can be unmounted; if the
// test failed, it logs what the server wrote.
func stopAtEnd(t *testing.T, s *server) {
	t.Cleanup(func() {
		if s.cmd.Process.Kill() == nil || t.Failed() {
			select {
			case <-s.done:
			case <-time.After(5 * time.Second): // done was taken: it had exited
			}
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr)
		}
	})
}

// alive fails the test if s has exited.
func alive(t *testing.T, s *server) {
	t.Helper()
	select {
	case err := <-s.done:
		t.Fatalf("the server exited (%v); stderr:\n%s", err, s.stderr)
	default:
	}
}

// stamps matches what differs between log lines that say the same: the
// times and durations of slog's JSON, log's text and klog.
var stamps = regexp.MustCompile(`"time":"[^"]*",|,"ms":\d+|^\d{4}/\d\d/\d\d [\d:]+ |^[IWEF]\d{4} [\d:.]+ +\d+ `)

// calmStderr fails the test if the stopped server s panicked, and logs
// the distinct messages it wrote.
func calmStderr(t *testing.T, s *server) {
	t.Helper()
	out := s.stderr.String()
	if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
		t.Fatalf("the server panicked; stderr:\n%s", out)
	}
	seen := map[string]int{}
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if l = stamps.ReplaceAllString(l, ""); l != "" {
			seen[l]++
		}
	}
	for l, n := range seen {
		if n > 1 {
			l = fmt.Sprintf("%s (%d times)", l, n)
		}
		t.Logf("server stderr: %s", l)
	}
}

// refusedFor reports whether err is the server's clear refusal of an
// entry for a disk fault: a 503 or 507 problem whose detail says so.
func refusedFor(err error, fault string) bool {
	var pe *problemError
	return errors.As(err, &pe) &&
		(pe.p.Status == http.StatusServiceUnavailable || pe.p.Status == http.StatusInsufficientStorage) &&
		strings.Contains(pe.p.Detail, fault)
}

// tally records what the server answered to submissions.
type tally struct {
	mu      sync.Mutex
	acks    map[uint64]acked // by index
	refused [][]byte         // refused for the disk, perhaps logged anyway
	said    map[string]int   // the refusals' details
	other   []error          // anything else: a hang, a dead server, a vague error
}

func newTally() *tally { return &tally{acks: map[uint64]acked{}, said: map[string]int{}} }

// submit submits raw and records the answer; fault is what a refusal's
// detail must say. It reports whether the entry was acknowledged.
func (ty *tally) submit(c *client, raw []byte, fault string) bool {
	start := time.Now()
	rc, _, err := c.submit(context.Background(), raw)
	ty.mu.Lock()
	defer ty.mu.Unlock()
	switch {
	case err == nil:
		if a, ok := ty.acks[rc.Index]; ok && !bytes.Equal(a.raw, raw) {
			ty.other = append(ty.other, fmt.Errorf("two different entries acknowledged at index %d", rc.Index))
		}
		ty.acks[rc.Index] = acked{raw, *rc}
		return true
	case refusedFor(err, fault):
		ty.refused = append(ty.refused, raw)
		ty.said[err.Error()]++
	default:
		ty.other = append(ty.other, fmt.Errorf("after %s: %w", time.Since(start).Round(time.Millisecond), err))
	}
	return false
}

// failed reports whether some answer was neither a receipt nor a clear
// refusal.
func (ty *tally) failed() bool {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	return len(ty.other) > 0
}

// logRefusals logs the refusals' details, and how often each was said.
func (ty *tally) logRefusals(t *testing.T) {
	t.Helper()
	ty.mu.Lock()
	defer ty.mu.Unlock()
	for said, n := range ty.said {
		t.Logf("%d× %s", n, said)
	}
}

// check fails the test if any answer was not a receipt or a clear
// refusal.
func (ty *tally) check(t *testing.T) {
	t.Helper()
	ty.mu.Lock()
	defer ty.mu.Unlock()
	for _, err := range ty.other {
		t.Errorf("not a receipt and not a clear refusal: %v", err)
	}
	if len(ty.other) > 0 {
		t.FailNow()
	}
}

// submitAll submits raws, 16 at a time, and records the answers; fault
// is what a refusal's detail must say ("" if none is expected). It
// reports how many were acknowledged.
func (ty *tally) submitAll(c *client, raws [][]byte, fault string) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, raw := range raws {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if ty.submit(c, raw, fault) {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return int(n.Load())
}

// resubmitRefused submits every refused entry again, now that the disk
// has room: each must be acknowledged, at one index.
func (ty *tally) resubmitRefused(t *testing.T, c *client) {
	t.Helper()
	ty.mu.Lock()
	refused := ty.refused
	ty.refused = nil
	ty.mu.Unlock()
	if got := ty.submitAll(c, refused, ""); got != len(refused) {
		ty.check(t)
		t.Fatalf("%d of %d entries refused for the disk were refused again once it had room", len(refused)-got, len(refused))
	}
}

// checkLogged proves every acknowledged entry is in the log at its
// receipt's index with its leaf hash, under a checkpoint of the log key.
func (ty *tally) checkLogged(t *testing.T, c *client, f *fixture) {
	t.Helper()
	ty.mu.Lock()
	defer ty.mu.Unlock()
	for i, a := range ty.acks {
		if _, err := a.rc.Verify(f.logV, a.raw); err != nil {
			t.Fatalf("receipt for index %d does not verify: %v", i, err)
		}
		var ev ghttp.EntryView
		if err := c.getJSON(context.Background(), fmt.Sprintf("/v1/entries/%d", i), &ev); err != nil {
			t.Fatalf("acknowledged entry %d: %v", i, err)
		}
		if ev.Note != string(a.raw) || !bytes.Equal(ev.LeafHash, guarantor.LeafHash(a.raw)) {
			t.Fatalf("log index %d holds another entry than the one acknowledged there", i)
		}
	}
}

// recover submits fresh observations until one is acknowledged; until
// then each must be refused for fault.
func (ty *tally) recover(t *testing.T, c *client, f *fixture, prefix, fault string) {
	t.Helper()
	var i int
	err := pollUntil(context.Background(), 30*time.Second, 50*time.Millisecond, func(context.Context) (bool, error) {
		i++
		return ty.submit(c, observation(t, f.monitor, fmt.Sprintf("%s-%04d", prefix, i)), fault), nil
	})
	ty.check(t)
	if err != nil {
		t.Fatalf("writes did not succeed again once the disk was mended: %v", err)
	}
	t.Logf("writes succeeded again after %d attempts", i)
}

// quiet waits until the server's engine has logged everything it has
// emitted, so that no derived entry is on its way to the log.
func quiet(t *testing.T, c *client) {
	t.Helper()
	err := pollUntil(context.Background(), 30*time.Second, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
		h, err := getHealth(ctx, c)
		return err == nil && h.Engine != nil && h.Engine.Pending == 0, err
	})
	if err != nil {
		t.Fatalf("the engine did not settle: %v", err)
	}
}

// reads checks that the read API answers: the log, an entry, the
// checkpoint; and returns what /healthz says.
func reads(t *testing.T, c *client, f *fixture) string {
	t.Helper()
	var lg struct{ Size uint64 }
	if err := c.getJSON(context.Background(), "/v1/log", &lg); err != nil || lg.Size == 0 {
		t.Fatalf("GET /v1/log: size %d, %v", lg.Size, err)
	}
	var ev ghttp.EntryView
	if err := c.getJSON(context.Background(), "/v1/entries/0", &ev); err != nil {
		t.Fatalf("GET /v1/entries/0: %v", err)
	}
	for _, path := range []string{"/log/checkpoint", "/healthz"} {
		resp, err := c.http.Get(c.base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case path == "/log/checkpoint" && (resp.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte(f.info.Origin+"\n"))):
			t.Fatalf("GET %s: %s %q", path, resp.Status, b)
		case path == "/healthz":
			return fmt.Sprintf("%s %s", resp.Status, bytes.TrimSpace(b))
		}
	}
	return ""
}

// auditDisk runs guarantor verify on the stopped server's data directory, and
// proves that a projection rebuilt from the log exports the same bytes as
// the live one.
func auditDisk(t *testing.T, data string) {
	t.Helper()
	if code, out, errs := cli(t, "", "verify", "--data", data); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("verify --data: exit %d\n%s%s", code, out, errs)
	}
	ctx := context.Background()
	var live, rebuilt bytes.Buffer
	if err := exportProjection(ctx, dataDir(data).projection(), &live); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli(t, "", "rebuild", "--data", data); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s%s", code, out, errs)
	}
	if err := exportProjection(ctx, dataDir(data).projection(), &rebuilt); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live.Bytes(), rebuilt.Bytes()) {
		t.Fatalf("the projection rebuilt from the log differs from the live one (%d vs %d bytes)", rebuilt.Len(), live.Len())
	}
}

// TestDiskFullWhileServing fills the server's disk under concurrent
// clients: every answer is a receipt or a prompt 503 saying the disk is
// full, the server keeps running and keeps serving reads, and once the
// disk grows writes succeed again, without a restart. Every entry ever
// acknowledged is then in the log, the log audits, and the projection
// equals one rebuilt from the log.
func TestDiskFullWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and fills a disk")
	}
	// A few hundred entries (observations, and the engine's incident for
	// each) fill 4 MiB: the projection's write-ahead log grows by some
	// pages a batch, and every batch rewrites its partial entry bundle.
	disk := mountTmpfs(t, 4<<20)
	f := newFixtureIn(t, disk, "monitor.disk-full")
	s := startServer(t, f.data, "--tick", "1h")
	stopAtEnd(t, s)
	c := newClient(s.url)
	c.http.Timeout = 10 * time.Second // a hang is a failure, not a wait
	f.registerMonitor(t, c)

	ty := newTally()
	const workers, refusals = 16, 40
	var refused atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(40 * time.Second)
	for w := range workers {
		wg.Go(func() {
			for i := 0; refused.Load() < refusals && !ty.failed() && time.Now().Before(deadline); i++ {
				if !ty.submit(c, observation(t, f.monitor, fmt.Sprintf("full-w%02d-%05d", w, i)), "disk is full") {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	ty.check(t)
	alive(t, s)
	if refused.Load() < refusals {
		t.Fatalf("the disk did not fill within 40s: %d entries acknowledged", len(ty.acks))
	}
	t.Logf("disk full after %d acknowledged entries; %d refused", len(ty.acks), len(ty.refused))
	ty.logRefusals(t)
	if len(ty.acks) < 50 {
		t.Fatalf("only %d entries acknowledged before the disk was full; the disk is too small to mean much", len(ty.acks))
	}
	t.Logf("full: /healthz says %s", reads(t, c, f))

	resize(t, disk, 64<<20)
	ty.recover(t, c, f, "grown", "disk is full")
	ty.resubmitRefused(t, c)
	var more [][]byte
	for i := range 40 {
		more = append(more, observation(t, f.monitor, fmt.Sprintf("after-%02d", i)))
	}
	if got := ty.submitAll(c, more, ""); got != len(more) {
		ty.check(t)
		t.Fatalf("%d of %d entries refused after the disk had grown", len(more)-got, len(more))
	}
	ty.checkLogged(t, c, f)
	t.Logf("grown: /healthz says %s", reads(t, c, f))
	quiet(t, c)
	s.term(t)
	calmStderr(t, s)
	auditDisk(t, f.data)
}

// TestReadOnlyDiskWhileServing turns the server's disk read-only while
// it runs: writes are refused at once with a 503 saying so, nothing is
// acknowledged, reads still work and the server keeps running; once the
// disk is read-write again, writes succeed without a restart, every
// acknowledged entry is in the log and the log audits.
func TestReadOnlyDiskWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and remounts a disk")
	}
	disk := mountTmpfs(t, 64<<20)
	f := newFixtureIn(t, disk, "monitor.read-only")
	s := startServer(t, f.data, "--tick", "1h")
	stopAtEnd(t, s)
	c := newClient(s.url)
	c.http.Timeout = 10 * time.Second
	f.registerMonitor(t, c)
	ty := newTally()
	for i := range 20 {
		ty.submit(c, observation(t, f.monitor, fmt.Sprintf("before-%02d", i)), "")
	}
	ty.check(t)
	// Nothing may be on its way to the log when the disk turns: see the
	// comment at the top about Tessera's panic.
	quiet(t, c)

	// Read-only: see the comment at the top for why a bind mount.
	if err := syscall.Mount(disk, disk, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("mount --bind %s %s: %v", disk, disk, err)
	}
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("mount -o remount,bind,ro %s: %v", disk, err)
	}
	for i := range 10 {
		if ty.submit(c, observation(t, f.monitor, fmt.Sprintf("ro-%02d", i)), "read-only") {
			t.Fatal("an entry was acknowledged while the disk was read-only")
		}
	}
	ty.check(t)
	alive(t, s)
	ty.logRefusals(t)
	t.Logf("read-only: /healthz says %s", reads(t, c, f))

	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_BIND, ""); err != nil {
		t.Fatalf("mount -o remount,bind,rw %s: %v", disk, err)
	}
	ty.recover(t, c, f, "rw", "read-only")
	ty.resubmitRefused(t, c)
	ty.checkLogged(t, c, f)
	t.Logf("read-write: /healthz says %s", reads(t, c, f))
	quiet(t, c)
	s.term(t)
	calmStderr(t, s)
	auditDisk(t, f.data)
}

// TestStartOnReadOnlyOrFullDisk: serve on a read-only or full data
// directory, and init on a full disk, exit non-zero with one line naming
// the directory, the fault and the mend.
func TestStartOnReadOnlyOrFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// oneLine runs the binary and returns its one line on stderr.
	oneLine := func(t *testing.T, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, binary(t), args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
			t.Fatalf("guarantor %v: %v, want a non-zero exit; stderr:\n%s", args, err, &stderr)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("guarantor %v wrote %d lines to stderr, want one:\n%s", args, len(lines), &stderr)
		}
		t.Logf("guarantor %s: exit %d: %s", args[0], ee.ExitCode(), lines[0])
		return lines[0]
	}
	t.Run("serve on a read-only disk", func(t *testing.T) {
		disk := mountTmpfs(t, 8<<20)
		f := newFixtureIn(t, disk, "monitor.ro-start")
		if err := syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Fatalf("mount -o remount,ro %s: %v", disk, err)
		}
		line := oneLine(t, "serve", "--data", f.data, "--addr", "127.0.0.1:0")
		for _, want := range []string{f.data, "read-only", "remount"} {
			if !strings.Contains(line, want) {
				t.Errorf("serve on a read-only disk said %q; want it to say %q", line, want)
			}
		}
	})
	t.Run("serve on a full disk", func(t *testing.T) {
		disk := mountTmpfs(t, 8<<20)
		f := newFixtureIn(t, disk, "monitor.full-start")
		fill(t, disk)
		line := oneLine(t, "serve", "--data", f.data, "--addr", "127.0.0.1:0")
		for _, want := range []string{f.data, "full", "free space"} {
			if !strings.Contains(line, want) {
				t.Errorf("serve on a full disk said %q; want it to say %q", line, want)
			}
		}
	})
	t.Run("init on a full disk", func(t *testing.T) {
		disk := mountTmpfs(t, 1<<20)
		fill(t, disk)
		data := filepath.Join(disk, "data")
		line := oneLine(t, "init", "--data", data)
		for _, want := range []string{data, "full", "free space"} {
			if !strings.Contains(line, want) {
				t.Errorf("init on a full disk said %q; want it to say %q", line, want)
			}
		}
		// It left nothing half made: once there is room, init succeeds.
		if ents, _ := os.ReadDir(data); len(ents) != 0 {
			t.Errorf("a failed init left %d files in %s", len(ents), data)
		}
		resize(t, disk, 64<<20)
		if out, err := exec.Command(binary(t), "init", "--data", data).CombinedOutput(); err != nil {
			t.Fatalf("init once there is room: %v: %s", err, out)
		}
	})
}
