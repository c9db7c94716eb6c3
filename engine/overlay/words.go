package overlay

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what a leaf may register and ask. Entries beyond them are
// trimmed by the leaf before sending and refused by the supernode.
const (
	maxNameLen       = 512 // bytes in an entry name
	maxPathLen       = 512 // bytes in one file path
	maxFilesPerEntry = 200 // file paths indexed per entry
	maxSourcesPerHit = 50  // sources reported per hit
	maxFilesPerHit   = 20  // file paths reported per hit
	maxNamesPerHit   = 10  // distinct names reported per hit
	maxHitsPerAnswer = 100 // hits one supernode returns for one query
	maxQueryBytes    = 256 // bytes in a query string
	maxQueryWords    = 8   // words in a query
)

// ErrBadQuery means the search words are empty, too long or too many.
var ErrBadQuery = errors.New("overlay: bad query")

// queryWords splits user input into search words: runs of letters, digits
// and combining marks, the same characters SQLite's unicode61 tokenizer
// keeps. Everything else, including every FTS5 operator character, is a
// separator. A run made only of marks is dropped, since it folds to nothing.
func queryWords(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
	words := fields[:0]
	for _, f := range fields {
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0 {
			words = append(words, f)
		}
	}
	return words
}

// ftsQuery turns user input into an FTS5 MATCH expression: every word
// quoted (so NEAR, AND, OR, NOT, "-", "*", ":" and quotes are plain text)
// and prefix-matched, all words required.
func ftsQuery(s string) (string, error) {
	if len(s) > maxQueryBytes {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrBadQuery, len(s), maxQueryBytes)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: not UTF-8", ErrBadQuery)
	}
	words := queryWords(norm.NFC.String(s))
	if len(words) == 0 {
		return "", fmt.Errorf("%w: no words", ErrBadQuery)
	}
	if len(words) > maxQueryWords {
		return "", fmt.Errorf("%w: %d words, at most %d", ErrBadQuery, len(words), maxQueryWords)
	}
	return matchExpr(words, "*"), nil
}

// matchExpr quotes every word, appends suffix ("*" for prefix matching)
// and requires them all.
func matchExpr(words []string, suffix string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"` + suffix
	}
	return strings.Join(parts, " AND ")
}
