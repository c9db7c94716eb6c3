package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// TestBenchHolePunchNATs measures BEP 55 hole punching (SHOAL_BENCH=1)
// across the lab's kinds of NAT, over TCP alone (--utp off), uTP alone
// (--utp only) and both raced (--utp on, the default): one leecher, one
// seeder, a public relay with no pieces, as in TestLabHolePunch. A trial
// succeeds when the leecher gets the 3 MiB file byte for byte through a
// punched connection within 50 s. Each cell is PUNCH_RUNS trials (default
// 2). Nothing is asserted: the table is the result.
//
// The kinds (leecher ↔ seeder):
//   - strict, silent: h2 behind r2 ↔ h5 behind r5, both MASQUERADE
//     without port mapping, dropping unsolicited packets (Stealth);
//   - strict, answering: the same routers answering unsolicited packets
//     (TCP RST, ICMP port unreachable), the lab's default;
//   - strict, answering, a hop apart: the same, with r5 one routed hop
//     from r2 (netlab Options.Transit), as two homes on the Internet are;
//   - strict, refusing: the same routers refusing them in their firewall
//     (iptables REJECT, the same answers, as OpenWrt does);
//   - mapped ↔ strict: h1 behind r1 (its port mapped by UPnP) ↔ h5 behind
//     the answering r5;
//   - strict ↔ double NAT: h2 behind the silent r2 ↔ h3 behind r3 behind
//     the carrier-grade NAT r4 (both answering, mapping refused).
func TestBenchHolePunchNATs(t *testing.T) {
	if os.Getenv("SHOAL_BENCH") == "" {
		t.Skip("set SHOAL_BENCH=1 (make bench)")
	}
	runs := envInt("PUNCH_RUNS", 2)
	kinds := []struct {
		name string
		tc   labPunchCase
	}{
		{"strict, silent (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2"}},
		{"strict, answering (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2", answering: true}},
		{"strict, answering, a hop apart (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2", answering: true, transit: true}},
		{"strict, refusing (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2", reject: true}},
		{"mapped ↔ strict answering (h1/r1 UPnP ↔ h5/r5)", labPunchCase{leechHost: "h1", answering: true}},
		{"strict silent ↔ double NAT (h2/r2 ↔ h3/r3/r4)", labPunchCase{leechHost: "h2", seeder: "h3"}},
	}
	modes := []string{"off", "only", "on"}
	var rows []string
	for i, k := range kinds {
		cells := []string{k.name}
		for _, mode := range modes {
			ok, secs := 0, []string{}
			for run := 0; run < runs; run++ {
				tc := k.tc
				tc.utp, tc.name = mode, fmt.Sprintf("k%d-%s-%d", i, mode, run)
				var r labPunchResult
				t.Run(tc.name, func(t *testing.T) { r = labPunchTrial(t, tc) })
				if r.err == nil {
					ok++
					secs = append(secs, fmt.Sprintf("%.1f", r.took.Seconds()))
					t.Logf("%s, --utp %s: punched in %v: %s", k.name, mode, r.took.Round(10*time.Millisecond), r.line)
				} else {
					t.Logf("%s, --utp %s: failed: %s", k.name, mode, firstLine(r.err.Error()))
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

// envInt is the positive integer in the environment variable name, or def.
func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}
