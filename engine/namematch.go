package engine

import (
	"slices"
	"strings"
	"unicode"
)

// How well a name matches a query, best last. The index finds a hit by
// word prefixes in its name or its files' paths; a name that holds the
// query's words whole, and in their order, is what the user asked for,
// while one that merely starts words with them ("cat" in "Catalog") or
// matched through a file path is a weaker answer.
const (
	matchNone   = iota // some query word is in no word of the name
	matchPrefix        // each query word starts a word of the name
	matchWhole         // each query word is a word of the name
	matchPhrase        // the query's words appear in a row, in order
)

// nameWords splits s into lower-case runs of letters and digits, much as
// the index's tokenizer (SQLite's unicode61) does, but without folding
// diacritics: a query "aero" that the index matched to "Ærø" grades
// matchNone here, and ranks by health among such hits.
func nameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// nameMatch grades name against the query's words (matchNone to
// matchPhrase); with no words, everything is matchNone.
func nameMatch(words []string, name string) int {
	if len(words) == 0 {
		return matchNone
	}
	have := nameWords(name)
	grade := matchWhole
	for _, w := range words {
		switch {
		case slices.Contains(have, w):
		case slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) }):
			grade = matchPrefix
		default:
			return matchNone
		}
	}
	if grade == matchWhole && inARow(have, words) {
		return matchPhrase
	}
	return grade
}

// inARow reports whether words appear in have one after another.
func inARow(have, words []string) bool {
	for i := 0; i+len(words) <= len(have); i++ {
		if slices.Equal(have[i:i+len(words)], words) {
			return true
		}
	}
	return false
}
