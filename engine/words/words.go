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
// in the way", "Shoal may not write there"; for anything else the
// innermost reason, without the engine's prefixes.
func MoveReason(err, name string) string {
	e := strings.ToLower(err)
	switch {
	case strings.Contains(e, "not a directory"):
		return "a file of that name is in the way"
	case strings.Contains(e, "already holds"), strings.Contains(e, "file exists"):
		return "that folder already holds something named " + name
	case strings.Contains(e, "permission denied"), strings.Contains(e, "read-only file system"):
		return "Shoal may not write there"
	case strings.Contains(e, "no space left"):
		return "the disk there is full"
	}
	if i := strings.LastIndex(err, ": "); i >= 0 {
		return err[i+2:]
	}
	return err
}
