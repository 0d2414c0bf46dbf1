package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data directory, so that a
// second serve or a rebuild cannot run beside a server: intake keeps
// in-flight state in memory and the projection has one writer. The lock
// is released when the process exits, however it exits.
func lockDataDir(d dataDir) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(string(d), ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		// The first write of every command that changes the directory:
		// a read-only disk is met here.
		return nil, d.explainWrite(fmt.Errorf("lock data directory: %w", err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another guarantor process; stop it first", d)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
