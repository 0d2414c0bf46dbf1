package node

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/guarantor/guarantor"
)

// A full or read-only disk under the log or the projection. The node
// refuses new entries while Config.Disk reports a fault, and answers the
// requests still waiting for their entries once the fault has lasted
// diskGrace, instead of leaving them waiting on a disk that may not mend
// by itself. Tessera's own disk errors (a failed batch) are refused the
// same way.

// diskGrace is how long requests keep waiting for their entries once the
// disk is at fault: long enough for entries already integrated to be
// published and projected if there is room for that, short enough that
// no client waits long on a disk that needs an operator.
const diskGrace = 3 * time.Second

// diskPoll is how often the node asks Config.Disk about its disk.
const diskPoll = 250 * time.Millisecond

// errDiskStalled ends the wait of a request when the disk has been at
// fault for diskGrace.
var errDiskStalled = errors.New("node: the disk has been at fault too long")

// diskWatch is what the node knows of its disk. Its zero value is a disk
// that is fine.
type diskWatch struct {
	mu      sync.Mutex
	err     error         // the fault; nil while the disk is fine
	last    error         // the latest fault, kept once it clears
	since   time.Time     // when err began
	stalled chan struct{} // closed once err has lasted diskGrace
	closed  bool          // stalled is closed
}

// set records the disk's state at now and reports whether a fault began
// or ended.
func (d *diskWatch) set(err error, now time.Time) (changed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	stalled := d.stalledLocked()
	changed = (err == nil) != (d.err == nil)
	switch {
	case err == nil:
		if d.closed {
			d.stalled, d.closed = make(chan struct{}), false
		}
	case d.err == nil:
		d.since, d.last = now, err
	default:
		d.last = err
		if !d.closed && now.Sub(d.since) >= diskGrace {
			close(stalled)
			d.closed = true
		}
	}
	d.err = err
	return changed
}

// stalledLocked returns d.stalled, made on first use. d.mu is held.
func (d *diskWatch) stalledLocked() chan struct{} {
	if d.stalled == nil {
		d.stalled = make(chan struct{})
	}
	return d.stalled
}

// fault returns the current fault, or nil.
func (d *diskWatch) fault() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// lastFault returns the latest fault, even if it has cleared since.
func (d *diskWatch) lastFault() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// bound returns a context that ends with ctx, or with cause
// errDiskStalled once the disk has been at fault for diskGrace (at once,
// if it already has). Call stop when done.
func (d *diskWatch) bound(ctx context.Context) (bctx context.Context, stop func()) {
	d.mu.Lock()
	stalled := d.stalledLocked()
	d.mu.Unlock()
	bctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-stalled:
			cancel(errDiskStalled)
		case <-bctx.Done():
		}
	}()
	return bctx, func() { cancel(context.Canceled) }
}

// watchDisk asks Config.Disk about the disk every diskPoll until ctx
// ends, and logs each fault once, when it begins and when it ends.
func (n *Node) watchDisk(ctx context.Context) {
	t := time.NewTicker(diskPoll)
	defer t.Stop()
	for {
		err := n.cfg.Disk()
		if n.disk.set(err, time.Now()) {
			if err != nil {
				n.cfg.Logger.Error("disk fault: new entries are refused until it is mended", "err", err)
			} else {
				n.cfg.Logger.Info("disk mended: new entries are accepted again")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkDisk asks Config.Disk, if set, whether an entry may be handed to
// the log now, and returns the refusal if not. It asks afresh rather
// than trusting watchDisk's last answer: Tessera's POSIX driver panics
// when handed an entry on a read-only disk.
func (n *Node) checkDisk() error {
	if n.cfg.Disk == nil {
		return nil
	}
	if err := n.cfg.Disk(); err != nil {
		return diskRefusal(err, false)
	}
	return nil
}

// DiskFault returns why the server's disk cannot take new entries, or
// nil while it can, as last seen by the node (it looks every quarter
// second; never without Config.Disk). Its message is fit for the public,
// such as "the server's disk is full (no space left on device)", and it
// wraps the cause, which names paths. Health checks report it.
func (n *Node) DiskFault() error {
	err := n.disk.fault()
	if err == nil {
		return nil
	}
	return &guarantor.Error{Code: guarantor.EUnavailable, Message: diskWhat(err), Err: err}
}

// diskFaults are the errno values of a disk that cannot take more
// entries, and how a client is told.
var diskFaults = []struct {
	errno syscall.Errno
	what  string
}{
	{syscall.ENOSPC, "full (no space left on device)"},
	{syscall.EDQUOT, "full (disk quota exceeded)"},
	{syscall.EROFS, "read-only (read-only file system)"},
}

// diskTrouble returns what is wrong with the disk according to err, or
// "" if err is not a disk fault. Tessera wraps its file errors with %v,
// so the errno may survive only as its text.
func diskTrouble(err error) string {
	if err == nil {
		return ""
	}
	for _, f := range diskFaults {
		if errors.Is(err, f.errno) || strings.Contains(err.Error(), f.errno.Error()) {
			return "the server's disk is " + f.what
		}
	}
	return ""
}

// diskWhat is diskTrouble, or a sentence for a fault Config.Disk
// reported that is not a full or read-only disk (the client is not told
// more: the cause names paths).
func diskWhat(err error) string {
	return cmp.Or(diskTrouble(err), "the server cannot use its disk")
}

// diskRefusal returns the EUnavailable refusal of an entry for the disk
// fault err. maybeLogged says the entry was handed to the log and may be
// in it.
func diskRefusal(err error, maybeLogged bool) error {
	what := diskWhat(err)
	msg := what + "; the entry was not logged: retry once the disk is mended"
	if maybeLogged {
		msg = what + "; the entry may be logged but cannot be acknowledged now: resubmit the same bytes once the disk is mended to get its receipt"
	}
	return &guarantor.Error{Code: guarantor.EUnavailable, Message: msg, Err: err}
}
