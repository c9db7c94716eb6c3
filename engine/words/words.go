// Package words shapes text shown to people, shared by the UI and the CLI
// so that both cut long names and messages the same way. It has no state
// and imports nothing of Shoal's.
package words

// Clip shortens s to at most n runes, ending a cut string with "…" (which
// counts as one of the n). A string that fits is returned unchanged; n < 1
// gives "".
func Clip(s string, n int) string {
	if n < 1 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
