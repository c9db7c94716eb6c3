package words

import (
	"fmt"
	"strings"
)

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

// SeedsLeechers words a swarm's seeds and leechers: "2 seeds, 1 leecher".
func SeedsLeechers(seeds, leechers int) string {
	return fmt.Sprintf("%d %s, %d %s", seeds, plural(seeds, "seed", "seeds"), leechers, plural(leechers, "leecher", "leechers"))
}

// plural picks one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// MoveReason words why moving the download name failed, from the error
// text the engine gave (TransferSnapshot.MoveErr): "a file of that name is
// in the way", "Shoal may not write there", and so on for the failures a
// disk gives; for anything else the innermost reason, without the
// engine's prefixes, after "the system said".
func MoveReason(err, name string) string {
	e := strings.ToLower(err)
	for _, r := range moveReasons {
		for _, key := range r.keys {
			if strings.Contains(e, key) {
				return strings.ReplaceAll(r.words, "NAME", name)
			}
		}
	}
	if i := strings.LastIndex(err, ": "); i >= 0 {
		err = err[i+2:]
	}
	if err == "" {
		return "the move did not finish"
	}
	return "the system said: " + err
}

// moveReasons maps the error texts of failed moves (Go's wording of the
// system's errors) to words for people, first match first.
var moveReasons = []struct {
	keys  []string
	words string
}{
	{[]string{"not a directory"}, "a file of that name is in the way"},
	{[]string{"already holds", "file exists", "directory not empty"}, "that folder already holds something named NAME"},
	{[]string{"permission denied", "operation not permitted"}, "Shoal may not write there"},
	{[]string{"read-only file system"}, "that disk is read-only"},
	{[]string{"no space left"}, "the disk there is full"},
	{[]string{"disk quota exceeded"}, "your disk quota there is used up"},
	{[]string{"no such file or directory", "no such device"}, "that folder is gone (was a drive unplugged?)"},
	{[]string{"input/output error"}, "the disk reported a read or write error"},
	{[]string{"file name too long"}, "a file name is too long for that disk"},
	{[]string{"invalid argument"}, "that disk does not accept one of the file names"},
	{[]string{"too many open files"}, "too many files were open at once; try again"},
}
