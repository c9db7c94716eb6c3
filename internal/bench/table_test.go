package bench

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPieceLength(t *testing.T) {
	for size, want := range map[int64]int64{
		4 << 20:   256 << 10, // smoke's lossy file: the floor
		16 << 20:  256 << 10,
		1 << 30:   1 << 20, // the doc's example
		100 << 30: 4 << 20, // the ceiling
	} {
		if got := benchPieceLength(size); got != want {
			t.Errorf("benchPieceLength(%d) = %d, want %d", size, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 4, "abc…"},
		{"→→→→→", 3, "→→…"}, // runes, not bytes
	} {
		if got := clip(c.s, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestEnvInt(t *testing.T) {
	for v, want := range map[string]int{"": 7, "12": 12, "0": 7, "-3": 7, "x": 7} {
		t.Setenv("BENCH_TEST_INT", v)
		if got := EnvInt("BENCH_TEST_INT", 7); got != want {
			t.Errorf("EnvInt with %q = %d, want %d", v, got, want)
		}
	}
}

// TestConfigFor checks that the full run takes its sizes from the
// environment through ParseSize, and that smoke ignores them.
func TestConfigFor(t *testing.T) {
	o := Options{ParseSize: func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }}
	t.Setenv("BENCH_SIZE", "1000")
	t.Setenv("BENCH_SWARM_SIZE", "")
	t.Setenv("BENCH_FREERIDER_SIZE", "")
	t.Setenv("BENCH_RUNS", "2")
	c := benchConfigFor(t, o, false)
	if c.smoke || c.size != 1000 || c.runs != 2 || c.swarmSize != 64<<20 || c.freeSize != 32<<20 {
		t.Errorf("full: %+v", c)
	}
	if c := benchConfigFor(t, o, true); !c.smoke || c.size != 16<<20 || c.runs != 1 {
		t.Errorf("smoke: %+v", c)
	}
}

// tableRows is a bench whose rows have one sample each, taking secs
// seconds for 100 MB: rows[i] runs at 100/secs[i] MB/s.
func tableRows(secs ...float64) *bench {
	b := &bench{cfg: benchConfig{size: 100e6, runs: 1}, piece: 1 << 20, started: time.Now(), load: "1 1 1", sha: []float64{400}}
	for i, s := range secs {
		b.rows = append(b.rows, &benchRow{name: "row " + strconv.Itoa(i), samples: []benchSample{{secs: s, cpu: time.Second, rss: 50 << 20}}})
	}
	return b
}

// TestTableFigures prints a table from made-up samples and checks its
// figures: rates, the ratio to the fastest other one-to-one row, a row
// beside another with its target, the SHA-1 line and the notes.
func TestTableFigures(t *testing.T) {
	b := tableRows(0.5, 1, 2, 4, 4, 1.25, 0.25)
	b.rows[5].name = "capped"
	b.rows[6].beside, b.rows[6].atLeast = b.rows[0], 1
	b.rows = append(b.rows, &benchRow{name: "not here", na: "n/a: not installed"}, &benchRow{name: "broken", failed: "it broke"})
	var out strings.Builder
	b.print(&out)
	for _, want := range []string{
		"row 0 | 200.0 | 200.0 | 1.00 | 50 | 2.00× | ≥3× other MISSED; RSS ≤100 MiB met",
		"row 1 | 100.0 | 100.0 | 1.00 | 50 | 0.50× |",
		"Go crypto/sha1, same file (1 core) | 400 | 400 | | | Shoal→Shoal = 50% of it | ≥50% met",
		"capped | 80.0 | 80.0 | 1.00 | 50 | 80% of ideal 100 MB/s | ≥90% MISSED",
		"row 6 | 400.0 | 400.0 | 1.00 | 50 | 2.00× row 0 | ≥1.00× met",
		"not here | n/a | | | | | n/a: not installed",
		"broken | FAILED | | | | | it broke",
		"÷ fastest other:",
	} {
		if !strings.Contains(squeeze(out.String()), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}

// squeeze collapses the tabwriter's padding, so that a test can match a
// row's cells without its column widths.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestNATCells checks the behind-a-router block's cells and its ratio.
func TestNATCells(t *testing.T) {
	nb := &natBench{size: 10e6}
	pub := &natSeeder{client: "Shoal", secs: []float64{8, 10, 9}} // 80 MB ÷ 9 s
	nat := &natSeeder{client: "Shoal", secs: []float64{18}}
	if got := nb.cell(pub); got != "8.9" {
		t.Errorf("cell = %q, want 8.9", got)
	}
	if got := nb.compare(pub, nat); got != "0.50\t MISSED" {
		t.Errorf("compare = %q, want 0.50 MISSED", got)
	}
	nat.secs = []float64{9.5}
	if got := nb.compare(pub, nat); got != "0.95\t met" {
		t.Errorf("compare = %q, want 0.95 met", got)
	}
	nat.secs, nat.failed = nil, strings.Repeat("x", 200)
	if got := nb.cell(nat); got != "FAILED" {
		t.Errorf("cell of a failed seeder = %q", got)
	}
	if got := nb.compare(pub, nat); got != "\t FAILED: "+strings.Repeat("x", 159)+"…" {
		t.Errorf("compare with a failure = %q", got)
	}
	if got := nb.compare(&natSeeder{skip: "no lab"}, nat); got != "\t no lab" {
		t.Errorf("compare with a skipped seeder = %q", got)
	}
}
