package engine

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleActive(t *testing.T) {
	weekdays := [7]bool{false, true, true, true, true, true, false} // Monday..Friday
	day := Schedule{Enabled: true, Days: weekdays, From: 9 * 60, To: 17 * 60}
	night := Schedule{Enabled: true, Days: weekdays, From: 22 * 60, To: 6 * 60}
	at := func(weekday time.Weekday, hh, mm int) time.Time {
		// 2026-11-22 is a Sunday.
		return time.Date(2026, 11, 22+int(weekday), hh, mm, 0, 0, time.Local)
	}
	cases := []struct {
		name string
		s    Schedule
		t    time.Time
		want bool
	}{
		{"weekday inside", day, at(time.Tuesday, 12, 0), true},
		{"weekday at start", day, at(time.Tuesday, 9, 0), true},
		{"weekday at end", day, at(time.Tuesday, 17, 0), false},
		{"weekend", day, at(time.Saturday, 12, 0), false},
		{"disabled", Schedule{Days: weekdays, From: 0, To: 24 * 60}, at(time.Tuesday, 12, 0), false},
		{"night before midnight", night, at(time.Friday, 23, 0), true},
		{"night after midnight, began on a chosen day", night, at(time.Saturday, 2, 0), true},
		{"night after midnight, began on Sunday", night, at(time.Monday, 2, 0), false},
		{"night, daytime", night, at(time.Wednesday, 12, 0), false},
	}
	for _, c := range cases {
		if got := c.s.Active(c.t); got != c.want {
			t.Errorf("%s: Active(%v) = %v, want %v", c.name, c.t, got, c.want)
		}
	}
}

func TestCreditScore(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name       string
		gave, took int64
		leech      bool
	}{
		{"stranger", 0, 0, false},
		{"newcomer within the allowance", 0, 200 << 10, false},
		{"fair trader", 5 * mib, 5 * mib, false},
		{"gives less, still trades", 1 * mib, 4 * mib, false},
		{"free-rider", 0, 3 * mib, true},
		{"token giver", 100 << 10, 8 * mib, true},
	}
	for _, c := range cases {
		score := creditScore(c.gave, c.took)
		if got := score < 0.5; got != c.leech {
			t.Errorf("%s: creditScore(%d, %d) = %.3f, leech = %v, want %v", c.name, c.gave, c.took, score, got, c.leech)
		}
	}
	if creditScore(8*mib, 1*mib) <= creditScore(1*mib, 1*mib) {
		t.Error("a generous peer does not rank above a fair one")
	}
}

// targetActionCases are the table of TestParseTargetAction and the seeds
// of FuzzParseTargetAction.
var targetActionCases = []struct {
	in   string
	want TargetAction
	ok   bool
}{
	{"", TargetPause, true},
	{"pause", TargetPause, true},
	{"stop", TargetStop, true},
	{"Stop", "", false},
	{"remove", "", false},
	{" pause", "", false},
}

func TestParseTargetAction(t *testing.T) {
	for _, c := range targetActionCases {
		got, err := ParseTargetAction(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseTargetAction(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "choose pause") {
			t.Errorf("ParseTargetAction(%q): %v does not give the choices", c.in, err)
		}
	}
}

// FuzzParseTargetAction: whatever is read back reads back the same.
func FuzzParseTargetAction(f *testing.F) {
	for _, c := range targetActionCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseTargetAction(s)
		if err != nil {
			return
		}
		if b, err := ParseTargetAction(a.String()); err != nil || b != a {
			t.Errorf("%q read as %q, which reads back as %q, %v", s, a, b, err)
		}
	})
}

// asText adapts a ParseX function of a word type to plain strings, so
// that one table covers every word type.
func asText[T ~string](parse func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := parse(s)
		return string(v), err
	}
}

// wordParsers are the parsers of the word types besides TargetAction.
var wordParsers = map[string]func(string) (string, error){
	"encryption": asText(ParseEncryption),
	"utp":        asText(ParseUTPMode),
}

// wordCases is the table of TestParseWords and the seeds of
// FuzzParseWords; want is "" where the word is refused.
var wordCases = []struct{ kind, in, want string }{
	{"encryption", "", "prefer"},
	{"encryption", "prefer", "prefer"},
	{"encryption", "require", "require"},
	{"encryption", "off", "off"},
	{"encryption", "always", ""},
	{"encryption", "Off", ""},
	{"utp", "", "on"},
	{"utp", "on", "on"},
	{"utp", "off", "off"},
	{"utp", "only", "only"},
	{"utp", "true", ""},
	{"utp", " on", ""},
}

func TestParseWords(t *testing.T) {
	for _, c := range wordCases {
		got, err := wordParsers[c.kind](c.in)
		if (err == nil) != (c.want != "") || (err == nil && got != c.want) {
			t.Errorf("%s %q = %q, %v; want %q", c.kind, c.in, got, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), "choose") {
			t.Errorf("%s %q: %v does not give the choices", c.kind, c.in, err)
		}
	}
	if EncryptionRequire.transport().String() != "require" || UTPOnly.transport().String() != "only" ||
		Encryption("").transport().String() != "prefer" || UTPMode("").transport().String() != "on" {
		t.Error("a word maps to another transport mode")
	}
}

// FuzzParseWords: whatever a word parser accepts reads back the same.
func FuzzParseWords(f *testing.F) {
	for _, c := range wordCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for kind, parse := range wordParsers {
			a, err := parse(s)
			if err != nil {
				continue
			}
			if b, err := parse(a); err != nil || b != a {
				t.Errorf("%s %q read as %q, which reads back as %q, %v", kind, s, a, b, err)
			}
		}
	})
}
