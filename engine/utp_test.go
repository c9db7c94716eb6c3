package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/transport"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// utpNode starts a loopback node with a uTP mode ("on", "off", "only").
func utpNode(t *testing.T, utp string) *enginetest.Node {
	cfg := enginetest.Config(t)
	cfg.UTP = engine.UTPMode(utp)
	return enginetest.Start(t, cfg)
}

// TestUTPShoalToShoal: a leecher that dials over uTP only gets a file from
// a seeder (uTP on), on the port the DHT shares; both report a uTP link.
func TestUTPShoalToShoal(t *testing.T) {
	t.Parallel()
	c := singleFile(t, "Slow Lane.bin", 4<<20+99)
	seed := utpNode(t, "on")
	ih, err := seed.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	leech := utpNode(t, "only")
	seedLinks, leechLinks := watchLinks(t, seed, ih), watchLinks(t, leech, ih)
	dir := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{seed.PeerAddr()}, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	waitShoalComplete(t, leech, ih, c.size, shoalTimeout)
	c.checkCopy(t, dir)
	leechLinks.check(t, "utp/obfuscated")
	seedLinks.check(t, "utp/obfuscated", "tcp/obfuscated") // it may dial the leecher back over TCP
}

// TestInteropUTPQbittorrent: qBittorrent set to uTP only (it resets
// incoming TCP) seeds Shoal, which races TCP and uTP and keeps uTP, and
// leeches from Shoal, dialing it over uTP on Shoal's shared UDP port.
func TestInteropUTPQbittorrent(t *testing.T) {
	t.Parallel()
	needBins(t, "qbittorrent-nox")
	opts := peerclients.QbitOptions{Protocol: "UTP"}
	t.Run("qBittorrent seeds Shoal over uTP", func(t *testing.T) {
		t.Parallel()
		c := oneFile.make(t)
		torrent, ih := writeTorrent(t, c)
		q, err := peerclients.StartQbittorrentWith(t, torrent, filepath.Dir(c.root), true, opts)
		need(t, err)
		need(t, peerclients.PollFor(30*time.Second, "qbittorrent seeds", q.Done))
		n := utpNode(t, "on")
		shoalFetchesIn(t, n, c, ih, torrent, q.PeerAddr).check(t, "utp/obfuscated", "utp/rc4", "utp/none")
	})
	t.Run("Shoal seeds qBittorrent over uTP, qBittorrent dialing", func(t *testing.T) {
		t.Parallel()
		c := oneFile.make(t)
		n := utpNode(t, "on")
		ih, torrent := shoalSharesIn(t, n, c)
		w := watchLinks(t, n, ih)
		dir := t.TempDir()
		q, err := peerclients.StartQbittorrentWith(t, torrent, dir, false, opts)
		need(t, err)
		need(t, peerclients.PollFor(30*time.Second, "qbittorrent loads the torrent", q.Loaded))
		need(t, q.AddPeers(ih, n.PeerAddr()))
		need(t, peerclients.PollFor(shoalTimeout, "qbittorrent completes from Shoal", q.Done))
		q.Proc.Stop(15 * time.Second)
		c.checkCopy(t, dir)
		w.check(t, "utp/obfuscated", "utp/rc4", "utp/none")
	})
}

// TestUTPSynFloodIsBounded: 1,000 uTP SYNs from 1,000 source ports, none
// followed by a byte. The node runs at most its 64 uTP handshake slots
// (the uTP library keeps at most 50 SYNs waiting and resets the rest), so
// the goroutines and heap the flood costs stay bounded, and they are given
// back after the handshake deadline (20 s). A real peer still gets in over
// TCP meanwhile: TCP has slots of its own.
func TestUTPSynFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 20 s handshake deadline")
	}
	n := utpNode(t, "on")
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	target, err := net.ResolveUDPAddr("udp", n.PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	const syns = 1000
	for i := range syns {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		syn := make([]byte, 20)
		syn[0] = 4<<4 | 1 // ST_SYN, version 1
		binary.BigEndian.PutUint16(syn[2:], uint16(i))
		binary.BigEndian.PutUint32(syn[12:], 1<<20)
		binary.BigEndian.PutUint16(syn[16:], 1)
		c.WriteTo(syn, target)
		defer c.Close()
	}
	time.Sleep(2 * time.Second)
	runtime.GC()
	runtime.ReadMemStats(&during)
	g1 := runtime.NumGoroutine()
	heap := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d SYNs from %d ports: goroutines %d → %d (+%d); heap in use %+d KiB", syns, syns, g0, g1, g1-g0, heap>>10)
	if g1-g0 > 64*4+50 {
		t.Errorf("%d more goroutines, want at most %d", g1-g0, 64*4+50)
	}
	if heap > 64<<20 {
		t.Errorf("heap grew by %d KiB, want under 64 MiB", heap>>10)
	}
	// A real peer still gets through over TCP.
	c := singleFile(t, "Through The Flood.bin", 1<<20)
	ih, err := n.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	leech := utpNode(t, "off")
	dir := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{n.PeerAddr()}, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	waitShoalComplete(t, leech, ih, c.size, 10*time.Second)
	// The leecher and its connection are not part of the flood: stop it
	// so that the count below is the flood's alone (its goroutines kept
	// the count above g0+40 for 40 s on a loaded CI machine).
	leech.Stop()
	start := time.Now()
	enginetest.WaitFor(t, "the flood's goroutines to end", 60*time.Second, func() bool {
		return runtime.NumGoroutine() <= g0+40
	})
	t.Logf("goroutines back to %d within %v more", runtime.NumGoroutine(), time.Since(start).Round(100*time.Millisecond))
}

// TestUTPOverIPv6DualStack: on a dual-stack node (host-less listen
// address), uTP also runs on the IPv6 UDP socket that the BEP 32 DHT
// uses. A dual-stack leecher set to uTP only dials the seeder's IPv6
// address and gets the file over uTP on [::1].
func TestUTPOverIPv6DualStack(t *testing.T) {
	t.Parallel()
	c := singleFile(t, "Deep Channel.bin", 2<<20+77)
	seed, _ := dualStack(t)
	ih, err := seed.ShareSync(context.Background(), c.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := enginetest.Config(t)
	cfg.Listen, cfg.UTP = ":0", "only"
	leech := enginetest.Start(t, cfg)
	leechLinks := watchLinks(t, leech, ih)
	peer6, _ := seed.Addrs6()
	dir := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: ih.String(), Peers: []string{peer6}, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	waitShoalComplete(t, leech, ih, c.size, shoalTimeout)
	c.checkCopy(t, dir)
	leechLinks.check(t, "utp/obfuscated")
	tr, _ := enginetest.Transfer(leech.Snapshot(), ih)
	for _, p := range tr.PeerDetails {
		if p.Downloaded > 0 && !strings.HasPrefix(p.Addr, "[::1]:") {
			t.Errorf("downloaded from %q, want the seeder's IPv6 address", p.Addr)
		}
	}
}

// TestUTPStalledMSEPreamblesAreBounded: 200 uTP connections, from 200
// source ports, each complete the uTP handshake, send an MSE public key's
// worth of random bytes and stall. The node runs at most its 64 uTP
// handshake slots (the uTP library keeps at most 50 SYNs waiting and
// resets the rest), so the goroutines and heap they cost stay bounded,
// and they are given back after the handshake deadline (20 s).
func TestUTPStalledMSEPreamblesAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 20 s handshake deadline")
	}
	n := utpNode(t, "on")
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	target, err := net.ResolveUDPAddr("udp", n.PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	const conns = 200
	socks := make([]*net.UDPConn, conns)
	for i := range socks {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		socks[i] = c
		c.WriteTo(utpPacket(4, uint16(i*2), 1, 0, nil), target) // ST_SYN on conn_id i*2
	}
	// Each accepted SYN is answered by an ST_STATE; then send the
	// preamble as ST_DATA on the acceptor's receive id and stall.
	stalled := 0
	deadline := time.Now().Add(3 * time.Second)
	for i, c := range socks {
		c.SetReadDeadline(deadline)
		buf := make([]byte, 2048)
		nr, _, err := c.ReadFrom(buf)
		if err != nil || nr < 20 || buf[0]>>4 != 2 {
			continue // reset or never answered: the SYN was not accepted
		}
		pre := make([]byte, 96+100)
		rand.Read(pre)
		c.WriteTo(utpPacket(0, uint16(i*2+1), 2, binary.BigEndian.Uint16(buf[16:]), pre), target)
		stalled++
	}
	time.Sleep(time.Second)
	runtime.GC()
	runtime.ReadMemStats(&during)
	g1 := runtime.NumGoroutine()
	heap := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d uTP connections, %d accepted and stalled after a preamble: goroutines %d → %d (+%d); heap in use %+d KiB",
		conns, stalled, g0, g1, g1-g0, heap>>10)
	if stalled == 0 {
		t.Fatal("no uTP handshake was accepted: the test measured nothing")
	}
	if g1-g0 > 64*4+50 {
		t.Errorf("%d more goroutines, want at most %d", g1-g0, 64*4+50)
	}
	if heap > 64<<20 {
		t.Errorf("heap grew by %d KiB, want under 64 MiB", heap>>10)
	}
	start := time.Now()
	enginetest.WaitFor(t, "the stalled handshakes' goroutines to end", 60*time.Second, func() bool {
		return runtime.NumGoroutine() <= g0+20
	})
	t.Logf("goroutines back to %d within %v more", runtime.NumGoroutine(), time.Since(start).Round(100*time.Millisecond))
}

// utpPacket is a uTP packet of type typ (BEP 29's header, no extension).
func utpPacket(typ byte, connID, seq, ack uint16, payload []byte) []byte {
	p := make([]byte, 20, 20+len(payload))
	p[0] = typ<<4 | 1
	binary.BigEndian.PutUint16(p[2:], connID)
	binary.BigEndian.PutUint32(p[12:], 1<<20)
	binary.BigEndian.PutUint16(p[16:], seq)
	binary.BigEndian.PutUint16(p[18:], ack)
	return append(p, payload...)
}

// TestUTPBufferLogLine: the engine says once what socket buffers the
// kernel granted its uTP socket, as the transport reports them for a
// socket of its own: at debug level when the ask was met, and at info
// level, with the sysctls to raise, when the kernel capped it.
func TestUTPBufferLogLine(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := transport.NewUTP(pc)
	if err != nil {
		t.Fatal(err)
	}
	b := u.Buffers()
	u.CloseNow()
	want := fmt.Sprintf(`level=DEBUG msg="uTP socket buffers" recv=%d send=%d`, b.Recv, b.Send)
	if b.Short() {
		want = fmt.Sprintf(`level=INFO msg="uTP socket buffers smaller than asked; raise the sysctls net.core.rmem_max and wmem_max to give uTP more" recv=%d send=%d asked_recv=%d asked_send=%d`,
			b.Recv, b.Send, transport.UDPRecvBuffer, transport.UDPSendBuffer)
	}
	cfg := enginetest.Config(t)
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	enginetest.Start(t, cfg)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "uTP socket buffers") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "uTP socket buffers") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Fatalf("buffer log lines %q, want one with %q", lines, want)
	}
	t.Log(lines[0])
}
