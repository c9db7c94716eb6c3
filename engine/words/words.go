package words

import "fmt"

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

// SameFiles says that a search hit shares files with other hits, by BEP 52
// pieces root: "also in 2 other torrents" when it has one file, or "3 files
// also in 1 other torrent"; "" when alsoIn is 0.
func SameFiles(files, sameFiles, alsoIn int) string {
	if alsoIn <= 0 || sameFiles <= 0 {
		return ""
	}
	where := fmt.Sprintf("also in %d other %s", alsoIn, plural(alsoIn, "torrent", "torrents"))
	if files <= 1 {
		return where
	}
	return fmt.Sprintf("%d %s %s", sameFiles, plural(sameFiles, "file", "files"), where)
}

// plural picks one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
