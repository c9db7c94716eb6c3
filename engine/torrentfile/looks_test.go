package torrentfile

import (
	"testing"
)

// looksCases seed FuzzLooksHybrid: info dictionaries, each with whether
// it is a hybrid.
func looksCases() []struct {
	name   string
	info   []byte
	hybrid bool
} {
	v2 := v2info(0, map[string]any{"a": v2file(100)})
	return []struct {
		name   string
		info   []byte
		hybrid bool
	}{
		{"v1 single", enc(single("a", 100)), false},
		{"v1 multi", enc(multi(file(10, "a"), file(20, "b"))), false},
		{"v2 only", enc(v2), false},
		{"hybrid single", enc(set(single("a", 100), "meta version", int64(2))), true},
		{"hybrid multi", enc(set(set(multi(file(10, "a")), "meta version", int64(2)), "file tree", v2["file tree"])), true},
		{"meta version 1", enc(set(single("a", 100), "meta version", int64(1))), false},
		{"v2 with empty pieces", enc(set(v2, "pieces", "")), false},
		{"v2 with length 0", enc(set(v2, "length", int64(0))), false},
		{"v2 with an empty files list", enc(set(v2, "files", []any{})), false},
		{"trailing bytes", append(enc(set(single("a", 100), "meta version", int64(2))), 'x'), false},
		{"not a dict", []byte("le"), false},
	}
}

// TestLooksHybrid: LooksHybrid tells hybrids from v1, v2-only and broken
// info dictionaries by their keys, as IsHybrid does on the parsed info.
func TestLooksHybrid(t *testing.T) {
	for _, c := range looksCases() {
		if got := LooksHybrid(c.info); got != c.hybrid {
			t.Errorf("%s: LooksHybrid %v, want %v", c.name, got, c.hybrid)
		}
		if info, err := ParseInfo(c.info); err == nil && IsHybrid(info) != c.hybrid {
			t.Errorf("%s: the parsed info's IsHybrid is %v, the table says %v", c.name, IsHybrid(info), c.hybrid)
		}
	}
}

// FuzzLooksHybrid: for every info dictionary ParseInfo accepts,
// LooksHybrid agrees with IsHybrid.
func FuzzLooksHybrid(f *testing.F) {
	for _, c := range looksCases() {
		f.Add(c.info)
	}
	for _, tc := range torrentCases() {
		if tf, err := Parse(tc.raw); err == nil && len(tf.InfoBytes) < 4096 {
			f.Add(tf.InfoBytes)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		looks := LooksHybrid(b)
		info, err := ParseInfo(b)
		if err == nil && looks != IsHybrid(info) {
			t.Fatalf("LooksHybrid %v, IsHybrid %v (v2 %v, %d pieces bytes, %d files, length %d)",
				looks, IsHybrid(info), info.HasV2(), len(info.Pieces), len(info.Files), info.Length)
		}
	})
}
