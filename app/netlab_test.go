package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netlab"
)

// labDaemon is a `shoal daemon` running on a lab host.
type labDaemon struct {
	ready readyLine
	log   string // its stderr, at --log-level info
	stop  func() error
}

// labArgs are the flags every Shoal process in the lab gets: the lab's
// networks only, no public bootstrap.
func labArgs(t *testing.T, listen string) []string {
	return []string{"--allow-net", netlab.RangesFlag(), "--bootstrap", "none", "--listen", listen,
		"--data", t.TempDir(), "--log-level", "info"}
}

func startLabDaemon(t *testing.T, lab *netlab.Lab, host string, port int, args ...string) *labDaemon {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), host+"-daemon.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := lab.Host(host).Command(shoalBin, append(append([]string{"daemon"}, labArgs(t, "0.0.0.0:"+strconv.Itoa(port))...), args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := lab.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	d := &labDaemon{log: logPath}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || json.Unmarshal([]byte(line), &d.ready) != nil {
		b, _ := os.ReadFile(logPath)
		t.Fatalf("daemon on %s: ready line %q: %v\n%s", host, line, err, b)
	}
	d.stop = func() error {
		cmd.Process.Signal(syscall.SIGINT)
		return cmd.Wait()
	}
	return d
}

// waitLog waits for want in the daemon's log and returns the line.
func (d *labDaemon) waitLog(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(d.log)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, want) {
				return line
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(d.log)
	t.Fatalf("%q not in the daemon's log within %v:\n%s", want, timeout, b)
	return ""
}

// labFile writes a random file to share and returns its path and bytes.
func labFile(t *testing.T, name string, size int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// labGet runs `shoal get` on host, dialling peer, and checks the file.
func labGet(t *testing.T, lab *netlab.Lab, host, peer, ih, name string, want []byte) {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"get"}, labArgs(t, "0.0.0.0:0")...)
	args = append(args, "--out", out, "--peer", peer, "--timeout", "90s", "--quiet", ih)
	start := time.Now()
	b, err := lab.Host(host).Command(shoalBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("get on %s from %s: %v\n%s", host, peer, err, b)
	}
	got, err := os.ReadFile(filepath.Join(out, name))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("get on %s from %s: file differs or missing (%v)", host, peer, err)
	}
	t.Logf("%s got %d bytes from %s in %v", host, len(want), peer, time.Since(start).Round(10*time.Millisecond))
}

// mappedPorts counts a router's forwardings of port.
func mappedPorts(t *testing.T, r *netlab.Node, port int) int {
	t.Helper()
	rules, err := r.Mappings()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rule := range rules {
		if strings.Contains(rule, "--dport "+strconv.Itoa(port)+" ") {
			n++
		}
	}
	return n
}

// labSeederBehind runs a seeder daemon on h1 behind r1, waits for its port
// to be mapped by method, and has the public host s1 download from it by
// dialling r1's public address. A clean exit removes the mapping.
func labSeederBehind(t *testing.T, opts netlab.Options, method string) {
	lab := netlab.New(t, opts)
	r1 := lab.Router("r1")
	const port = 42000
	src, data := labFile(t, "Heron Count "+method+".bin", 3<<20+123)
	seed := startLabDaemon(t, lab, "h1", port, "--share", src)
	line := seed.waitLog(t, "port mapped", 30*time.Second)
	if !strings.Contains(line, "method="+method) || !strings.Contains(line, "external=203.0.113.11:42000") {
		t.Fatalf("mapping log %q, want method=%s external=203.0.113.11:42000", line, method)
	}
	if n := mappedPorts(t, r1, port); n != 2 {
		t.Fatalf("r1 forwards %d protocols of port %d, want TCP and UDP", n, port)
	}
	labGet(t, lab, "s1", "203.0.113.11:42000", seed.ready.Shared[src], filepath.Base(src), data)
	// The getter dials TCP and uTP at once and keeps the first to answer,
	// so either protocol's forwarding may have carried the transfer.
	tcp, err := r1.MappedConnections("tcp", port)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := r1.MappedConnections("udp", port)
	if err != nil {
		t.Fatal(err)
	}
	if tcp+udp == 0 {
		t.Fatalf("no connection came in through r1's mapping (TCP %d, UDP %d packets)", tcp, udp)
	}
	if err := seed.stop(); err != nil {
		t.Fatalf("seeder exit: %v", err)
	}
	if n := mappedPorts(t, r1, port); n != 0 {
		t.Fatalf("%d forwardings left on r1 after the seeder's clean exit", n)
	}
}

// TestLabSeederBehindUPnP: a seeder behind a UPnP router is reachable from
// the public segment through the port it mapped.
func TestLabSeederBehindUPnP(t *testing.T) { labSeederBehind(t, netlab.Options{}, "upnp") }

// TestLabDHTFindsMappedSeeder: a seeder behind the UPnP router announces
// its mapped port on the DHT (a bootstrap node on s2); a public leecher on
// s1 that knows only the infohash finds it there and downloads through the
// mapping.
func TestLabDHTFindsMappedSeeder(t *testing.T) {
	lab := netlab.New(t, netlab.Options{PublicHosts: 2})
	boot := startLabDaemon(t, lab, "s2", 42010)
	src, data := labFile(t, "Plover Nests.bin", 2<<20+9)
	seed := startLabDaemon(t, lab, "h1", 42011, "--share", src, "--bootstrap", boot.ready.DHTAddr, "--log-level", "debug")
	seed.waitLog(t, "port mapped", 30*time.Second)
	// The leecher asks only once the seeder has announced, so that it
	// finds the seeder on the DHT rather than the seeder finding it.
	seed.waitLog(t, fmt.Sprintf("msg=\"DHT announced\" infohash=%s port=42011", seed.ready.Shared[src]), 60*time.Second)
	out := t.TempDir()
	args := append([]string{"get"}, labArgs(t, "0.0.0.0:0")...)
	args = append(args, "--bootstrap", boot.ready.DHTAddr, "--out", out, "--timeout", "120s", "--quiet", seed.ready.Shared[src])
	start := time.Now()
	b, err := lab.Host("s1").Command(shoalBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("get by infohash on s1: %v\n%s", err, b)
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file from the DHT-found seeder differs or is missing (%v)", err)
	}
	t.Logf("s1 found the seeder on the DHT and downloaded %d bytes in %v", len(data), time.Since(start).Round(10*time.Millisecond))
	if n, err := lab.Router("r1").MappedConnections("tcp", 42011); err != nil || n == 0 {
		t.Fatalf("no TCP connection came in through r1's mapping of 42011 (%d, %v): the seeder was not dialled at its mapped address", n, err)
	}
}

// TestLabSeederBehindNATPMP: the same through NAT-PMP alone.
func TestLabSeederBehindNATPMP(t *testing.T) {
	labSeederBehind(t, netlab.Options{NATPMPOnly: true}, "natpmp")
}

// TestLabNoMapping: behind a carrier-grade NAT the daemon says why no port
// could be opened; behind a strict NAT it says no router answered, and a
// download from a public seeder still works outbound.
func TestLabNoMapping(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	cgn := startLabDaemon(t, lab, "h3", 42001)
	line := cgn.waitLog(t, "port mapping failed", 30*time.Second)
	if !strings.Contains(line, "Your router refused to open a port") || !strings.Contains(line, "carrier-grade NAT") {
		t.Fatalf("double NAT: %q, want the refusal naming carrier-grade NAT", line)
	}
	src, data := labFile(t, "Tern Survey.bin", 2<<20+5)
	seed := startLabDaemon(t, lab, "s1", 42002, "--share", src)
	labGet(t, lab, "h2", "203.0.113.50:42002", seed.ready.Shared[src], filepath.Base(src), data)
	strict := startLabDaemon(t, lab, "h2", 42003)
	line = strict.waitLog(t, "port mapping failed", 30*time.Second)
	if !strings.Contains(line, "No router answered UPnP or NAT-PMP") {
		t.Fatalf("strict NAT: %q, want no router answering", line)
	}
	if n := mappedPorts(t, lab.Router("r3"), 42001); n != 0 {
		t.Fatalf("r3 behind the CGNAT forwards port 42001")
	}
}

// labStatus is the part of `shoal status --json` the lab tests read.
type labStatus struct {
	Network struct {
		Role             string `json:"role"`
		Reachable        string `json:"reachable"`
		ReachableHow     string `json:"reachable_how"`
		How              string `json:"how"`
		ExternalAddr     string `json:"external_addr"`
		ExternalAddrFrom string `json:"external_addr_from"`
		PortMapping      string `json:"port_mapping"`
		PortMappingErr   string `json:"port_mapping_error"`
	} `json:"network"`
}

func (d *labDaemon) status(t *testing.T) labStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, stderr, err := shoal(ctx, "status", "--json", "--data", d.ready.DataDir)
	var st labStatus
	if err != nil || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status --json: %v %q %s", err, out, stderr)
	}
	return st
}

// TestLabSupernodeOnlyWhereReachable: three nodes that find no supernode
// (no bootstrap): a public host and one behind the UPnP router are known
// reachable and promote themselves; one behind the strict NAT is known
// unreachable, stays a leaf and says it is still looking. `shoal status
// --json` shows reachability, external address and port mapping.
func TestLabSupernodeOnlyWhereReachable(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	nodes := map[string]*labDaemon{
		"s1": startLabDaemon(t, lab, "s1", 42020),
		"h1": startLabDaemon(t, lab, "h1", 42021),
		"h2": startLabDaemon(t, lab, "h2", 42022),
	}
	// Alone for 30 s (jittered up to 60 s), a reachable node promotes and
	// an unreachable one declines.
	deadline := time.Now().Add(100 * time.Second)
	for {
		s1, h1, h2 := nodes["s1"].status(t), nodes["h1"].status(t), nodes["h2"].status(t)
		if h2.Network.Role != "leaf" {
			t.Fatalf("h2 behind the strict NAT promoted itself: %+v", h2.Network)
		}
		if s1.Network.Role == "supernode" && h1.Network.Role == "supernode" && strings.Contains(h2.Network.ReachableHow, "still looking") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 100 s: s1 %+v, h1 %+v, h2 %+v", s1.Network, h1.Network, h2.Network)
		}
		time.Sleep(time.Second)
	}
	h1 := nodes["h1"].status(t).Network
	if h1.Reachable != "yes" || h1.PortMapping != "upnp" || h1.ExternalAddr != "203.0.113.11:42021" {
		t.Errorf("h1 behind UPnP: %+v", h1)
	}
	if s1 := nodes["s1"].status(t).Network; s1.Reachable != "yes" {
		t.Errorf("s1 on the public segment: %+v", s1)
	}
	nodes["h2"].waitLog(t, "reachability: no supernode to test with yet", time.Second)
	h2 := nodes["h2"].status(t).Network
	if h2.Role != "leaf" || h2.Reachable != "no" || !strings.Contains(h2.ReachableHow, "still looking") ||
		!strings.HasPrefix(h2.PortMappingErr, "No router answered") {
		t.Errorf("h2 behind the strict NAT: %+v", h2)
	}
	t.Logf("h1: %s (%s); h2: %s (%s)", h1.Reachable, h1.ReachableHow, h2.Reachable, h2.ReachableHow)
}

// waitStatus polls d's `shoal status --json` until ok accepts it, failing
// with the last status after timeout.
func (d *labDaemon) waitStatus(t *testing.T, timeout time.Duration, ok func(labStatus) bool) labStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := d.status(t)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(d.log)
			t.Fatalf("status after %v: %+v\n%s", timeout, st.Network, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestLabDialBack: with a public supernode on s1, the node behind the UPnP
// router asks it to dial back its mapped address and is reachable by that
// test; the node behind the strict NAT asks the same and is not, the
// supernode's dial to its router's address failing. Both answers, and how
// they were reached, show in `shoal status --json`.
func TestLabDialBack(t *testing.T) {
	lab := netlab.New(t, netlab.Options{})
	sup := startLabDaemon(t, lab, "s1", 42030, "--supernode")
	boot := []string{"--bootstrap", sup.ready.DHTAddr}
	h1 := startLabDaemon(t, lab, "h1", 42031, boot...)
	h2 := startLabDaemon(t, lab, "h2", 42032, boot...)
	const helper = "supernode 203.0.113.50:42030"
	tested := func(st labStatus) bool { return strings.Contains(st.Network.How, "dial-back by "+helper) }
	n1 := h1.waitStatus(t, 90*time.Second, tested).Network
	if n1.Reachable != "yes" || n1.PortMapping != "upnp" || n1.ExternalAddr != "203.0.113.11:42031" ||
		!strings.HasPrefix(n1.How, "upnp mapping + dial-back by "+helper+" reached 203.0.113.11:42031") {
		t.Errorf("h1 behind UPnP: %+v", n1)
	}
	n2 := h2.waitStatus(t, 90*time.Second, tested).Network
	if n2.Reachable != "no" || n2.PortMapping != "none" || n2.Role != "leaf" ||
		!strings.HasPrefix(n2.How, "no port mapping; dial-back by "+helper+" to 203.0.113.12:42032 failed") {
		t.Errorf("h2 behind the strict NAT: %+v", n2)
	}
	h1.waitLog(t, "reachability tested", time.Second)
	t.Logf("h1: %s (%s)\nh2: %s (%s)", n1.Reachable, n1.How, n2.Reachable, n2.How)
}

// TestLabExternalFromPeers: behind the strict NAT no router maps a port
// and no supernode tests us, yet the two public seeders a download
// dials both say in their BEP 10 yourip that they see the router's
// address: `shoal status --json` shows it as the external address,
// learned from peers.
func TestLabExternalFromPeers(t *testing.T) {
	lab := netlab.New(t, netlab.Options{PublicHosts: 2})
	src, _ := labFile(t, "Gull Census.bin", 1<<20+7)
	// Slow seeders, so that the download cannot finish (and drop the
	// other seeder as a fellow seed) before both have shaken hands.
	s1 := startLabDaemon(t, lab, "s1", 42040, "--share", src, "--max-up", "64KiB")
	startLabDaemon(t, lab, "s2", 42041, "--share", src, "--max-up", "64KiB")
	h2 := startLabDaemon(t, lab, "h2", 42042, "--log-level", "debug")
	ih := s1.ready.Shared[src]
	link := "magnet:?xt=urn:btih:" + ih + "&x.pe=203.0.113.50:42040&x.pe=203.0.113.51:42041"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, stderr, err := shoal(ctx, "add", "--data", h2.ready.DataDir, link); err != nil {
		t.Fatalf("add: %v %s %s", err, out, stderr)
	}
	st := h2.waitStatus(t, 60*time.Second, func(st labStatus) bool { return st.Network.ExternalAddr != "" }).Network
	if st.ExternalAddr != "203.0.113.12:42042" || st.ExternalAddrFrom != "2 peers agree on our IP (BEP 10 yourip)" ||
		st.PortMapping != "none" {
		t.Errorf("h2 behind the strict NAT: %+v", st)
	}
	t.Logf("h2: external %s from %s", st.ExternalAddr, st.ExternalAddrFrom)
}

// TestLabMappedPortTaken: another host on r1's LAN already holds r1's
// external port 42011 (NAT-PMP mappings for TCP and UDP made with
// natpmpc), so r1 maps the seeder's listen port 42011 to another
// external port. The seeder must tell others that port, not its LAN one:
// `shoal status --json` shows it, the DHT announce carries it (a public
// leecher that knows only the infohash finds the seeder through a
// bootstrap node on s2 and downloads), and the transfer comes in through
// r1's forwarding of that port.
func TestLabMappedPortTaken(t *testing.T) {
	lab := netlab.New(t, netlab.Options{PublicHosts: 2, NATPMPOnly: true})
	const lanPort = 42011
	for _, proto := range []string{"tcp", "udp"} {
		out, err := lab.Host("h1b").Command("natpmpc", "-g", lab.Router("r1").LAN.String(), "-a",
			strconv.Itoa(lanPort), strconv.Itoa(lanPort), proto, "3600").CombinedOutput()
		if err != nil {
			t.Fatalf("natpmpc on h1b (%s): %v\n%s", proto, err, out)
		}
	}
	boot := startLabDaemon(t, lab, "s2", 42010)
	src, data := labFile(t, "Tern Roost.bin", 2<<20+17)
	seed := startLabDaemon(t, lab, "h1", lanPort, "--share", src, "--bootstrap", boot.ready.DHTAddr, "--log-level", "debug")
	line := seed.waitLog(t, "port mapped", 30*time.Second)
	_, ext, _ := strings.Cut(line, "external=")
	ext, _, _ = strings.Cut(ext, " ")
	extAP, err := netip.ParseAddrPort(ext)
	if err != nil || extAP.Addr() != lab.Router("r1").Addr || extAP.Port() == lanPort {
		t.Fatalf("mapping log %q: want r1's address with a port other than the taken %d", line, lanPort)
	}
	st := seed.waitStatus(t, 30*time.Second, func(st labStatus) bool { return st.Network.ExternalAddr != "" }).Network
	if st.ExternalAddr != ext || st.PortMapping != "natpmp" {
		t.Errorf("status: external %q by %q, want %s by natpmp", st.ExternalAddr, st.PortMapping, ext)
	}
	// The seeder first announces its LAN port (before the mapping), then
	// re-announces the mapped one: the leecher asks after that, so that
	// the DHT can only lead it through r1's forwarding.
	seed.waitLog(t, fmt.Sprintf("msg=\"DHT announced\" infohash=%s port=%d", seed.ready.Shared[src], extAP.Port()), 60*time.Second)
	out := t.TempDir()
	args := append([]string{"get"}, labArgs(t, "0.0.0.0:0")...)
	args = append(args, "--bootstrap", boot.ready.DHTAddr, "--out", out, "--timeout", "120s", "--quiet", "--log-level", "debug", seed.ready.Shared[src])
	start := time.Now()
	b, err := lab.Host("s1").Command(shoalBin, args...).CombinedOutput()
	if err != nil {
		sl, _ := os.ReadFile(seed.log)
		t.Fatalf("get by infohash on s1 (seeder's external address %s): %v\n%s\nseeder:\n%s", ext, err, b, sl)
	}
	got, err := os.ReadFile(filepath.Join(out, filepath.Base(src)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file from the DHT-found seeder differs or is missing (%v)", err)
	}
	tcp, _ := lab.Router("r1").MappedConnections("tcp", int(extAP.Port()))
	udp, _ := lab.Router("r1").MappedConnections("udp", int(extAP.Port()))
	if tcp+udp == 0 {
		t.Fatalf("nothing came in through r1's forwarding of %s (TCP %d, UDP %d packets): the seeder was not dialled at its mapped address", ext, tcp, udp)
	}
	t.Logf("seeder on h1 mapped %d to %s; s1 found it on the DHT and downloaded %d bytes in %v (TCP %d, UDP %d packets through the mapping)",
		lanPort, ext, len(data), time.Since(start).Round(10*time.Millisecond), tcp, udp)
}
