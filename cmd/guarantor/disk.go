package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// A full or read-only disk under the data directory: the check the
// server asks before each entry, and the one-line explanations commands
// print.

// diskReserve returns the free space kept on a file system of total
// bytes, so that entries already accepted when new ones are refused can
// still be published and projected: a fiftieth of it, at least 128 KiB
// (two entries of the largest size), at most 64 MiB.
func diskReserve(total uint64) uint64 { return min(max(total/50, 128<<10), 64<<20) }

// accessWrite is access(2)'s W_OK.
const accessWrite = 2

// checkDisk reports whether the data directory and its log, which may be
// mounted apart, can take more entries: nil, or an error wrapping
// syscall.EROFS (read-only), syscall.EACCES (not writable by this user)
// or syscall.ENOSPC (free space below diskReserve). It is the server's
// node.Config.Disk, asked before every entry, so it only asks the kernel
// (access(2) and statfs(2) of each directory) and writes nothing. A log
// kept elsewhere (no DATA/log) is not its business.
func (d dataDir) checkDisk() error {
	for _, dir := range []string{string(d), d.logDir()} {
		err := syscall.Access(dir, accessWrite)
		if errors.Is(err, fs.ErrNotExist) && dir != string(d) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s is not writable: %w", dir, err)
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return fmt.Errorf("statfs %s: %w", dir, err)
		}
		free, total := st.Bavail*uint64(st.Bsize), st.Blocks*uint64(st.Bsize)
		if reserve := diskReserve(total); free < reserve {
			return fmt.Errorf("%s has %d KiB free, less than the %d KiB kept for entries in flight: %w", dir, free>>10, reserve>>10, syscall.ENOSPC)
		}
	}
	return nil
}

// diskError is an error met writing on a full or read-only disk, told as
// one line that says where and how to mend it.
type diskError struct {
	msg string
	err error
}

// Error returns the explanation.
func (e *diskError) Error() string { return e.msg }

// Unwrap returns the error met.
func (e *diskError) Unwrap() error { return e.err }

// explainWrite explains err, met writing in d, if the disk is read-only,
// not writable by this user, or full; other errors are returned as they
// are.
func (d dataDir) explainWrite(err error) error {
	var msg string
	switch {
	case errors.Is(err, syscall.EROFS):
		msg = fmt.Sprintf("data directory %s is on a read-only file system: remount it read-write (mount -o remount,rw) or fix its permissions, then start again", d)
	case errors.Is(err, fs.ErrPermission):
		msg = fmt.Sprintf("data directory %s is not writable by this user: fix its permissions (chown, chmod) or run as its owner", d)
	case errors.Is(err, syscall.ENOSPC):
		msg = fmt.Sprintf("the disk of data directory %s is full: free space or grow the file system, then start again", d)
	default:
		return err
	}
	return &diskError{msg, err}
}

// diskHint returns how to mend the full or read-only disk behind err, for
// the one line a failed command prints, or "" if err is not about a local
// disk (a server's refusal speaks of the server's) or already says. The
// errno may survive only as text (Tessera wraps its file errors with %v).
func diskHint(err error) string {
	var de *diskError
	var pe *problemError
	if errors.As(err, &de) || errors.As(err, &pe) {
		return ""
	}
	has := func(errno syscall.Errno) bool {
		return errors.Is(err, errno) || strings.Contains(err.Error(), errno.Error())
	}
	switch {
	case has(syscall.ENOSPC):
		return "the disk is full: free space or grow the file system, then try again"
	case has(syscall.EROFS):
		return "the file system is read-only: remount it read-write (mount -o remount,rw) or fix its permissions, then try again"
	}
	return ""
}
