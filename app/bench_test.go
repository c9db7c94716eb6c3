package main

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"maps"
	"os"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/enginebench"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/internal/bench"
)

// The entry points of `make bench`. The harness that runs the shoal
// binary and real clients, times them and prints the tables is
// internal/bench; what it may not import (internal/ never imports engine
// or app, TestImportDirection) is passed in from here: the binary this
// package's TestMain built, engine/units' size parser, engine/storage's
// .torrent maker, this package's Xvfb helpers, and the in-process rows
// of engine/enginebench.

// benchOptions is what every bench here passes to internal/bench.
func benchOptions() bench.Options {
	return bench.Options{
		Shoal:     shoalBin,
		ParseSize: parseRate,
		Swarms:    &enginebench.SwarmRows{},
		Torrent:   idleTorrent,
		X: func(t *testing.T) (string, []string) {
			display := startXvfb(t)
			return display, xdgEnv(t, display)
		},
		FyneFloor: "./testdata/fynefloor",
	}
}

// TestBenchTable is `make bench`'s main table (bench.Table):
// SHOAL_BENCH=1 at full size, SHOAL_BENCH=smoke once on small files.
func TestBenchTable(t *testing.T) { bench.Table(t, benchOptions()) }

// TestBenchIdleLibrary is `make bench`'s idle-library table
// (bench.IdleLibrary).
func TestBenchIdleLibrary(t *testing.T) { bench.IdleLibrary(t, benchOptions()) }

// TestBenchTransmissionSeeds puts Transmission → Shoal beside
// Transmission → aria2 (bench.TransmissionSeeds; SHOAL_BENCH=transmission).
func TestBenchTransmissionSeeds(t *testing.T) { bench.TransmissionSeeds(t, benchOptions()) }

// TestBenchHolePunchNATs is the hole-punch table (bench.HolePunch) over
// the lab's kinds of NAT, each trial a labPunchTrial as in
// TestLabHolePunch. The kinds (leecher ↔ seeder):
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
//
// A trial succeeds when the leecher gets the 3 MiB file byte for byte
// through a punched connection within 50 s.
func TestBenchHolePunchNATs(t *testing.T) {
	kind := func(name string, tc labPunchCase) bench.PunchKind {
		return bench.PunchKind{Name: name, Trial: func(t *testing.T, mode, trial string) bench.PunchTrial {
			tc.utp, tc.name = mode, trial
			r := labPunchTrial(t, tc)
			return bench.PunchTrial{Took: r.took, Line: r.line, Err: r.err}
		}}
	}
	bench.HolePunch(t, []bench.PunchKind{
		kind("strict, silent (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2"}),
		kind("strict, answering (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2", answering: true}),
		kind("strict, answering, a hop apart (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2", answering: true, transit: true}),
		kind("strict, refusing (h2/r2 ↔ h5/r5)", labPunchCase{leechHost: "h2", reject: true}),
		kind("mapped ↔ strict answering (h1/r1 UPnP ↔ h5/r5)", labPunchCase{leechHost: "h1", answering: true}),
		kind("strict silent ↔ double NAT (h2/r2 ↔ h3/r3/r4)", labPunchCase{leechHost: "h2", seeder: "h3"}),
	})
}

// TestBenchDHTSim is the DHT index simulation of `make bench`
// (SHOAL_BENCH=1): a loopback DHT of 200 Shoal DHT nodes and 6 Shoal
// supernodes indexing it (plus aria2 and python3-libtorrent joining as
// seeders, a Shoal seeder and a searching leaf), 2,000 torrents announced
// and 100 of them seeded for real (30 by aria2, 30 by libtorrent, 40 by
// Shoal). It prints the share of seeded torrents indexed within 10
// minutes, recall and first-hit times of searches over the indexed names,
// each supernode's crawl rate against its budget (the default 50/s), how
// the keyspace split shares the crawled nodes out, and how many entries
// lack verified metadata (must be 0). Sizes: DHTSIM_NODES, DHTSIM_SUPERNODES,
// DHTSIM_TORRENTS, DHTSIM_SEEDED. Nothing here asserts a speed; the run
// fails only when an entry is indexed without verified metadata. It is
// engines in this process (engine/enginebench), so it stays here.
func TestBenchDHTSim(t *testing.T) {
	if os.Getenv(bench.ModeEnv) == "" {
		t.Skip("set SHOAL_BENCH=1 (make bench)")
	}
	seeded := bench.EnvInt("DHTSIM_SEEDED", 100)
	cfg := enginebench.DHTSimConfig{
		DHTNodes: bench.EnvInt("DHTSIM_NODES", 200), Supernodes: bench.EnvInt("DHTSIM_SUPERNODES", 6),
		Torrents: bench.EnvInt("DHTSIM_TORRENTS", 2000), Seeded: seeded,
		Aria2: seeded * 3 / 10, Libtorrent: seeded * 3 / 10, CrawlRate: 50,
		Window: 10 * time.Minute, Logf: t.Logf,
	}
	t.Logf("load average at start: %s", bench.LoadAvg())
	sim, err := enginebench.StartDHTSim(t, cfg)
	needPeer(t, err)
	rep, err := sim.Measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load average at end: %s\n%s", bench.LoadAvg(), rep)
	if rep.Unverified > 0 {
		t.Errorf("%d entries indexed without verified metadata", rep.Unverified)
	}
}

// idleTorrent makes a v1 .torrent of a single file, for Transmission, and
// its infohash.
func idleTorrent(path string) ([]byte, [20]byte, error) {
	// v1: Transmission 3.00 refuses hybrids (Shoal's items are hybrids, its
	// default; the bench compares the cost of keeping a library, not the
	// torrents' bytes).
	info, err := storage.CreateInfo(context.Background(), path, storage.CreateOptions{Format: storage.V1Only}, nil)
	if err != nil {
		return nil, [20]byte{}, err
	}
	ib, err := bencode.Marshal(info)
	if err != nil {
		return nil, [20]byte{}, err
	}
	mi, err := bencode.Marshal(metainfo.MetaInfo{InfoBytes: ib})
	return mi, sha1.Sum(ib), err
}

// TestBenchReadsDaemonLines checks that internal/bench reads the daemon's
// ready and runtime lines as the daemon writes them: it has its own
// copies of the fields it needs (DaemonReady, DaemonRuntime), since it
// may not import app.
func TestBenchReadsDaemonLines(t *testing.T) {
	ready := readyLine{PeerAddr: "127.0.0.1:6881", Shared: map[string]string{"/a/b.bin": "00ff"}}
	var br bench.DaemonReady
	roundTrip(t, ready, &br)
	if br.PeerAddr != ready.PeerAddr || !maps.Equal(br.Shared, ready.Shared) {
		t.Errorf("ready line %+v read by internal/bench as %+v", ready, br)
	}
	rt := runtimeLine{Goroutines: 17, PiecesHashed: 3}
	var brt bench.DaemonRuntime
	roundTrip(t, rt, &brt)
	if brt.Goroutines != rt.Goroutines || brt.PiecesHashed != rt.PiecesHashed {
		t.Errorf("runtime line %+v read by internal/bench as %+v", rt, brt)
	}
}

// roundTrip marshals v as the daemon does and unmarshals it into into.
func roundTrip(t *testing.T, v, into any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err != nil {
		t.Fatal(err)
	}
}
