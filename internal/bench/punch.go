package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// PunchKind is one kind of NAT pair, a row of the hole-punch table.
type PunchKind struct {
	Name string
	// Trial tries one punch with the NATed peers on --utp mode; name is
	// the trial's own (its subtest's and its lab's).
	Trial func(t *testing.T, mode, name string) PunchTrial
}

// PunchTrial is one trial's outcome: Err is nil when the file came
// through a punched connection, Took from the leecher's start to its
// exit; Line is the leecher's log line that shows the punch.
type PunchTrial struct {
	Took time.Duration
	Line string
	Err  error
}

// HolePunch (app's TestBenchHolePunchNATs) measures BEP 55 hole punching
// (SHOAL_BENCH=1) across kinds of NAT, over TCP alone (--utp off), uTP
// alone (--utp only) and both raced (--utp on, the default). Each cell is
// PUNCH_RUNS trials (default 2). Nothing is asserted: the table is the
// result. The trials (one leecher, one seeder and a public relay in the
// namespace lab) are app's, shared with its lab tests.
func HolePunch(t *testing.T, kinds []PunchKind) {
	if os.Getenv(ModeEnv) == "" {
		t.Skip("set SHOAL_BENCH=1 (make bench)")
	}
	runs := EnvInt("PUNCH_RUNS", 2)
	modes := []string{"off", "only", "on"}
	var rows []string
	for i, k := range kinds {
		cells := []string{k.Name}
		for _, mode := range modes {
			ok, secs := 0, []string{}
			for run := 0; run < runs; run++ {
				name := fmt.Sprintf("k%d-%s-%d", i, mode, run)
				var r PunchTrial
				t.Run(name, func(t *testing.T) { r = k.Trial(t, mode, name) })
				if r.Err == nil {
					ok++
					secs = append(secs, fmt.Sprintf("%.1f", r.Took.Seconds()))
					t.Logf("%s, --utp %s: punched in %v: %s", k.Name, mode, r.Took.Round(10*time.Millisecond), r.Line)
				} else {
					t.Logf("%s, --utp %s: failed: %s", k.Name, mode, firstLine(r.Err.Error()))
				}
			}
			cells = append(cells, fmt.Sprintf("%d/%d (%s s)", ok, runs, strings.Join(secs, ", ")))
		}
		rows = append(rows, strings.Join(cells, "\t"))
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAT kind\t--utp off (TCP)\t--utp only (uTP)\t--utp on (raced)")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	w.Flush()
	t.Logf("hole punch successes (time from the leecher's start to its exit):\n%s", b.String())
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
