package main

import (
	"strings"
	"testing"
)

// FuzzParseRate: any --max-up/--max-down text either fails or gives a
// non-negative byte rate; NaN, infinities and overflowing values fail.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"", "1000", "25MB", "25MB/s", "4MiB", "512K", "1.5GB", "0", "fast", "-3MB", "MB",
		"NaN", "Inf", "+Inf", "1e30", "9e18", "8e18GiB", "0x10M", " 7 KiB /s", "1e-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseRate(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bad rate ") {
				t.Fatalf("parseRate(%q) error %q", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("parseRate(%q) = %d, a negative rate", s, n)
		}
	})
}

func TestParseRateRejectsNonsense(t *testing.T) {
	for _, bad := range []string{"NaN", "Inf", "+Inf", "1e30", "9.3e18", "8e18GiB"} {
		if n, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q) = %d, want an error", bad, n)
		}
	}
}
