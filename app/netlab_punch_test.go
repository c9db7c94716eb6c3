package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netlab"
)

// labPunchCase is one transport a hole punch is tried over.
type labPunchCase struct {
	name string
	utp  string // --utp for the two NATed peers
	// leechHost is where the leecher runs: h2 behind the strict r2, or h1
	// behind r1, whose port the leecher maps by UPnP.
	leechHost string
	// seeder is where the seeder runs; "" means h5, behind the second
	// strict NAT r5.
	seeder string
	// answering leaves the strict routers answering unsolicited packets
	// (TCP RST, ICMP) instead of dropping them.
	answering bool
	// reject makes the strict routers refuse unsolicited packets in their
	// firewall (iptables REJECT with TCP RST, ICMP port unreachable).
	reject bool
	// prohibit makes them refuse with ICMP host prohibited instead
	// (firewalld's default): TCP attempts end in EHOSTUNREACH.
	prohibit bool
	// transit puts the seeder's router r5 one routed hop from the others
	// (netlab Options.Transit), as the Internet has between two homes.
	transit bool
}

// TestLabHolePunch: a leecher behind the strict NAT r2 downloads from a
// seeder behind the second strict NAT r5. Neither can dial the other;
// both are connected to a public Shoal peer on s1 that has none of the
// pieces (it is held to 1 KB/s, so it cannot pass the file on either). The
// leecher learns the seeder from the relay's PEX, its dial fails, and it
// asks the relay for a BEP 55 rendezvous; the punched connection carries
// the file, checked byte for byte. Once over uTP alone, once over TCP
// alone (simultaneous open from the listen ports).
//
// The strict routers here drop unsolicited packets (Stealth), as most home
// routers do, except in the -reject cases, where their firewall refuses
// them (iptables REJECT: TCP RST, ICMP port unreachable, as OpenWrt's
// default WAN zone does), and in the -answering ones, where their own
// stack answers them with the same packets. TCP punches through both
// (short pauses between refused attempts, see the engine's doc); uTP
// through the refusing routers only: an answering router's stack keeps a
// connection-tracking entry for the unsolicited datagram that holds the
// very port the far end's own mapping needs, so MASQUERADE maps that end
// to another port and the hole is punched for an address nobody uses.
func TestLabHolePunch(t *testing.T) {
	var risky, firstFailed int
	for _, tc := range []labPunchCase{
		{name: "utp", utp: "only", leechHost: "h2"},
		{name: "tcp", utp: "off", leechHost: "h2"},
		{name: "raced", utp: "on", leechHost: "h2"},
		{name: "utp-reject", utp: "only", leechHost: "h2", reject: true},
		{name: "tcp-reject", utp: "off", leechHost: "h2", reject: true},
		{name: "tcp-answering", utp: "off", leechHost: "h2", answering: true},
		{name: "tcp-prohibited", utp: "off", leechHost: "h2", prohibit: true},
		// Routers answering uTP's datagrams themselves, a routed hop apart:
		// the ends open their own NAT with datagrams that expire at that
		// hop, and the leecher dials the seeder over TCP only before the
		// punch (see the engine's doc).
		{name: "utp-answering", utp: "only", leechHost: "h2", answering: true, transit: true},
		// The leecher on h1 is reachable (r1 forwards its mapped port) and,
		// its address sorting first, the end that dials. The seeder's
		// router r5 answers its SYNs with RST, so the leecher's dial loop
		// sits mostly in its pause between refused attempts, and the
		// seeder's SYN from its listen port reaches the leecher's
		// listener, not a connecting socket: both ends hold an accepted
		// connection, and each must still know its side of the BitTorrent
		// handshake.
		{name: "tcp-reachable-dialer", utp: "off", leechHost: "h1", answering: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.oneWayRisk() {
				risky++
			}
			labHolePunch(t, tc, &firstFailed)
		})
	}
	// The second trial hides a first one's failure from the verdict, not
	// from the output: the count is the figure to watch (see labHolePunch).
	t.Logf("first-trial failures of the TCP punches through refusing or answering routers: %d of %d", firstFailed, risky)
}

// labHolePunch runs the case, counting in *firstFailed a first trial
// that failed and was tried again.
func labHolePunch(t *testing.T, tc labPunchCase, firstFailed *int) {
	r := labPunchTrial(t, tc)
	if r.err != nil && tc.oneWayRisk() {
		*firstFailed++
		// Not expected any more: a punched TCP connection dead one way
		// (the far end's SYN met our listener after our refused attempt;
		// see the engine's doc on hole punching) is now reset as it is
		// accepted, which frees the routers' entries, and the punch goes
		// on. The case is still tried once more in a fresh lab, and fails
		// if that fails too; TestLabHolePunch counts first trials failed.
		t.Logf("=== first trial failed (issue 13 item 5: should not happen; report it), trying once more in a fresh lab: %v", r.err)
		r = labPunchTrial(t, tc)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Logf("%s got %d bytes from %s in %v (punched %v after the rendezvous was asked; punched again %d times; %d listener answers reset); %s", tc.leechHost, r.size, tc.seedHost(), r.took.Round(10*time.Millisecond), r.punch, r.again, r.deadReset, r.line)
}

// oneWayRisk reports whether the case punches TCP through routers that
// refuse or answer unsolicited packets, where a punched connection can be
// dead one way (see labHolePunch).
func (tc labPunchCase) oneWayRisk() bool {
	return tc.utp == "off" && (tc.reject || tc.prohibit || tc.answering)
}

// seedHost is where the case's seeder runs: h5 behind the second strict
// NAT unless the case names another.
func (tc labPunchCase) seedHost() string {
	if tc.seeder != "" {
		return tc.seeder
	}
	return "h5"
}

// labPunchResult is one hole-punch trial's outcome: err is nil when the
// file came through a punched connection.
type labPunchResult struct {
	err  error
	size int
	took time.Duration // from the leecher's start to its exit
	line string        // the "hole punched" log line
	// punch is from the leecher's asking for the rendezvous to the
	// "hole punched" line (the two log times, to the millisecond).
	punch time.Duration
	// again counts the punched TCP connections either end reset to
	// punch again (a failed handshake, or silence; see the engine).
	again int
	// deadReset counts the connections either end's listener accepted
	// from the other after a refused attempt, and reset (see the engine).
	deadReset int
}

// labPunchTrial builds a lab, runs relay, seeder and leecher as the case
// says, and reports whether the leecher got the file byte for byte
// through a connection hole punched via the relay.
func labPunchTrial(t *testing.T, tc labPunchCase) labPunchResult {
	lab := netlab.New(t, netlab.Options{SecondStrict: true, Stealth: !tc.answering && !tc.reject && !tc.prohibit, Reject: tc.reject, Prohibit: tc.prohibit, Transit: tc.transit})
	src, data := labFile(t, "Gannet Colony "+tc.name+".bin", 3<<20+321)
	torrent := filepath.Join(t.TempDir(), "colony.torrent")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, stderr, err := shoal(ctx, "create", "--v1", "--piece-length", "262144", "-o", torrent, src); err != nil {
		t.Fatalf("create: %v\n%s", err, stderr)
	}
	const relayAddr = "203.0.113.50:42040"
	relay := startLabGet(t, lab, "s1", "42040", t.TempDir(), torrent, "--timeout", "90s", "--max-down", "1KB")
	seed := startLabGet(t, lab, tc.seedHost(), "42041", filepath.Dir(src), torrent, "--timeout", "90s", "--seed", "--utp", tc.utp, "--peer", relayAddr)
	// The leecher joins after the relay's PEX round at 5 s, so the seeder
	// hears of it only at the next round, a minute later, after the
	// leecher's deadline. Over uTP, two peers that dial each other at once
	// from their shared UDP sockets punch through without BEP 55; here only
	// the leecher dials, and only a rendezvous can bring the seeder's
	// answer.
	time.Sleep(8 * time.Second)
	out := t.TempDir()
	leech := startLabGet(t, lab, tc.leechHost, "42042", out, torrent, "--utp", tc.utp, "--peer", relayAddr, "--timeout", "50s")
	start := time.Now()
	snaps := labPunchSnapshots(ctx, lab, tc, start)
	err := leech.cmd.Wait()
	r := labPunchResult{size: len(data), took: time.Since(start)}
	logs := func() string {
		return fmt.Sprintf("\nleecher (%s), last %d lines:\n%s\nseeder (%s):\n%s\nrelay (s1):\n%s%s",
			tc.leechHost, logTail, leech.logTail(), tc.seedHost(), seed.logTail(), relay.logTail(), snaps())
	}
	if err != nil {
		r.err = fmt.Errorf("leecher on %s: %w%s", tc.leechHost, err, logs())
		return r
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || !bytes.Equal(got, data) {
		r.err = fmt.Errorf("leecher's file differs or is missing (%v)%s", err, logs())
		return r
	}
	if !strings.Contains(relay.logText(), "hole punch relayed") {
		r.err = fmt.Errorf("the relay's log does not show the rendezvous%s", logs())
		return r
	}
	r.line = leech.logLine("hole punched")
	if r.line == "" {
		r.line = seed.logLine("hole punched")
	}
	if r.line == "" || !strings.Contains(r.line, "relay="+relayAddr) {
		r.err = fmt.Errorf("neither end logged a connection hole punched via %s%s", relayAddr, logs())
	}
	r.again = strings.Count(leech.logText()+seed.logText(), "punching again")
	r.deadReset = strings.Count(leech.logText()+seed.logText(), "met our listener")
	asked, ok1 := logTime(leech.logLine("hole punch rendezvous asked"))
	punched, ok2 := logTime(r.line)
	if ok1 && ok2 {
		r.punch = punched.Sub(asked)
	}
	return r
}

// labPunchSnapshots records, 6 s and 15 s after start (the punch comes
// 2-3 s after the leecher starts) unless ctx ends first, the NATed
// hosts' routers' connection-tracking entries for the peers' ports and
// the two hosts' TCP sockets, and returns a func that gives what was
// recorded so far. A punched TCP connection that carries no data shows
// there as a socket established at both ends while one router's entry
// never left SYN_SENT2 (it still tracks its host's own refused SYN), a
// reset one as entries in CLOSE with neither socket left.
func labPunchSnapshots(ctx context.Context, lab *netlab.Lab, tc labPunchCase, start time.Time) func() string {
	var nodes []*netlab.Node // resolved here: Node fails the test, so not from the goroutine
	for _, h := range []string{tc.leechHost, tc.seedHost()} {
		nodes = append(nodes, lab.Node("r"+strings.TrimPrefix(h, "h")), lab.Node(h))
	}
	var mu sync.Mutex
	var b strings.Builder
	go func() {
		for _, at := range []time.Duration{6 * time.Second, 15 * time.Second} {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(at))):
			}
			var s strings.Builder
			fmt.Fprintf(&s, "\n=== lab state %v after the leecher started\n", at)
			for i, n := range nodes {
				c := n.Command("ss", "-tani")
				if i%2 == 0 { // a router
					c = n.Command("grep", "-E", "4204[0-2]", "/proc/net/nf_conntrack")
				}
				out, _ := c.CombinedOutput()
				fmt.Fprintf(&s, "[%s] %s\n%s", n.Name, strings.Join(c.Args[4:], " "), out)
			}
			mu.Lock()
			b.WriteString(s.String())
			mu.Unlock()
		}
	}()
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}

// logTime is the time= field of a log line.
func logTime(line string) (time.Time, bool) {
	_, rest, ok := strings.Cut(line, "time=")
	if !ok {
		return time.Time{}, false
	}
	v, _, _ := strings.Cut(rest, " ")
	tm, err := time.Parse(time.RFC3339Nano, v)
	return tm, err == nil
}

// labGetProc is a `shoal get` running on a lab host.
type labGetProc struct {
	cmd *exec.Cmd
	log string
}

// startLabGet starts `shoal get` on host, listening on port, downloading
// torrent into dir; extra flags follow the lab's.
func startLabGet(t *testing.T, lab *netlab.Lab, host, port, dir, torrent string, extra ...string) *labGetProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), host+"-get.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args := append([]string{"get"}, labArgs(t, "0.0.0.0:"+port)...)
	// Debug: a failed punch is diagnosed from these logs (which
	// connection formed, how its handshake ended, why it closed).
	args = append(append(args, "--out", dir, "--quiet", "--log-level", "debug"), extra...)
	cmd := lab.Host(host).Command(shoalBin, append(args, torrent)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := lab.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	return &labGetProc{cmd: cmd, log: logPath}
}

// logTail is how many of a get's last log lines a failure shows.
const logTail = 60

// logTail is the last logTail lines of the get's log.
func (p *labGetProc) logTail() string {
	lines := strings.Split(strings.TrimRight(p.logText(), "\n"), "\n")
	if len(lines) > logTail {
		lines = append([]string{fmt.Sprintf("[%d earlier lines]", len(lines)-logTail)}, lines[len(lines)-logTail:]...)
	}
	return strings.Join(lines, "\n")
}

func (p *labGetProc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// logLine is the first log line containing s, or "".
func (p *labGetProc) logLine(s string) string {
	for _, line := range strings.Split(p.logText(), "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
