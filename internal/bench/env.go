package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ModeEnv names the variable that turns the benches on: 1 for the full
// size (make bench), smoke for one short run of every row (make test).
const ModeEnv = "SHOAL_BENCH"

// RowsEnv names the variable that picks rows by name, e.g.
// BENCH_ROWS="Shoal → Shoal|uTP" for a quick look at those alone.
const RowsEnv = "BENCH_ROWS"

// Begin skips t unless SHOAL_BENCH asks for the benches, and reports
// whether it asks for the smoke run. Shoal's children are started with a
// UTF-8 LANG when the environment has none: Fyne, linked into every shoal
// binary, warns about "C".
func Begin(t *testing.T) (smoke bool) {
	mode := os.Getenv(ModeEnv)
	if mode == "" {
		t.Skip("set SHOAL_BENCH=1 (make bench) or SHOAL_BENCH=smoke")
	}
	if lang := os.Getenv("LANG"); lang == "" || lang == "POSIX" || strings.HasPrefix(lang, "C") {
		t.Setenv("LANG", "en_US.UTF-8")
	}
	return mode == "smoke"
}

// Runs is BENCH_RUNS, how many times each row is measured, or def when
// it is unset. Anything but a positive number fails t.
func Runs(t testing.TB, def int) int {
	v := os.Getenv("BENCH_RUNS")
	if v == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
		t.Fatalf("BENCH_RUNS=%q: want a positive number", v)
	}
	return n
}

// Picking reports whether BENCH_ROWS names the rows to run.
func Picking() bool { return os.Getenv(RowsEnv) != "" }

// Selected reports whether the row called name runs: every row does when
// BENCH_ROWS is unset, else those whose name contains one of its
// |-separated parts.
func Selected(name string) bool {
	only := os.Getenv(RowsEnv)
	if only == "" {
		return true
	}
	return slices.ContainsFunc(strings.Split(only, "|"), func(s string) bool { return strings.Contains(name, s) })
}

// EnvInt is the positive integer in the environment variable name, or
// def when it is unset or anything else.
func EnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
