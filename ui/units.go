package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The settings forms show speeds in KiB/s, seed time in minutes and the
// schedule as HH:MM; these convert both ways and say what is wrong with
// text that does not parse.

// kibText shows a byte rate as KiB/s, "0" for unlimited.
func kibText(bps int64) string {
	return strconv.FormatFloat(float64(max(bps, 0))/1024, 'f', -1, 64)
}

// parseKiB reads a limit in KiB/s (empty means 0, unlimited).
func parseKiB(what, text string) (int64, error) {
	v, err := parseNumber(what, text)
	if err != nil {
		return 0, err
	}
	if v*1024 > math.MaxInt64/2 {
		return 0, fmt.Errorf("%s: %s KiB/s is too large", what, strings.TrimSpace(text))
	}
	return int64(math.Round(v * 1024)), nil
}

// parseNumber reads a non-negative decimal number; empty means 0 and a
// decimal comma is accepted.
func parseNumber(what, text string) (float64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(text), ",", ".")
	if t == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: %q is not a number", what, strings.TrimSpace(text))
	}
	if v < 0 {
		return 0, fmt.Errorf("%s: %s is negative", what, t)
	}
	return v, nil
}

// parseCount reads a whole number in [lo, hi].
func parseCount(what, text string, lo, hi int) (int, error) {
	t := strings.TrimSpace(text)
	n, err := strconv.Atoi(t)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", what, t)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s: %d is outside %d–%d", what, n, lo, hi)
	}
	return n, nil
}

// minutesText shows a duration in whole minutes.
func minutesText(d time.Duration) string {
	return strconv.FormatInt(int64(d.Round(time.Minute)/time.Minute), 10)
}

// parseMinutes reads a duration in minutes (empty means 0, no limit).
func parseMinutes(what, text string) (time.Duration, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return 0, nil
	}
	n, err := parseCount(what, t, 0, 10*365*24*60)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Minute, nil
}

// clockText shows minutes after midnight as HH:MM.
func clockText(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseClock reads HH:MM (or H:MM, or a bare hour) as minutes after
// midnight; 24:00 is allowed only when end is set (a window until midnight).
func parseClock(what, text string, end bool) (int, error) {
	t := strings.TrimSpace(text)
	hh, mm, found := strings.Cut(t, ":")
	if !found {
		mm = "0"
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || len(mm) > 2 || h < 0 || m < 0 || m > 59 {
		return 0, fmt.Errorf("%s: %q is not a time of day (HH:MM)", what, t)
	}
	total := h*60 + m
	if total > 24*60 || (total == 24*60 && !end) {
		return 0, fmt.Errorf("%s: %q is not a time of day (HH:MM)", what, t)
	}
	return total, nil
}

// ratioTargetText shows a share-ratio target; 0 means none.
func ratioTargetText(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
