package node_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
)

// TestDiskFaultRefusesEntries: while Config.Disk reports a full or
// read-only disk, entries are refused with EUnavailable saying which and
// that they were not logged, nothing reaches the log, and DiskFault says
// why; once the disk is mended, entries are accepted again.
func TestDiskFaultRefusesEntries(t *testing.T) {
	var fault atomic.Pointer[error]
	f := &fixture{t: t, auth: newKey(t, "authority"), dir: t.TempDir()}
	f.disk = func() error {
		if p := fault.Load(); p != nil {
			return *p
		}
		return nil
	}
	f.open()
	t.Cleanup(f.close)
	mon := newKey(t, "monitor")
	f.must(f.keyEntry(mon))
	ctx := context.Background()
	size := func() uint64 {
		t.Helper()
		n, err := f.lg.IntegratedSize(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// faultSeen waits until DiskFault says want ("": nil).
	faultSeen := func(want string) {
		t.Helper()
		says := func() string {
			if err := f.n.DiskFault(); err != nil {
				return err.Error()
			}
			return ""
		}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(5 * time.Second)
		for says() != want {
			select {
			case <-tick.C:
			case <-deadline:
				t.Fatalf("DiskFault() says %q after 5s, want %q", says(), want)
			}
		}
	}
	before := size()
	for i, tc := range []struct {
		errno syscall.Errno
		says  string
	}{
		{syscall.ENOSPC, "the server's disk is full (no space left on device); the entry was not logged"},
		{syscall.EROFS, "the server's disk is read-only (read-only file system); the entry was not logged"},
	} {
		err := fmt.Errorf("/data has 0 KiB free: %w", tc.errno)
		fault.Store(&err)
		_, got := f.submit(f.sign(entry.KindObservation, obs(fmt.Sprintf("o%d", i), i), mon))
		if guarantor.ErrorCode(got) != guarantor.EUnavailable || !strings.HasPrefix(got.Error(), tc.says) {
			t.Fatalf("submit on a disk at fault (%v): %v (code %s), want %s: %q", tc.errno, got, guarantor.ErrorCode(got), guarantor.EUnavailable, tc.says)
		}
		faultSeen(strings.SplitN(tc.says, ";", 2)[0])
	}
	if got := size(); got != before {
		t.Fatalf("the log grew from %d to %d while the disk was at fault", before, got)
	}
	fault.Store(nil)
	f.must(f.sign(entry.KindObservation, obs("o0", 0), mon))
	faultSeen("")
}
