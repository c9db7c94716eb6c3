package words

import (
	"testing"
	"unicode/utf8"
)

// TestClip checks cuts land on runes, count the ellipsis, and leave short
// strings alone.
func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 10, "hello"},
		{"hello world", 6, "hello…"},
		{"ééééé", 3, "éé…"},
		{"", 3, ""},
		{"abc", 1, "…"},
		{"abc", 0, ""},
		{"abc", -2, ""},
	} {
		got := Clip(c.s, c.n)
		if got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
		if c.n > 0 && utf8.RuneCountInString(got) > c.n {
			t.Errorf("Clip(%q, %d) = %q is longer than %d runes", c.s, c.n, got, c.n)
		}
	}
}

// TestSameFiles checks the wording of files shared across search hits.
func TestSameFiles(t *testing.T) {
	for _, c := range []struct {
		files, same, also int
		want              string
	}{
		{1, 1, 2, "also in 2 other torrents"},
		{1, 1, 1, "also in 1 other torrent"},
		{3, 1, 1, "1 file also in 1 other torrent"},
		{5, 3, 2, "3 files also in 2 other torrents"},
		{0, 1, 1, "also in 1 other torrent"},
		{3, 0, 0, ""},
		{3, 2, 0, ""},
	} {
		if got := SameFiles(c.files, c.same, c.also); got != c.want {
			t.Errorf("SameFiles(%d, %d, %d) = %q, want %q", c.files, c.same, c.also, got, c.want)
		}
	}
}
