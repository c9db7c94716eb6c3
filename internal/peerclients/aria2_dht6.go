package peerclients

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Host6 is the IPv6 loopback address the IPv6 tests bind to.
const Host6 = "::1"

// StartAria2DHT6Seeder runs aria2c seeding a torrent (content in dir,
// usually trackerless) over IPv6 only: it listens on [::1], runs its IPv6
// DHT (BEP 32) with entry as its only entry point ("[::1]:PORT"), and its
// IPv4 DHT is off. aria2 announces the torrent into that DHT and serves
// the metadata (BEP 9) to a peer that has only the infohash.
func StartAria2DHT6Seeder(tb testing.TB, torrent, dir, entry string) (*Aria2, error) {
	bin, ports, err := binAndPorts("aria2c", 2)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(entry)
	if err != nil {
		return nil, fmt.Errorf("peerclients: aria2 DHT6 entry point %q: %w", entry, err)
	}
	drop := []string{"--enable-dht6=false", "--disable-ipv6=true", "--interface=" + Host}
	args := slices.DeleteFunc(Aria2Args(ports[0]), func(a string) bool { return slices.Contains(drop, a) })
	args = append(args, "--enable-dht6=true", "--disable-ipv6=false", "--interface="+Host6,
		"--dht-entry-point6="+net.JoinHostPort(host, port), "--dht-listen-port="+strconv.Itoa(ports[1]),
		"--dht-file-path6="+filepath.Join(tb.TempDir(), "dht6.dat"),
		"--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false")
	logPath := filepath.Join(tb.TempDir(), "aria2.log")
	args = append(args, "--log="+logPath, "--log-level=debug", "-d", dir, torrent)
	p, err := Start(tb, bin, args...)
	if err != nil {
		return nil, err
	}
	a := &Aria2{Proc: p, PeerAddr: net.JoinHostPort(Host6, strconv.Itoa(ports[0])), LogPath: logPath}
	if err := p.WaitListening(a.PeerAddr, 15*time.Second); err != nil {
		return nil, fmt.Errorf("%w; aria2c's log ends:\n%s", err, a.logTail(3000))
	}
	return a, nil
}

// LogContains reports whether aria2c's log holds s (for tests that wait
// for a DHT message).
func (a *Aria2) LogContains(s string) bool {
	return strings.Contains(a.logTail(1<<30), s)
}
