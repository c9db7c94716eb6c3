package overlay

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// The in-process leaf of a node that is itself a supernode registers and
// searches through these methods instead of a socket. Its entries live under
// leaf id localLeafID with no quota, and its queries skip the rate limit.

// putLocal applies the local leaf's removals and additions.
func (s *Supernode) putLocal(ctx context.Context, source string, add []Entry, del [][20]byte) error {
	if err := s.idx.remove(ctx, localLeafID, del); err != nil {
		return err
	}
	if _, err := s.idx.put(ctx, localLeafID, source, add, localLeafQuota); err != nil {
		return err
	}
	return nil
}

// clearLocal deletes every entry of the local leaf.
func (s *Supernode) clearLocal(ctx context.Context) error {
	return s.idx.removeLeaf(ctx, localLeafID)
}

// queryLocal starts a search for the local leaf; hits go to o.
func (s *Supernode) queryLocal(ctx context.Context, id uuid.UUID, words string, o origin) error {
	if _, err := ftsQuery(words); err != nil {
		return err
	}
	s.mu.Lock()
	closed, active := s.closed, s.active
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("overlay: local query: %w", ErrClosed)
	}
	if !active {
		return fmt.Errorf("overlay: local query: %w", ErrNoSupernodes)
	}
	s.process(ctx, queryIn{id: id, words: words, hops: s.cfg.MaxHops, origin: true}, o)
	return nil
}
