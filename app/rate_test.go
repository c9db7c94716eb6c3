package main

import "testing"

func TestParseRate(t *testing.T) {
	cases := map[string]int64{"": 0, "1000": 1000, "25MB": 25e6, "25MB/s": 25e6, "4MiB": 4 << 20, "512K": 512 << 10, "1.5GB": 15e8, "0": 0}
	for in, want := range cases {
		got, err := parseRate(in)
		if err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "-3MB", "MB"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q) accepted", bad)
		}
	}
}
