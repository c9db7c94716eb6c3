package peerclients

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Aria2 is an aria2c process on one torrent. It finds peers through the
// torrent's tracker and accepts incoming connections on PeerAddr.
type Aria2 struct {
	Proc     *Proc
	PeerAddr string
	LogPath  string // aria2c's own log (info level), for failures
	DHTPort  int    // its DHT's UDP port (StartAria2DHTSeeding only)
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
	return StartAria2With(tb, torrent, dir, seed)
}

// Aria2RequireCrypto are the options with which aria2 accepts only
// MSE-encrypted peers, with RC4 for the whole stream.
var Aria2RequireCrypto = []string{"--bt-require-crypto=true", "--bt-min-crypto-level=arc4"}

// StartAria2With is StartAria2 with extra aria2c options (before the torrent).
func StartAria2With(tb testing.TB, torrent, dir string, seed bool, extra ...string) (*Aria2, error) {
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
	logPath := filepath.Join(tb.TempDir(), "aria2.log")
	args = append(args, "--log="+logPath, "--log-level=info")
	args = append(args, extra...)
	p, err := Start(tb, bin, append(args, "-d", dir, torrent)...)
	if err != nil {
		return nil, err
	}
	a := &Aria2{Proc: p, PeerAddr: addr(port), LogPath: logPath}
	err = p.WaitListening(a.PeerAddr, 15*time.Second)
	if !seed && errors.Is(err, ErrExited) && p.Err() == nil {
		err = nil // a leecher that already finished
	}
	return a, err
}

// StartAria2Seeding runs an aria2c seeder of torrent (content in dir) and
// waits until tr lists it for ih. If it is not listed, the error carries
// the end of aria2c's log, which shows each announce and the answer.
func StartAria2Seeding(tb testing.TB, torrent, dir string, tr *Tracker, ih [20]byte) (*Aria2, error) {
	a, err := StartAria2(tb, torrent, dir, true)
	if err != nil {
		return nil, err
	}
	if err := tr.WaitPeers(ih, 1, 90*time.Second); err != nil {
		return nil, fmt.Errorf("%w; aria2c's log ends:\n%s", err, a.logTail(3000))
	}
	return a, nil
}

// logTail is the last n bytes of aria2c's log.
func (a *Aria2) logTail(n int) string {
	b, err := os.ReadFile(a.LogPath)
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-n):])
}

// LogLines is at most n lines of aria2c's own log that contain want (its
// DHT traffic, for example "announce_peer"), the first ones.
func (a *Aria2) LogLines(want string, n int) []string {
	b, err := os.ReadFile(a.LogPath)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, want) && len(out) < n {
			out = append(out, line)
		}
	}
	return out
}

// StartAria2DHTSeeding runs an aria2c seeder of a trackerless torrent
// (content in dir) with its IPv4 DHT on, entering the DHT at entry (a
// loopback host:port, for example a Shoal node's DHT address), so that it
// announces the torrent there (BEP 5) and serves its metadata (BEP 9). Its
// DHT listens on DHTPort on 127.0.0.1, and keeps its routing table in a
// temporary folder.
func StartAria2DHTSeeding(tb testing.TB, torrent, dir, entry string) (*Aria2, error) {
	return StartAria2DHTSeedingMany(tb, []string{torrent}, dir, entry)
}

// StartAria2DHTSeedingMany is StartAria2DHTSeeding for several torrents
// (content of each in dir) in one aria2c process, all seeded at once.
func StartAria2DHTSeedingMany(tb testing.TB, torrents []string, dir, entry string) (*Aria2, error) {
	bin, ports, err := binAndPorts("aria2c", 2)
	if err != nil {
		return nil, err
	}
	args := Aria2Args(ports[0])
	for i, a := range args {
		if a == "--enable-dht=false" {
			args[i] = "--enable-dht=true"
		}
	}
	tmp := tb.TempDir()
	logPath := filepath.Join(tmp, "aria2.log")
	// The entry node goes into aria2's saved routing table before it
	// starts, so its one announce at start does not race the ping to the
	// entry point (see StartAria2DHT6Seeder).
	if err := seedAria2DHTFile(filepath.Join(tmp, "dht.dat"), entry); err != nil {
		return nil, err
	}
	args = append(args, "--dht-entry-point="+entry, "--dht-listen-port="+strconv.Itoa(ports[1]),
		"--dht-file-path="+filepath.Join(tmp, "dht.dat"),
		"--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false",
		"--max-concurrent-downloads="+strconv.Itoa(max(5, len(torrents))),
		"--log="+logPath, "--log-level=info")
	p, err := Start(tb, bin, append(append(args, "-d", dir), torrents...)...)
	if err != nil {
		return nil, err
	}
	a := &Aria2{Proc: p, PeerAddr: addr(ports[0]), LogPath: logPath, DHTPort: ports[1]}
	return a, p.WaitListening(a.PeerAddr, 15*time.Second)
}

// LogTail is the last n bytes of aria2c's own log.
func (a *Aria2) LogTail(n int) string { return a.logTail(n) }
