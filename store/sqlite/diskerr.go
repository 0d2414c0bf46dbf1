package sqlite

import (
	"errors"
	"fmt"
	"syscall"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// withErrno adds to err the errno of a full disk when SQLite reports
// one, so that callers can tell it from other failures by
// errors.Is(err, syscall.ENOSPC): SQLite itself says only "database or
// disk is full" or, when it cannot grow the WAL index, "disk I/O error".
func withErrno(err error) error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w: %w", err, syscall.ENOSPC)
	case sqlite3.SQLITE_IOERR_SHMSIZE:
		// Growing the -shm file failed, as it does on a full disk.
		return fmt.Errorf("%w: probably %w", err, syscall.ENOSPC)
	}
	return err
}
