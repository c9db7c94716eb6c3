package storage

import (
	"strings"
	"unicode/utf8"
)

// maxNameBytes is the longest file name (one path component) most file
// systems accept.
const maxNameBytes = 255

// maxExtBytes is the longest extension kept when a long name is truncated.
const maxExtBytes = 16

// reservedNames are device names Windows refuses as file names, with or
// without an extension, in any letter case.
var reservedNames = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"CONIN$": true, "CONOUT$": true, "CLOCK$": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true,
	"COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"COM¹": true, "COM²": true, "COM³": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true,
	"LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"LPT¹": true, "LPT²": true, "LPT³": true,
}

// sanitizeComponent turns one raw path component from a torrent into a
// name that is legal and harmless on every supported OS, as libtorrent's
// sanitize_append_path_element does: leading separators are stripped,
// separators inside the name and characters Windows forbids become '_',
// and a component that names no file ("", ".", "..", only dots and
// spaces) returns "", which callers drop. A name is never refused: a path
// can only lose components, never climb out of the download folder.
func sanitizeComponent(c string) string {
	c = strings.TrimLeftFunc(c, isSlash)
	if strings.Trim(c, ". ") == "" {
		return ""
	}
	c = strings.ToValidUTF8(c, "_")
	c = strings.Map(replaceBadRune, c)
	c = truncateName(c, maxNameBytes)
	c = strings.TrimRight(c, ". ")
	if c == "" {
		return "_"
	}
	return renameReserved(c)
}

func isSlash(r rune) bool { return r == '/' || r == '\\' }

// bidiControl are the Unicode marks that change the writing direction;
// libtorrent drops them from names for the same reason.
var bidiControl = map[rune]bool{
	0x202a: true, 0x202b: true, 0x202c: true, 0x202d: true, 0x202e: true, 0x200e: true, 0x200f: true,
}

// replaceBadRune maps control characters, path separators and the
// characters Windows forbids in names to '_', and drops direction marks.
func replaceBadRune(r rune) rune {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
		return '_'
	}
	if bidiControl[r] {
		return -1 // dropped: they can disguise an extension ("exe.avi")
	}
	switch r {
	case '/', '\\', ':', '*', '?', '"', '<', '>', '|':
		return '_'
	}
	return r
}

// renameReserved appends '_' to the stem of a Windows device name, so
// "con" becomes "con_" and "LPT1.txt" becomes "LPT1_.txt".
func renameReserved(c string) string {
	stem, ext := c, ""
	if i := strings.IndexByte(c, '.'); i >= 0 {
		stem, ext = c[:i], c[i:]
	}
	if !reservedNames[strings.ToUpper(strings.TrimRight(stem, " "))] {
		return c
	}
	return stem + "_" + ext
}

// truncateName shortens c to at most max bytes on a UTF-8 boundary, keeping
// a short extension when there is one.
func truncateName(c string, max int) string {
	if len(c) <= max {
		return c
	}
	ext := ""
	if i := strings.LastIndexByte(c, '.'); i > 0 && len(c)-i <= maxExtBytes {
		ext = c[i:]
	}
	return cutUTF8(c[:len(c)-len(ext)], max-len(ext)) + ext
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
