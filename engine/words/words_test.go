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
