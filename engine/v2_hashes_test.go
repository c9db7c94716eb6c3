package engine_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/wire"
)

// TestV2HashRequests talks BEP 52 to a Shoal node seeding a v2-only
// torrent over a raw connection: the handshake announces v2, a hash
// request for a file's piece layer is answered with exactly the hashes of
// the .torrent's piece layers (padded past the end with the hash of an
// all-zero piece), and requests Shoal cannot answer (an unknown root,
// another layer, a range past the layer, proof layers) get a hash reject.
// A malformed hash message closes the connection.
func TestV2HashRequests(t *testing.T) {
	c := folderOfFiles(t, "album")
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 64 << 10, Format: storage.V2Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "v2.torrent")
	writeMetainfo(t, mi, torrent)
	node := enginetest.Start(t, enginetest.Config(t))
	ih, err := node.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, node, ih, 60*time.Second)
	conn, br, reserved := dialV2(t, node.PeerAddr(), ih)
	defer conn.Close()
	if !(wire.Handshake{Reserved: reserved}).SupportsV2() {
		t.Fatalf("handshake reserved %x does not announce v2", reserved)
	}
	var root [32]byte
	var layer string
	for r, l := range mi.PieceLayers {
		if len(l)/32 > len(layer)/32 {
			copy(root[:], r)
			layer = l
		}
	}
	n := uint32(len(layer) / 32) // 49 pieces for the 3 MiB file: padded to 64
	const base = 2               // 64 KiB pieces = 4 leaves: layer 2
	good := wire.HashMsg{Root: root, BaseLayer: base, Index: 32, Length: 32}
	send(t, conn, good.Message(wire.HashRequest))
	dec := wire.NewDecoder(br, 1<<20)
	got := nextHashMsg(t, conn, dec)
	if got.ID != wire.Hashes {
		t.Fatalf("answer %v, want hashes", got.ID)
	}
	h, err := wire.ParseHashMsg(got.ID, got.Payload)
	if err != nil || len(h.Hashes) != 32 {
		t.Fatalf("hashes: %v, %d hashes", err, len(h.Hashes))
	}
	for i, x := range h.Hashes {
		j := 32 + i
		if uint32(j) < n && string(x[:]) != layer[32*j:32*j+32] {
			t.Fatalf("hash %d differs from the piece layer", j)
		}
		if uint32(j) >= n && x == ([32]byte{}) {
			t.Fatalf("hash %d past the end is not the pad hash", j)
		}
	}
	for name, bad := range map[string]wire.HashMsg{
		"unknown root":   {Root: [32]byte{1}, BaseLayer: base, Length: 2},
		"leaf layer":     {Root: root, BaseLayer: 0, Length: 2},
		"past the layer": {Root: root, BaseLayer: base, Index: 64, Length: 64},
		"proof layers":   {Root: root, BaseLayer: base, Length: 2, ProofLayers: 3},
	} {
		send(t, conn, bad.Message(wire.HashRequest))
		if m := nextHashMsg(t, conn, dec); m.ID != wire.HashReject {
			t.Errorf("%s: answer %v, want hash reject", name, m.ID)
		}
	}
	send(t, conn, wire.Message{ID: wire.HashRequest, Payload: []byte("short")})
	if !hungUp(conn, br, 5*time.Second) {
		t.Fatal("a malformed hash request did not close the connection")
	}
}

func dialV2(t *testing.T, addr string, ih engine.InfoHash) (net.Conn, *bufio.Reader, [8]byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := wire.Handshake{Reserved: wire.WithV2(wire.DefaultReserved()), InfoHash: ih}
	rand.Read(h.PeerID[:])
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WriteHandshake(c, h); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	got, err := wire.ReadHandshake(br)
	if err != nil || got.InfoHash != ih {
		t.Fatalf("handshake: %v (infohash %x)", err, got.InfoHash)
	}
	return c, br, got.Reserved
}

func send(t *testing.T, c net.Conn, m wire.Message) {
	t.Helper()
	if _, err := c.Write(wire.AppendMessage(nil, m)); err != nil {
		t.Fatal(err)
	}
}

// nextHashMsg skips other messages (bitfield, extension handshake) until a
// BEP 52 one arrives.
func nextHashMsg(t *testing.T, c net.Conn, dec *wire.Decoder) wire.Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		m, err := dec.Next()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.ID >= wire.HashRequest && m.ID <= wire.HashReject && !m.KeepAlive {
			return m
		}
	}
}
