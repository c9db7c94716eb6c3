package ui

import (
	"testing"
	"time"
)

func TestParseKiB(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  string
	}{
		{"", 0, ""}, {"0", 0, ""}, {" 100 ", 100 << 10, ""}, {"1,5", 1536, ""}, {"0.5", 512, ""},
		{"abc", 0, `x: "abc" is not a number`}, {"-3", 0, "x: -3 is negative"}, {"NaN", 0, `x: "NaN" is not a number`},
		{"1e300", 0, "x: 1e300 KiB/s is too large"},
	}
	for _, c := range cases {
		got, err := parseKiB("x", c.in)
		if got != c.want || errText(err) != c.err {
			t.Errorf("parseKiB(%q) = %d, %v; want %d, %q", c.in, got, err, c.want, c.err)
		}
	}
	for _, n := range []int64{0, 1, 1000, 1024, 3 << 20, 123456789} {
		back, err := parseKiB("x", kibText(n))
		if err != nil || back != n {
			t.Errorf("kibText(%d) = %q reads back as %d, %v", n, kibText(n), back, err)
		}
	}
}

func TestParseClock(t *testing.T) {
	cases := []struct {
		in   string
		end  bool
		want int
		err  bool
	}{
		{"00:00", false, 0, false}, {"7:05", false, 425, false}, {"18", false, 18 * 60, false},
		{"23:59", false, 1439, false}, {"24:00", true, 1440, false}, {"24:00", false, 0, true},
		{"12:60", false, 0, true}, {"12:5x", false, 0, true}, {"", false, 0, true}, {"-1:00", false, 0, true},
		{"12:005", false, 0, true},
	}
	for _, c := range cases {
		got, err := parseClock("t", c.in, c.end)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("parseClock(%q, %v) = %d, %v", c.in, c.end, got, err)
		}
	}
	if clockText(425) != "07:05" || clockText(1440) != "24:00" {
		t.Errorf("clockText: %q %q", clockText(425), clockText(1440))
	}
}

func TestParseMinutesAndCount(t *testing.T) {
	if d, err := parseMinutes("m", " 90 "); err != nil || d != 90*time.Minute {
		t.Errorf("parseMinutes(90) = %v, %v", d, err)
	}
	if d, err := parseMinutes("m", ""); err != nil || d != 0 {
		t.Errorf("parseMinutes('') = %v, %v", d, err)
	}
	if _, err := parseMinutes("m", "-5"); errText(err) != "m: -5 is outside 0–5256000" {
		t.Errorf("parseMinutes(-5) error %v", err)
	}
	if n, err := parseCount("n", "4", 1, 10); err != nil || n != 4 {
		t.Errorf("parseCount(4) = %d, %v", n, err)
	}
	if minutesText(90*time.Minute+20*time.Second) != "90" {
		t.Errorf("minutesText = %q", minutesText(90*time.Minute+20*time.Second))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
