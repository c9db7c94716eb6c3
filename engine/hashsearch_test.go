package engine

import (
	"strings"
	"testing"
)

// searchHashCases: what a search for each input looks up by hash.
var searchHashCases = []struct {
	in, want string
	ok       bool
}{
	{strings.Repeat("ab", 20), strings.Repeat("ab", 20), true},
	{strings.Repeat("AB", 32), strings.Repeat("ab", 32), true},
	{"1220" + strings.Repeat("cd", 32), strings.Repeat("cd", 32), true},
	{"magnet:?xt=urn:btih:" + strings.Repeat("12", 20) + "&dn=x", strings.Repeat("12", 20), true},
	{"magnet:?xt=urn:btih:" + strings.Repeat("12", 20) + "&xt=urn:btmh:1220" + strings.Repeat("34", 32), strings.Repeat("34", 32), true},
	{"magnet:?xt=urn:btih:CIJBEEQSCIJBEEQSCIJBEEQSCIJBEEQS", strings.Repeat("12", 20), true}, // base32
	{"magnet:?dn=nothing", "", false},
	{strings.Repeat("ab", 19), "", false},
	{strings.Repeat("zz", 20), "", false},
	{"ubuntu iso", "", false},
}

func TestSearchHash(t *testing.T) {
	for _, tc := range searchHashCases {
		got, ok := searchHash(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("searchHash(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzSearchHash(f *testing.F) {
	for _, tc := range searchHashCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if h, ok := searchHash(in); ok && ((len(h) != 40 && len(h) != 64) || strings.Trim(h, "0123456789abcdef") != "") {
			t.Fatalf("searchHash(%q) = %q", in, h)
		}
	})
}
