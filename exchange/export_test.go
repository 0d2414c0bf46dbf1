package exchange

import "context"

// Checkpoint moves the write-ahead log into the database file and
// truncates it, so that a test can scan every byte stored.
func (s *Service) Checkpoint(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
