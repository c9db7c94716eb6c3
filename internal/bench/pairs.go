package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/internal/peerclients"
)

// The one-seeder-to-one-leecher rows (a) and the capped seeders (b). Each
// returns the leecher's figures; a benchNA error marks a row that cannot run.

// shoalLeech runs `shoal get` on the bench torrent from peers and measures it.
func (b *bench) shoalLeech(peers ...string) (benchSample, error) {
	return b.shoalLeechWith(nil, peers...)
}

// shoalLeechWith is shoalLeech with extra `shoal get` flags.
func (b *bench) shoalLeechWith(extra []string, peers ...string) (benchSample, error) {
	return b.shoalLeechTorrent(b.torrent, extra, peers...)
}

// shoalLeechTorrent is shoalLeechWith for another .torrent of the content.
func (b *bench) shoalLeechTorrent(torrent string, extra []string, peers ...string) (benchSample, error) {
	out, data := b.scratch("shoal-out"), b.scratch("shoal-data")
	defer os.RemoveAll(data)
	args := []string{"get", "--quiet", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", data, "--out", out, "--timeout", b.timeout().String()}
	args = append(args, extra...)
	for _, p := range peers {
		args = append(args, "--peer", p)
	}
	p, err := peerclients.Start(b.t, b.opt.Shoal, append(args, torrent)...)
	if err == nil {
		err = p.Wait(b.timeout() + 30*time.Second)
	}
	if err != nil {
		os.RemoveAll(out)
		return benchSample{}, err
	}
	return b.finish(p, p.Ended(), out)
}

// finish turns a leecher that completed at end (and has exited) into a
// sample, after checking its copy.
func (b *bench) finish(p *peerclients.Proc, end time.Time, out string) (benchSample, error) {
	cpu, rss := p.Usage()
	s := benchSample{secs: end.Sub(p.Started).Seconds(), cpu: cpu, rss: rss}
	return s, b.verify(out)
}

// benchDaemon is a `shoal daemon` seeding the bench content. Unlike
// startDaemon's, its exit and output are kept, so a seeder that stops
// mid-bench is reported with its reason rather than as a leecher timeout.
type benchDaemon struct {
	proc  *peerclients.Proc
	ready DaemonReady
}

// shoalSeeder starts a `shoal daemon --share` of the content, with extra
// flags, and checks it serves the bench torrent's infohash.
func (b *bench) shoalSeeder(extra ...string) (*benchDaemon, error) {
	args := []string{"daemon", "--loopback-only", "--listen", "127.0.0.1:0", "--bootstrap", "none",
		"--data", b.scratch("seed-data"), "--share", b.src, "--share-format", "v1"} // the bench torrent is v1
	p, err := peerclients.Start(b.t, b.opt.Shoal, append(args, extra...)...)
	if err != nil {
		return nil, err
	}
	ready, err := b.seederReady(p, "shoal daemon ready", b.timeout())
	if err != nil {
		return nil, err
	}
	return &benchDaemon{proc: p, ready: ready}, nil
}

// seederReady waits up to timeout for p, a `shoal daemon --share` of c
// (on loopback or in a lab's namespace), to print its ready line, and
// checks that it shares c's infohash.
func (c benchContent) seederReady(p *peerclients.Proc, what string, timeout time.Duration) (DaemonReady, error) {
	var ready DaemonReady
	err := peerclients.PollFor(timeout, what, func() (bool, error) {
		if p.Exited() {
			return false, seederExited(p)
		}
		for _, line := range strings.Split(p.Output(1<<20), "\n") {
			if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &ready) == nil && ready.PeerAddr != "" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return ready, err
	}
	if got := ready.Shared[c.src]; got != c.ih.HexString() {
		return ready, fmt.Errorf("shoal seeder shares %s, the torrent is %s (piece length differs?)", got, c.ih.HexString())
	}
	return ready, nil
}

// alive reports a seeder that has exited, with its status and last output.
func (d *benchDaemon) alive() error {
	if !d.proc.Exited() {
		return nil
	}
	return seederExited(d.proc)
}

// seederExited describes a shoal seeder that has exited: when, its status
// and its last output.
func seederExited(p *peerclients.Proc) error {
	status := fmt.Sprint(p.Err())
	if p.Err() == nil { // a daemon exits 0 only on SIGINT or SIGTERM, which the bench never sends it mid-run
		status = "status 0: something outside the bench sent it SIGINT or SIGTERM"
	}
	return fmt.Errorf("the shoal seeder exited after %v (%s); its output:\n%s",
		p.Ended().Sub(p.Started).Round(time.Second), status, p.Output(3000))
}

// seederLeech runs a Shoal leecher, with extra `shoal get` flags, from
// seeders that must stay up throughout.
func (b *bench) seederLeech(extra []string, seeders ...*benchDaemon) (benchSample, error) {
	var peers []string
	for _, d := range seeders {
		if err := d.alive(); err != nil {
			return benchSample{}, err
		}
		peers = append(peers, d.ready.PeerAddr)
	}
	s, err := b.shoalLeechWith(extra, peers...)
	for _, d := range seeders {
		if dead := d.alive(); dead != nil {
			return s, errors.Join(dead, err)
		}
	}
	return s, err
}

// shoalPair is Shoal to Shoal. Like every seeder here, the Shoal seeder is
// fresh for each run (sharing hashes the content before it is ready, out
// of the timed part), so runs are independent.
func (b *bench) shoalPair() (benchSample, error) {
	return b.shoalPairWith(nil, nil)
}

// shoalPairRC4 is Shoal to Shoal with both sides requiring encryption,
// so every byte is RC4-encrypted (the plain row's default "prefer" mode
// encrypts only the handshake between two Shoals).
func (b *bench) shoalPairRC4() (benchSample, error) {
	rc4 := []string{"--encryption", "require"}
	return b.shoalPairWith(rc4, rc4)
}

// shoalPairUTP is Shoal to Shoal over uTP: the leecher dials over uTP
// only (--utp only), the seeder accepts both.
func (b *bench) shoalPairUTP() (benchSample, error) {
	return b.shoalPairWith(nil, []string{"--utp", "only"})
}

// shoalPairWith is Shoal to Shoal with extra flags for the seeder's
// `shoal daemon` and the leecher's `shoal get`.
func (b *bench) shoalPairWith(seed, leech []string) (benchSample, error) {
	d, err := b.shoalSeeder(seed...)
	if err != nil {
		return benchSample{}, err
	}
	defer d.proc.Stop(10 * time.Second)
	return b.seederLeech(leech, d)
}

// cappedFour is (b): four seeders each capped at 25 MB/s upload.
func (b *bench) cappedFour() (benchSample, error) {
	var seeders []*benchDaemon
	defer func() {
		for _, d := range seeders {
			d.proc.Stop(10 * time.Second)
		}
	}()
	for len(seeders) < 4 {
		d, err := b.shoalSeeder("--max-up", "25MB")
		if err != nil {
			return benchSample{}, err
		}
		seeders = append(seeders, d)
	}
	return b.seederLeech(nil, seeders...)
}

// aria2Pair: aria2 finds peers only through a tracker, so each run has a
// fresh opentracker and a copy of the torrent announcing to it.
func (b *bench) aria2Pair() (benchSample, error) {
	seed, err := b.aria2Seed()
	if err != nil {
		return benchSample{}, err
	}
	defer seed.stop()
	return b.aria2Leech(seed.torrent)
}

// aria2Shoal is a Shoal leecher from the same kind of aria2 seeder as
// aria2Pair's, dialing it directly.
func (b *bench) aria2Shoal() (benchSample, error) {
	seed, err := b.aria2Seed()
	if err != nil {
		return benchSample{}, err
	}
	defer seed.stop()
	return b.shoalLeech(seed.addr)
}

// benchSeed is a seeder client of the bench content: its peer address,
// the .torrent announcing to its tracker (if any) and how to stop both.
type benchSeed struct {
	addr, torrent string
	stop          func()
}

// aria2Seed starts a fresh opentracker and an aria2 seeder announcing to
// it, and waits until the tracker lists the seeder.
func (b *bench) aria2Seed() (benchSeed, error) {
	tr, err := startBenchTracker(b.t, b.ih)
	if err != nil {
		return benchSeed{}, err
	}
	torrent := benchWithTracker(b.t, b.torrent, tr.AnnounceURL)
	seeder, err := startBenchAria2(b.t, torrent, filepath.Dir(b.src), true)
	if err != nil {
		tr.Proc.Stop(5 * time.Second)
		return benchSeed{}, err
	}
	stop := func() {
		seeder.Proc.Stop(10 * time.Second)
		tr.Proc.Stop(5 * time.Second)
	}
	if err := tr.WaitSeeders(b.ih, 1, 30*time.Second); err != nil {
		stop()
		return benchSeed{}, fmt.Errorf("aria2 seeder: %w", err)
	}
	return benchSeed{addr: seeder.PeerAddr, torrent: torrent, stop: stop}, nil
}

// aria2Leech downloads torrent (which names a tracker) with aria2 and
// measures it to a verified copy.
func (b *bench) aria2Leech(torrent string) (benchSample, error) {
	out := b.scratch("aria2-out")
	leech, err := startBenchAria2(b.t, torrent, out, false)
	if err == nil {
		err = leech.Proc.Wait(b.timeout())
	}
	if err != nil {
		os.RemoveAll(out)
		return benchSample{}, err
	}
	return b.finish(leech.Proc, leech.Proc.Ended(), out)
}

// qbitPair: qBittorrent-nox to qBittorrent-nox through a fresh tracker. The
// leecher never exits by itself: completion is read from its Web API, then
// it is stopped so its rusage can be read.
func (b *bench) qbitPair() (benchSample, error) {
	return b.qbitPairWith(peerclients.QbitOptions{})
}

// qbitPairUTP is qBittorrent to qBittorrent, both set to uTP only.
func (b *bench) qbitPairUTP() (benchSample, error) {
	return b.qbitPairWith(peerclients.QbitOptions{Protocol: "UTP"})
}

// qbitPairWith is qBittorrent to qBittorrent with options for both.
func (b *bench) qbitPairWith(o peerclients.QbitOptions) (benchSample, error) {
	seed, err := b.qbitSeed(o)
	if err != nil {
		return benchSample{}, err
	}
	defer seed.stop()
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout())
	defer cancel()
	out := b.scratch("qbit-out")
	leech, err := startBenchQbitWith(b.t, seed.torrent, out, false, o)
	if err == nil {
		err = peerclients.Poll(ctx, "qbittorrent leecher completes", leech.Done)
	}
	if err != nil {
		os.RemoveAll(out)
		return benchSample{}, err
	}
	end := time.Now()
	leech.Proc.Stop(15 * time.Second)
	return b.finish(leech.Proc, end, out)
}

// qbitShoal is a Shoal leecher from the same kind of qBittorrent seeder
// as qbitPair's, dialing it directly.
func (b *bench) qbitShoal() (benchSample, error) {
	seed, err := b.qbitSeed(peerclients.QbitOptions{})
	if err != nil {
		return benchSample{}, err
	}
	defer seed.stop()
	return b.shoalLeech(seed.addr)
}

// qbitSeed starts a fresh opentracker and a qBittorrent-nox seeder with
// options o announcing to it, and waits until it seeds and the tracker
// lists it.
func (b *bench) qbitSeed(o peerclients.QbitOptions) (benchSeed, error) {
	tr, err := startBenchTracker(b.t, b.ih)
	if err != nil {
		return benchSeed{}, err
	}
	torrent := benchWithTracker(b.t, b.torrent, tr.AnnounceURL)
	seeder, err := startBenchQbitWith(b.t, torrent, filepath.Dir(b.src), true, o)
	if err != nil {
		tr.Proc.Stop(5 * time.Second)
		return benchSeed{}, err
	}
	seed := benchSeed{addr: seeder.PeerAddr, torrent: torrent, stop: func() {
		seeder.Proc.Stop(15 * time.Second)
		tr.Proc.Stop(5 * time.Second)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout())
	defer cancel()
	if err := peerclients.Poll(ctx, "qbittorrent seeder ready", seeder.Done); err != nil {
		seed.stop()
		return benchSeed{}, err
	}
	if err := tr.WaitSeeders(b.ih, 1, 60*time.Second); err != nil {
		seed.stop()
		return benchSeed{}, fmt.Errorf("qbittorrent seeder: %w", err)
	}
	return seed, nil
}

// libtorrentPair is python3-libtorrent to python3-libtorrent (TCP, plain,
// as PEERS.md sets it up): the leecher dials the seeder and is timed from
// its start to its "finished" line.
func (b *bench) libtorrentPair() (benchSample, error) {
	seed, err := b.libtorrentSeed()
	if err != nil {
		return benchSample{}, err
	}
	defer seed.Stop(10 * time.Second)
	out := b.scratch("libtorrent-out")
	leech, err := peerclients.StartLibtorrentLeech(b.t, b.torrent, out, seed.Addr())
	if err == nil {
		err = peerclients.PollFor(b.timeout(), "libtorrent leecher finishes", func() (bool, error) {
			if leech.Exited() {
				return false, fmt.Errorf("the libtorrent leecher exited: %v\n%s", leech.Err(), leech.Output(3000))
			}
			return leech.Finished(), nil
		})
	}
	if err != nil {
		os.RemoveAll(out)
		return benchSample{}, benchMissing(err)
	}
	end := time.Now()
	leech.Stop(10 * time.Second)
	return b.finish(leech.Proc, end, out)
}

// libtorrentShoal is a Shoal leecher from the same kind of libtorrent
// seeder as libtorrentPair's.
func (b *bench) libtorrentShoal() (benchSample, error) {
	seed, err := b.libtorrentSeed()
	if err != nil {
		return benchSample{}, err
	}
	defer seed.Stop(10 * time.Second)
	return b.shoalLeech(seed.Addr())
}

// libtorrentSeed starts a fresh python3-libtorrent seeder of the content
// (seed mode: it checks each piece the first time it sends it, for
// every leecher alike).
func (b *bench) libtorrentSeed() (*peerclients.LibtorrentSeed, error) {
	seed, err := peerclients.StartLibtorrentSeed(b.t, b.torrent, filepath.Dir(b.src))
	if err != nil {
		return nil, benchMissing(err)
	}
	// A fresh session closes the first handshakes it gets for about half a
	// second after its torrent is added and its port listens (measured
	// here: a Shoal leecher dialing 0.3 s after took 3.5 s for 128 MiB,
	// its first handshake closed and redialled; 0.6 s after, 1.2 s). The
	// row measures transfers, not that start, for both leechers alike.
	time.Sleep(time.Second)
	return seed, nil
}

// transmissionShoal is the Transmission anchor: a fresh Transmission seeder
// (it serves one loopback leecher reliably) and Shoal dialing it.
func (b *bench) transmissionShoal() (benchSample, error) {
	tr, err := startBenchTransmission(b.t)
	if err != nil {
		return benchSample{}, err
	}
	defer tr.Proc.Stop(10 * time.Second)
	if _, err := tr.Seed(b.torrent, filepath.Dir(b.src), b.timeout()); err != nil {
		return benchSample{}, err
	}
	return b.shoalLeech(tr.PeerAddr)
}

// transmissionPair tries Transmission to Transmission through a tracker.
// Transmission 3.00 never dials a loopback peer, so the leecher is expected
// to get nothing; the row then reads n/a with what was seen.
func (b *bench) transmissionPair() (benchSample, error) {
	ts, err := b.transmissionSeed()
	if err != nil {
		return benchSample{}, err
	}
	defer ts.stop()
	tr, torrent := ts.tracker, ts.torrent
	leech, err := startBenchTransmission(b.t)
	if err != nil {
		return benchSample{}, err
	}
	defer leech.Proc.Stop(10 * time.Second)
	out := b.scratch("transmission-out")
	defer os.RemoveAll(out)
	if _, err := leech.Add(torrent, out); err != nil {
		return benchSample{}, err
	}
	return b.transmissionLeech(leech, tr, out)
}

// benchTransmissionSeed is a Transmission seeder of the bench content,
// listed by a tracker of its own; torrent is the .torrent announcing there.
type benchTransmissionSeed struct {
	tracker *peerclients.Tracker
	seeder  *peerclients.Transmission
	torrent string
}

// transmissionSeed starts a tracker and a Transmission seeder announcing
// to it, and waits until the tracker lists the seeder.
func (b *bench) transmissionSeed() (*benchTransmissionSeed, error) {
	tr, err := startBenchTracker(b.t, b.ih)
	if err != nil {
		return nil, err
	}
	ts := &benchTransmissionSeed{tracker: tr, torrent: benchWithTracker(b.t, b.torrent, tr.AnnounceURL)}
	if ts.seeder, err = startBenchTransmission(b.t); err != nil {
		ts.stop()
		return nil, err
	}
	if _, err := ts.seeder.Seed(ts.torrent, filepath.Dir(b.src), b.timeout()); err != nil {
		ts.stop()
		return nil, err
	}
	if err := tr.WaitSeeders(b.ih, 1, 60*time.Second); err != nil {
		ts.stop()
		return nil, fmt.Errorf("transmission seeder: %w", err)
	}
	return ts, nil
}

func (ts *benchTransmissionSeed) stop() {
	if ts.seeder != nil {
		ts.seeder.Proc.Stop(10 * time.Second)
	}
	ts.tracker.Proc.Stop(5 * time.Second)
}

// transmissionLeech waits for the Transmission leecher: n/a if it gets no
// data within the probe time, else measured to completion.
func (b *bench) transmissionLeech(leech *peerclients.Transmission, tr *peerclients.Tracker, out string) (benchSample, error) {
	probe, cancel := context.WithTimeout(context.Background(), b.cfg.probe)
	defer cancel()
	var st peerclients.TransmissionTorrent
	err := peerclients.Poll(probe, "transmission leecher starts", func() (bool, error) {
		var err error
		st, err = leech.Get(b.ih)
		return st.HaveValid > 0, err
	})
	if err != nil && probe.Err() == nil {
		return benchSample{}, err
	}
	if st.HaveValid == 0 {
		seeders, leechers, _ := tr.Scrape(b.ih)
		return benchSample{}, benchNA(fmt.Sprintf("Transmission never dials loopback peers: its leecher got %d bytes, %d peers connected in %v while the tracker listed %d seeder(s), %d leecher(s)",
			st.HaveValid, st.PeersConnected, b.cfg.probe, seeders, leechers))
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), b.timeout())
	defer cancel2()
	if err := peerclients.Poll(ctx, "transmission leecher completes", func() (bool, error) {
		st, err := leech.Get(b.ih)
		return err == nil && st.LeftUntilDone == 0, err
	}); err != nil {
		return benchSample{}, err
	}
	end := time.Now()
	leech.Proc.Stop(10 * time.Second)
	return b.finish(leech.Proc, end, out)
}

// shoalPairGet is Shoal to Shoal on a .torrent of the content (the v1 or
// the v2-only one: every piece checked by SHA-1, or by its SHA-256 Merkle
// tree, on an otherwise identical transfer). The seeder is `shoal get
// --seed` on the content in place; it is ready once it has checked it all
// ("complete").
func (b *bench) shoalPairGet(torrent string) (benchSample, error) {
	port, err := peerclients.FreePort()
	if err != nil {
		return benchSample{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := peerclients.Start(b.t, b.opt.Shoal, "get", "--seed", "--quiet", "--loopback-only", "--listen", addr,
		"--bootstrap", "none", "--data", b.scratch("seed-data"), "--out", filepath.Dir(b.src), torrent)
	if err != nil {
		return benchSample{}, err
	}
	defer p.Stop(10 * time.Second)
	err = peerclients.PollFor(b.timeout(), "shoal get --seed checked the content", func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("the get --seed seeder exited: %v\n%s", p.Err(), p.Output(3000))
		}
		return strings.Contains(p.Output(1<<16), "complete "), nil
	})
	if err != nil {
		return benchSample{}, err
	}
	s, err := b.shoalLeechTorrent(torrent, nil, addr)
	if p.Exited() {
		return s, errors.Join(fmt.Errorf("the get --seed seeder exited: %v\n%s", p.Err(), p.Output(3000)), err)
	}
	return s, err
}
