package peerclients

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// Tracker is an opentracker on 127.0.0.1 serving HTTP and UDP on one port.
type Tracker struct {
	Proc        *Proc
	Port        int
	AnnounceURL string // http://127.0.0.1:Port/announce
	UDPURL      string // udp://127.0.0.1:Port/announce
}

// trackerAttempts bounds the retries when another process takes the port.
const trackerAttempts = 5

// StartOpentracker runs a fresh opentracker with hashes whitelisted (the
// Debian build tracks only whitelisted infohashes). Another process may
// take the free port before opentracker binds it: then ours exits and the
// port answers for someone else, so it retries on a new port.
func StartOpentracker(tb testing.TB, hashes ...[20]byte) (*Tracker, error) {
	bin, err := Bin("opentracker")
	if err != nil {
		return nil, err
	}
	dir := tb.TempDir()
	var wl strings.Builder
	for _, h := range hashes {
		wl.WriteString(hex.EncodeToString(h[:]) + "\n")
	}
	wlPath := filepath.Join(dir, "whitelist.txt")
	if err := os.WriteFile(wlPath, []byte(wl.String()), 0o644); err != nil {
		return nil, fmt.Errorf("peerclients: opentracker whitelist: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // readable after it drops root
		return nil, fmt.Errorf("peerclients: opentracker dir: %w", err)
	}
	var last error
	for range trackerAttempts {
		tr, err := tryOpentracker(tb, bin, dir, wlPath, hashes)
		if tr != nil || !errors.Is(err, errRetry) {
			return tr, err
		}
		last = err
	}
	return nil, fmt.Errorf("peerclients: opentracker could not keep a port after %d attempts: %w", trackerAttempts, last)
}

// errRetry marks an opentracker start that may succeed on another port.
var errRetry = errors.New("retry on another port")

// tryOpentracker starts opentracker once on a free port; errRetry means it
// exited (lost the port) or never listened.
func tryOpentracker(tb testing.TB, bin, dir, wlPath string, hashes [][20]byte) (*Tracker, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p := strconv.Itoa(port)
	args := []string{"-i", Host, "-p", p, "-P", p}
	if os.Geteuid() == 0 {
		// It chroots to -d and becomes -u; the whitelist is read inside.
		args = append(args, "-u", "nobody", "-d", dir, "-w", "/"+filepath.Base(wlPath))
	} else {
		args = append(args, "-d", dir, "-w", wlPath)
	}
	proc, err := Start(tb, bin, args...)
	if err != nil {
		return nil, err
	}
	if err := proc.WaitListening(addr(port), 15*time.Second); err != nil {
		proc.Stop(StopGrace)
		return nil, fmt.Errorf("%w: %w", errRetry, err)
	}
	select {
	case <-proc.Done():
		return nil, fmt.Errorf("%w: opentracker on port %d: %w", errRetry, port, ErrExited)
	case <-time.After(150 * time.Millisecond):
	}
	tr := &Tracker{Proc: proc, Port: port,
		AnnounceURL: "http://" + addr(port) + "/announce",
		UDPURL:      "udp://" + addr(port) + "/announce"}
	if len(hashes) > 0 {
		// opentracker reads its whitelist on a thread of its own; now and
		// then it read nothing, and refused every announce for its whole
		// life (clients then wait minutes before they try again).
		if err := tr.accepts(hashes[0]); err != nil {
			proc.Stop(StopGrace)
			return nil, fmt.Errorf("%w: %w", errRetry, err)
		}
	}
	return tr, nil
}

// accepts checks that the tracker takes announces for ih, with a "stopped"
// announce that leaves no peer behind.
func (tr *Tracker) accepts(ih [20]byte) error {
	q := "info_hash=" + percentEncode(ih[:]) + "&" + url.Values{"peer_id": {"-PC0001-probeprobepr"}, "port": {"1"},
		"uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "event": {"stopped"}, "compact": {"1"}}.Encode()
	var failure string
	err := PollFor(3*time.Second, "peerclients: opentracker accepting announces", func() (bool, error) {
		resp, err := loopbackHTTP().Get(tr.AnnounceURL + "?" + q)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		var body struct {
			Failure string `bencode:"failure reason"`
		}
		if err := bencode.NewDecoder(resp.Body).Decode(&body); err != nil {
			return false, nil
		}
		failure = body.Failure
		return failure == "", nil
	})
	if err != nil {
		return fmt.Errorf("%w (last answer: %q)", err, failure)
	}
	return nil
}

// Scrape asks the tracker how many seeders and leechers it knows for ih.
func (tr *Tracker) Scrape(ih [20]byte) (seeders, leechers int, err error) {
	c, err := tr.Counts(ih)
	return c.Seeders, c.Leechers, err
}

// Counts is one torrent's line in a tracker's scrape.
type Counts struct {
	Seeders, Leechers int
	// Downloaded counts the "completed" announces the tracker received.
	Downloaded int
}

// Counts scrapes ih over HTTP.
func (tr *Tracker) Counts(ih [20]byte) (Counts, error) {
	u := "http://" + addr(tr.Port) + "/scrape?info_hash=" + percentEncode(ih[:])
	resp, err := loopbackHTTP().Get(u)
	if err != nil {
		return Counts{}, fmt.Errorf("peerclients: scrape: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Files map[string]struct {
			Complete   int `bencode:"complete"`
			Incomplete int `bencode:"incomplete"`
			Downloaded int `bencode:"downloaded"`
		} `bencode:"files"`
	}
	if err := bencode.NewDecoder(resp.Body).Decode(&body); err != nil {
		return Counts{}, fmt.Errorf("peerclients: scrape: %w", err)
	}
	f := body.Files[string(ih[:])]
	return Counts{Seeders: f.Complete, Leechers: f.Incomplete, Downloaded: f.Downloaded}, nil
}

// PeerPorts lists the ports of the peers the tracker hands out for ih
// (all on 127.0.0.1), as seen by a probe peer on port 1 that announces
// and then leaves with "stopped".
func (tr *Tracker) PeerPorts(ih [20]byte) ([]int, error) {
	probe := func(event string) (string, error) {
		q := "info_hash=" + percentEncode(ih[:]) + "&" + url.Values{"peer_id": {"-PC0001-listprobe123"}, "port": {"1"},
			"uploaded": {"0"}, "downloaded": {"0"}, "left": {"1"}, "event": {event}, "compact": {"1"}, "numwant": {"200"}}.Encode()
		resp, err := loopbackHTTP().Get(tr.AnnounceURL + "?" + q)
		if err != nil {
			return "", fmt.Errorf("peerclients: list peers: %w", err)
		}
		defer resp.Body.Close()
		var body struct {
			Peers string `bencode:"peers"`
		}
		if err := bencode.NewDecoder(resp.Body).Decode(&body); err != nil {
			return "", fmt.Errorf("peerclients: list peers: %w", err)
		}
		return body.Peers, nil
	}
	peers, err := probe("started")
	if err != nil {
		return nil, err
	}
	if _, err := probe("stopped"); err != nil {
		return nil, err
	}
	var ports []int
	for ; len(peers) >= 6; peers = peers[6:] {
		if port := int(peers[4])<<8 | int(peers[5]); port != 1 {
			ports = append(ports, port)
		}
	}
	return ports, nil
}

// WaitSeeders waits until the tracker lists exactly n seeders for ih.
func (tr *Tracker) WaitSeeders(ih [20]byte, n int, timeout time.Duration) error {
	return tr.waitCounts(ih, fmt.Sprintf("%d seeders", n), timeout, func(s, _ int) bool { return s == n })
}

// WaitPeers waits until the tracker lists at least n peers (seeders and
// leechers) for ih. A client that announced before it knew its data was
// complete counts as a leecher until its next announce.
func (tr *Tracker) WaitPeers(ih [20]byte, n int, timeout time.Duration) error {
	return tr.waitCounts(ih, fmt.Sprintf("%d or more peers", n), timeout, func(s, l int) bool { return s+l >= n })
}

// waitCounts scrapes ih until ok holds for its seeders and leechers.
func (tr *Tracker) waitCounts(ih [20]byte, want string, timeout time.Duration, ok func(seeders, leechers int) bool) error {
	var s, l int
	var err error
	werr := PollFor(timeout, "peerclients: tracker waiting for "+want, func() (bool, error) {
		s, l, err = tr.Scrape(ih)
		return err == nil && ok(s, l), nil
	})
	if werr != nil {
		// Say whether the tracker itself refuses the hash, or the client
		// never announced.
		return fmt.Errorf("%w: %d seeders, %d leechers (last error %v; tracker accepts the hash: %v)",
			werr, s, l, err, errOrYes(tr.accepts(ih)))
	}
	return nil
}

func errOrYes(err error) string {
	if err != nil {
		return err.Error()
	}
	return "yes"
}

// percentEncode escapes every byte as %XX. url.QueryEscape writes a space
// (byte 0x20, in about one infohash in 13) as "+", which opentracker takes
// for a literal plus: the scrape then asked about another torrent and saw
// no peers, and tests waited in vain for clients that had announced.
func percentEncode(b []byte) string {
	const hexDigits = "0123456789ABCDEF"
	out := make([]byte, 0, 3*len(b))
	for _, c := range b {
		out = append(out, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}
