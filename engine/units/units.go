package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// iec are the binary size prefixes.
var iec = [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Bytes formats n with a binary prefix and three significant digits:
// "0 B", "999 B", "1.50 KiB", "15.3 MiB", "153 GiB". Negative counts show
// as "0 B".
func Bytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(max(n, 0), 10) + " B"
	}
	return scaled(float64(n))
}

// Rate formats a rate in bytes per second: "0 B/s", "512 B/s",
// "1.50 MiB/s". Rates under 1 B/s, NaN and infinities show as "0 B/s".
func Rate(bps float64) string {
	if !(bps >= 1) || math.IsInf(bps, 0) {
		return "0 B/s"
	}
	if bps < 1024 {
		return strconv.Itoa(int(bps)) + " B/s"
	}
	return scaled(bps) + "/s"
}

// scaled formats v ≥ 1024 with the largest fitting binary prefix.
func scaled(v float64) string {
	i := 0
	for v >= 1024 && i < len(iec)-1 {
		v /= 1024
		i++
	}
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f %s", v, iec[i])
	case v < 99.95:
		return fmt.Sprintf("%.1f %s", v, iec[i])
	default:
		return fmt.Sprintf("%.0f %s", v, iec[i])
	}
}

// multipliers maps unit suffixes (lower case) to bytes: KB, MB... are
// decimal; KiB, MiB... and bare K, M... are binary.
var multipliers = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	"p": 1 << 50, "pib": 1 << 50, "pb": 1e15,
	"eib": 1 << 60, "eb": 1e18, // no bare "e": "1e9" is not a size
}

// ErrNotASize is wrapped by every parse error.
var ErrNotASize = errors.New("not a size like 700 MB or 1.5 GiB")

// ParseBytes reads a size such as "700 MB", "1.5 GiB", "2k" or "4096".
// Empty text means 0. Negative numbers, exponents, NaN, unknown units and
// sizes of 2^63 bytes or more are errors wrapping ErrNotASize.
func ParseBytes(text string) (int64, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(text), ",", "."))
	if t == "" {
		return 0, nil
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := multipliers[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v*mult >= math.MaxInt64 { // 2^63 as a float64
		return 0, fmt.Errorf("%q: %w", strings.TrimSpace(text), ErrNotASize)
	}
	return int64(math.Round(v * mult)), nil
}

// ParseRate reads a rate in bytes per second: ParseBytes with an optional
// "/s" suffix ("25MB/s", "512K").
func ParseRate(text string) (int64, error) {
	return ParseBytes(strings.TrimSuffix(strings.TrimSpace(text), "/s"))
}
