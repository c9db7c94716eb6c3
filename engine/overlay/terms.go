package overlay

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// The index tokenizes text for keyword tables with SQLite itself: texts go
// into a contentless scratch FTS5 table with the same tokenizer as the
// index, their terms are read back through fts5vocab, and the scratch table
// is emptied, all inside the caller's transaction. Tables and queries then
// fold case, accents and word boundaries exactly as the FTS5 index does.

// termsSchema adds the scratch tokenizer to the index.
const termsSchema = `
CREATE VIRTUAL TABLE scratch USING fts5 (
	t, content = '', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE scratch_terms USING fts5vocab (scratch, instance);
`

// execQuerier is a *sql.Tx or *sql.DB.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tokenize returns the distinct terms SQLite makes of each text.
func tokenize(ctx context.Context, q execQuerier, texts []string) ([][]string, error) {
	out := make([][]string, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	for i, s := range texts {
		if _, err := q.ExecContext(ctx, `INSERT INTO scratch (rowid, t) VALUES (?, ?)`, i+1, s); err != nil {
			return nil, fmt.Errorf("overlay: tokenize: %w", err)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT doc, term FROM scratch_terms`)
	if err != nil {
		return nil, fmt.Errorf("overlay: tokenize: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc int
		var term string
		if err := rows.Scan(&doc, &term); err != nil {
			return nil, fmt.Errorf("overlay: tokenize: scan: %w", err)
		}
		if doc >= 1 && doc <= len(texts) {
			out[doc-1] = append(out[doc-1], term)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overlay: tokenize: %w", err)
	}
	rows.Close()
	if _, err := q.ExecContext(ctx, `INSERT INTO scratch (scratch) VALUES ('delete-all')`); err != nil {
		return nil, fmt.Errorf("overlay: tokenize: clear: %w", err)
	}
	return out, nil
}

// entryText is what the index searches for an entry: its name and paths,
// in Unicode normal form C so that decomposed names (as macOS writes them)
// match composed queries.
func entryText(name string, files []string) (string, string) {
	return norm.NFC.String(name), norm.NFC.String(strings.Join(files, "\n"))
}

// keysOfTexts returns the keyword-table keys of each entry text (a
// keyText string: words, then hashes after a NUL).
func keysOfTexts(ctx context.Context, q execQuerier, texts []string) ([][]uint32, error) {
	words := make([]string, len(texts))
	hashes := make([][]string, len(texts))
	for i, t := range texts {
		words[i], hashes[i] = splitKeyText(t)
	}
	terms, err := tokenize(ctx, q, words)
	if err != nil {
		return nil, err
	}
	out := make([][]uint32, len(terms))
	for i, ts := range terms {
		keys := entryKeys(ts)
		for _, h := range hashes[i] {
			keys = append(keys, hashKey(h))
		}
		slices.Sort(keys)
		out[i] = slices.Compact(keys)
	}
	return out, nil
}

// queryKeys returns the keys a table must hold to match words: one per
// term of every query word. A word SQLite makes no term of adds none.
func queryKeys(ctx context.Context, q execQuerier, words []string) ([]uint32, error) {
	terms, err := tokenize(ctx, q, words)
	if err != nil {
		return nil, err
	}
	var keys []uint32
	for _, ts := range terms {
		for _, t := range ts {
			keys = append(keys, queryKey(t))
		}
	}
	return keys, nil
}
