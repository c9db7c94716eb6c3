package torrentfile

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary .torrent bytes through Parse, ParseInfo and the
// storage layout, seeded with the table of hostile torrents: nothing may
// panic, and every accepted torrent maps only to clean relative paths
// below its name whose lengths add up.
func FuzzParse(f *testing.F) {
	for _, tc := range torrentCases() {
		if len(tc.raw) < 4096 {
			f.Add(tc.raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, l, err := mapTorrent(raw)
		if err != nil {
			return
		}
		var sum int64
		for _, fl := range l.Files {
			p := fl.Path
			if filepath.IsAbs(p) || filepath.Clean(p) != p || !strings.HasPrefix(p+string(filepath.Separator), l.Name+string(filepath.Separator)) {
				t.Fatalf("path %q escapes or is not clean (name %q)", p, l.Name)
			}
			for _, c := range strings.Split(p, string(filepath.Separator)) {
				if c == "" || c == "." || c == ".." || strings.ContainsRune(c, '\\') {
					t.Fatalf("path %q has component %q", p, c)
				}
			}
			sum += fl.Length
		}
		if sum != l.TotalLength {
			t.Fatalf("lengths sum to %d, total %d", sum, l.TotalLength)
		}
	})
}
