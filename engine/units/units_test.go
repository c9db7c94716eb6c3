package units

import (
	"errors"
	"math"
	"testing"
)

// parseCases are shared by the table test and the fuzz seeds.
var parseCases = []struct {
	in   string
	want int64
	bad  bool
}{
	{in: "", want: 0},
	{in: "0", want: 0},
	{in: "4096", want: 4096},
	{in: "700 MB", want: 700e6},
	{in: "700MiB", want: 700 << 20},
	{in: "1.5 GiB", want: 3 << 29},
	{in: "1,5 gb", want: 1.5e9},
	{in: "2k", want: 2048},
	{in: "512K", want: 512 << 10},
	{in: " 3 TB ", want: 3e12},
	{in: "12 parsecs", bad: true},
	{in: "MB", bad: true},
	{in: "-5 MB", bad: true},
	{in: "1e30 TB", bad: true},
	{in: "NaN", bad: true},
	{in: "+Inf", bad: true},
	{in: "0x10M", bad: true},
	{in: "8e18GiB", bad: true},
}

func TestParseBytes(t *testing.T) {
	for _, tt := range parseCases {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
		if err != nil && !errors.Is(err, ErrNotASize) {
			t.Errorf("ParseBytes(%q) error %v does not wrap ErrNotASize", tt.in, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{"25MB/s": 25e6, "4MiB/s": 4 << 20, " 7 KiB /s": 7 << 10, "1000": 1000} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseRate("fast/s"); err == nil {
		t.Error(`ParseRate("fast/s") accepted`)
	}
}

func TestBytesAndRate(t *testing.T) {
	for n, want := range map[int64]string{-4: "0 B", 0: "0 B", 999: "999 B", 1536: "1.50 KiB",
		16_000_000: "15.3 MiB", 153 << 30: "153 GiB", math.MaxInt64: "8.00 EiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for bps, want := range map[float64]string{0: "0 B/s", 0.5: "0 B/s", math.NaN(): "0 B/s", math.Inf(1): "0 B/s",
		512: "512 B/s", 1.5 * (1 << 20): "1.50 MiB/s"} {
		if got := Rate(bps); got != want {
			t.Errorf("Rate(%v) = %q, want %q", bps, got, want)
		}
	}
}

// FuzzParseBytes: any text either fails with ErrNotASize or gives a
// non-negative size that prints without panicking.
func FuzzParseBytes(f *testing.F) {
	for _, tt := range parseCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			if !errors.Is(err, ErrNotASize) {
				t.Fatalf("ParseBytes(%q) error %v", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseBytes(%q) = %d", s, n)
		}
		_ = Bytes(n)
	})
}

// FuzzBytesReadsBack: every count prints as text that ParseBytes reads
// back within the rounding of three significant digits.
func FuzzBytesReadsBack(f *testing.F) {
	for _, n := range []int64{-1, 0, 1023, 1024, 1536, 16_000_000, 7 << 60, 1 << 62} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if n > 7<<60 {
			return // prints as 8.00 EiB, 2^63, beyond int64
		}
		s := Bytes(n)
		back, err := ParseBytes(s)
		if err != nil {
			t.Fatalf("%d prints as %q, which does not read back: %v", n, s, err)
		}
		want := float64(max(n, 0))
		if math.Abs(float64(back)-want) > want*0.0051+0.5 {
			t.Fatalf("%d prints as %q, which reads back as %d", n, s, back)
		}
	})
}
