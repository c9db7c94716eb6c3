package engine_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
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
// all-zero piece), a request with proof layers gets the uncle hashes
// that prove it to the pieces root, and requests Shoal cannot answer (an
// unknown root, another layer, a range past the layer, proof layers up to
// the root) get a hash reject.
// A malformed hash message closes the connection.
func TestV2HashRequests(t *testing.T) {
	c := folderOfFiles(t, "album")
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 64 << 10, Format: storage.V2Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "v2.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
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
	// libtorrent's way: 4 hashes, proof layers up to just below the root
	// (64 padded hashes: 6 layers), so 6-2 = 4 uncles.
	proved := wire.HashMsg{Root: root, BaseLayer: base, Index: 8, Length: 4, ProofLayers: 5}
	send(t, conn, proved.Message(wire.HashRequest))
	got = nextHashMsg(t, conn, dec)
	h, err = wire.ParseHashMsg(got.ID, got.Payload)
	if err != nil || got.ID != wire.Hashes || len(h.Hashes) != 8 {
		t.Fatalf("hashes with proof: %v %v, %d hashes", got.ID, err, len(h.Hashes))
	}
	if !storage.CheckLayerChunk(root, int(n), h.Hashes, 8, 4, 5) {
		t.Fatal("the uncle hashes do not prove the chunk to the pieces root")
	}
	// The leaf hashes of piece 3 (blocks 12-15 of the file) hash up to
	// the piece layer's entry 3: what per-block blame asks for.
	leaves := wire.HashMsg{Root: root, BaseLayer: 0, Index: 12, Length: 4, ProofLayers: 1}
	send(t, conn, leaves.Message(wire.HashRequest))
	got = nextHashMsg(t, conn, dec)
	h, err = wire.ParseHashMsg(got.ID, got.Payload)
	if err != nil || got.ID != wire.Hashes || len(h.Hashes) != 4 {
		t.Fatalf("leaf hashes: %v %v, %d hashes", got.ID, err, len(h.Hashes))
	}
	if storage.MerkleRoot(h.Hashes, [32]byte{}) != [32]byte([]byte(layer[3*32:4*32])) {
		t.Fatal("the leaf hashes of piece 3 do not hash to its piece-layer entry")
	}
	for name, bad := range map[string]wire.HashMsg{
		"unknown root":   {Root: [32]byte{1}, BaseLayer: base, Length: 2},
		"layer 1":        {Root: root, BaseLayer: 1, Length: 2},
		"past the layer": {Root: root, BaseLayer: base, Index: 64, Length: 64},
		"proof to root":  {Root: root, BaseLayer: base, Length: 2, ProofLayers: 6},
		"leaf uncles":    {Root: root, BaseLayer: 0, Length: 2, ProofLayers: 3},
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

// TestShoalV2MagnetToShoal has one Shoal node seed a v2-only torrent
// whose big file has 640 pieces (piece layer asked in two chunks of 512,
// each with the uncle hashes that prove it to the pieces root) and
// another download it from a btmh magnet link alone; every byte is
// compared and the fetched layers are kept.
func TestShoalV2MagnetToShoal(t *testing.T) {
	c := singleFile(t, "big.bin", 640*(32<<10)-999)
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: 32 << 10, Format: storage.V2Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "v2.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
	seed := enginetest.Start(t, enginetest.Config(t))
	ih, err := seed.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, seed, ih, 60*time.Second)
	v2 := sha256.Sum256(mi.InfoBytes)
	cfg := enginetest.Config(t)
	leech := enginetest.Start(t, cfg)
	dl := t.TempDir()
	got, err := leech.Download(context.Background(), engine.DownloadRequest{
		Source: "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2[:]), Dir: dl, Peers: []string{seed.PeerAddr()}})
	if err != nil || got != ih {
		t.Fatalf("download by btmh magnet: %v (infohash %s, want %s)", err, got, ih)
	}
	waitAll(t, leech, ih, 60*time.Second)
	c.checkCopy(t, dl)
	waitLayersSaved(t, cfg.DataDir, ih)
}
