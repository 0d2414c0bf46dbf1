package witness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/guarantor/guarantor/internal/atomicfile"
)

// Checkpoint is the latest checkpoint a witness cosigned for one log.
type Checkpoint struct {
	// Origin is the log's origin line.
	Origin string `json:"origin"`
	// Size is the checkpoint's tree size.
	Size uint64 `json:"size"`
	// RootHash is its root hash (base64 in JSON).
	RootHash []byte `json:"root_hash"`
	// Checkpoint is the signed checkpoint as submitted.
	Checkpoint string `json:"checkpoint"`
}

// Store keeps the latest cosigned checkpoint per origin. The witness
// serialises its calls.
type Store interface {
	// Latest returns the latest checkpoint stored for origin, or nil if
	// there is none.
	Latest(ctx context.Context, origin string) (*Checkpoint, error)
	// Put replaces the checkpoint stored for cp.Origin. When Put
	// returns nil, cp must be durably persisted.
	Put(ctx context.Context, cp Checkpoint) error
}

// FileStore is a Store in one JSON file, replaced atomically (temporary
// file, fsync, rename) on every Put.
type FileStore struct {
	path string
	mu   sync.Mutex
	cps  map[string]Checkpoint
}

var _ Store = (*FileStore)(nil)

// OpenFileStore opens the state file at path, which need not exist yet.
func OpenFileStore(path string) (*FileStore, error) {
	s := &FileStore{path: path, cps: map[string]Checkpoint{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read witness state: %w", err)
	}
	var list []Checkpoint
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("witness state %s is not valid JSON: %w", path, err)
	}
	for _, cp := range list {
		s.cps[cp.Origin] = cp
	}
	return s, nil
}

// Latest returns the latest checkpoint stored for origin, or nil.
func (s *FileStore) Latest(_ context.Context, origin string) (*Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.cps[origin]
	if !ok {
		return nil, nil
	}
	return &cp, nil
}

// Put durably replaces the checkpoint stored for cp.Origin.
func (s *FileStore) Put(_ context.Context, cp Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]Checkpoint, len(s.cps)+1)
	list := make([]Checkpoint, 0, len(s.cps)+1)
	for o, c := range s.cps {
		if o != cp.Origin {
			next[o] = c
			list = append(list, c)
		}
	}
	next[cp.Origin] = cp
	list = append(list, cp)
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	s.cps = next
	return nil
}
