package state

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// MaxSearchWords bounds the length of a search kept in the history.
const MaxSearchWords = 500

// AddSearch records words as the newest search (an earlier search with the
// same words, ignoring case, moves up) and keeps only the keep newest.
func (db *DB) AddSearch(ctx context.Context, words string, keep int) error {
	words = strings.TrimSpace(words)
	if words == "" || len(words) > MaxSearchWords || keep < 1 {
		return fmt.Errorf("state: add search: %w: %d bytes of words, keep %d", ErrInvalid, len(words), keep)
	}
	at := db.now()
	return db.write(ctx, "add search", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO search_history (words, at) VALUES (?, ?)
			ON CONFLICT (words) DO UPDATE SET words = excluded.words, at = max(excluded.at, search_history.at + 1)`,
			words, toNanos(at)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM search_history WHERE words NOT IN
			(SELECT words FROM search_history ORDER BY at DESC LIMIT ?)`, keep)
		return err
	})
}

// RecentSearches returns at most n searches, newest first.
func (db *DB) RecentSearches(ctx context.Context, n int) ([]string, error) {
	return readAll(ctx, db, "recent searches", scanString, `SELECT words FROM search_history ORDER BY at DESC LIMIT ?`, n)
}

// ClearSearches forgets every recorded search.
func (db *DB) ClearSearches(ctx context.Context) error {
	return db.write(ctx, "clear searches", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM search_history`)
		return err
	})
}
