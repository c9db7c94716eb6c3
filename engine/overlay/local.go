package overlay

import (
	"context"
	"fmt"
	"strings"

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

// storedLocal returns the local leaf's entries the index kept (from an
// earlier run or role), first giving them source if they name another
// (the port changed): the local leaf then sends only what differs.
func (s *Supernode) storedLocal(ctx context.Context, source string) (map[[20]byte]Entry, error) {
	return s.idx.leafEntries(ctx, localLeafID, source)
}

// leafEntries returns leaf's entries as stored, after setting their source.
func (x *index) leafEntries(ctx context.Context, leaf int64, source string) (map[[20]byte]Entry, error) {
	x.lockWrite()
	defer x.wmu.Unlock()
	if _, err := x.db.ExecContext(ctx, `UPDATE entries SET source = ? WHERE leaf = ? AND source != ?`, source, leaf, source); err != nil {
		return nil, fmt.Errorf("overlay: index: set source: %w", err)
	}
	rows, err := x.db.QueryContext(ctx, `SELECT infohash, name, size, files, v2, roots FROM entries WHERE leaf = ?`, leaf)
	if err != nil {
		return nil, fmt.Errorf("overlay: index: leaf entries: %w", err)
	}
	defer rows.Close()
	out := map[[20]byte]Entry{}
	for rows.Next() {
		var ih, v2, roots []byte
		var e Entry
		var files string
		if err := rows.Scan(&ih, &e.Name, &e.Size, &files, &v2, &roots); err != nil {
			return nil, fmt.Errorf("overlay: index: leaf entries: %w", err)
		}
		if len(ih) != 20 || len(v2) != 0 && len(v2) != 32 || len(roots)%32 != 0 {
			continue // not as put stores it: the diff sends it again
		}
		e.InfoHash = [20]byte(ih)
		if files != "" {
			e.Files = strings.Split(files, "\n")
		}
		if len(v2) == 32 {
			e.V2 = [32]byte(v2)
		}
		for r := range len(roots) / 32 {
			e.Roots = append(e.Roots, [32]byte(roots[32*r:]))
		}
		out[e.InfoHash] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overlay: index: leaf entries: %w", err)
	}
	return out, nil
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
