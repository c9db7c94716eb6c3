package peerclients

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// Aria2 is an aria2c process on one torrent. It finds peers through the
// torrent's tracker and accepts incoming connections on PeerAddr.
type Aria2 struct {
	Proc     *Proc
	PeerAddr string
}

// Aria2Args are the options every aria2c run gets: no DHT, PEX, LPD or
// IPv6, bound to 127.0.0.1 on port. It announces every 5 s with a 10 s
// timeout: on a loaded machine an early announce sometimes goes
// unanswered, and aria2's own retry would wait minutes.
func Aria2Args(port int) []string {
	return []string{"--no-conf", "--enable-dht=false", "--enable-dht6=false",
		"--enable-peer-exchange=false", "--bt-enable-lpd=false", "--disable-ipv6=true",
		"--interface=" + Host, "--listen-port=" + strconv.Itoa(port),
		"--summary-interval=0", "--show-console-readout=false", "--enable-color=false",
		"--console-log-level=notice", "--file-allocation=none",
		"--bt-tracker-interval=5", "--bt-tracker-timeout=10", "--bt-tracker-connect-timeout=5"}
}

// StartAria2 runs aria2c on torrent with content in dir, as a seeder
// (forever, trusting the data there) or a leecher (it exits with status 0
// once the download is complete and verified), and waits until it listens.
func StartAria2(tb testing.TB, torrent, dir string, seed bool) (*Aria2, error) {
	bin, ports, err := binAndPorts("aria2c", 1)
	if err != nil {
		return nil, err
	}
	port := ports[0]
	args := Aria2Args(port)
	if seed {
		args = append(args, "--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false")
	} else {
		args = append(args, "--seed-time=0")
	}
	p, err := Start(tb, bin, append(args, "-d", dir, torrent)...)
	if err != nil {
		return nil, err
	}
	a := &Aria2{Proc: p, PeerAddr: addr(port)}
	err = p.WaitListening(a.PeerAddr, 15*time.Second)
	if !seed && errors.Is(err, ErrExited) && p.Err() == nil {
		err = nil // a leecher that already finished
	}
	return a, err
}

// StartAria2Seeding runs an aria2c seeder of torrent (content in dir) and
// waits until tr lists a seeder or leecher for ih. Now and then, on a
// loaded machine, an aria2c never gets an announce through (its tracker
// retries did not help within 90 s, while the tracker answered a probe);
// then that process is replaced once by a fresh one, and the first
// failure is logged.
func StartAria2Seeding(tb testing.TB, torrent, dir string, tr *Tracker, ih [20]byte) (*Aria2, error) {
	var last error
	for attempt := 1; attempt <= 2; attempt++ {
		a, err := StartAria2(tb, torrent, dir, true)
		if err != nil {
			return nil, err
		}
		if last = tr.WaitPeers(ih, 1, 45*time.Second); last == nil {
			return a, nil
		}
		tb.Logf("peerclients: aria2c attempt %d did not announce: %v; its output:\n%s", attempt, last, a.Proc.Output(2000))
		a.Proc.Stop(StopGrace)
	}
	return nil, last
}
