package alert

import "context"

// SetCursor moves the follower's position, to prove that following the
// same entries again enqueues nothing twice.
func (s *Store) SetCursor(ctx context.Context, next uint64) error {
	_, err := s.db.ExecContext(ctx, "UPDATE cursor SET next_index = ?", int64(next))
	return err
}

// Cursor returns the follower's position.
func (s *Store) Cursor(ctx context.Context) (uint64, error) { return s.cursor(ctx) }
