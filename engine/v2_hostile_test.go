package engine_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/wire"
)

// liarMode is what a hostile v2 test peer does wrong.
type liarMode int

const (
	// badBlock: it sends a wrong second block of each piece it is asked
	// for, rejects the other blocks (so honest peers send them) and
	// rejects hash requests.
	badBlock liarMode = iota
	// badHashes: it answers hash requests with hashes of the right count
	// that prove nothing, and rejects block requests.
	badHashes
)

// v2Liar is a hostile BEP 52 peer on loopback: it has every piece and
// the info dictionary (BEP 9), and lies as its mode says.
type v2Liar struct {
	ln       net.Listener
	ih       [20]byte
	info     []byte
	mode     liarMode
	pieceLen int
	id       [20]byte
	mu       sync.Mutex
	wrong    int // wrong blocks or hashes messages sent
}

func startV2Liar(t *testing.T, mi *metainfo.MetaInfo, mode liarMode) *v2Liar {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v2 := sha256.Sum256(mi.InfoBytes)
	l := &v2Liar{ln: ln, ih: [20]byte(v2[:20]), info: mi.InfoBytes, mode: mode}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	l.pieceLen = int(info.PieceLength)
	copy(l.id[:], "-XX0001-")
	rand.Read(l.id[8:])
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go l.serve(c)
		}
	}()
	return l
}

func (l *v2Liar) addr() string { return l.ln.Addr().String() }

// key is the ban key Shoal gives the liar on loopback.
func (l *v2Liar) key() engine.PeerKey { return engine.PeerKeyFromID(l.id) }

func (l *v2Liar) wrongSent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wrong
}

func (l *v2Liar) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	in, err := wire.ReadHandshake(br)
	if err != nil || in.InfoHash != l.ih {
		return // an encrypted attempt, or another torrent
	}
	out := wire.Handshake{Reserved: wire.WithV2(wire.DefaultReserved()), InfoHash: l.ih, PeerID: l.id}
	if wire.WriteHandshake(c, out) != nil {
		return
	}
	hs, _ := wire.ExtHandshake{M: map[string]int{"ut_metadata": 3}, MetadataSize: len(l.info)}.Marshal()
	var w []byte
	w = wire.AppendMessage(w, wire.Message{ID: wire.Extended, ExtendedID: 0, Payload: hs})
	w = wire.AppendMessage(w, wire.Message{ID: wire.HaveAll})
	w = wire.AppendMessage(w, wire.Message{ID: wire.Unchoke})
	if _, err := c.Write(w); err != nil {
		return
	}
	dec := wire.NewDecoder(br, 1<<20)
	theirMeta := 0
	for {
		m, err := dec.Next()
		if err != nil {
			return
		}
		var reply []byte
		switch {
		case m.KeepAlive:
		case m.ID == wire.Extended && m.ExtendedID == 0:
			if h, err := wire.ParseExtHandshake(m.Payload); err == nil {
				theirMeta = h.M["ut_metadata"]
			}
		case m.ID == wire.Extended && m.ExtendedID == 3:
			reply = l.metadata(m.Payload, theirMeta)
		case m.ID == wire.Request:
			reply = l.block(m)
		case m.ID == wire.HashRequest:
			reply = l.hashes(m)
		}
		if reply != nil {
			if _, err := c.Write(reply); err != nil {
				return
			}
		}
	}
}

func (l *v2Liar) metadata(payload []byte, theirID int) []byte {
	req, err := wire.ParseMetadataMsg(payload)
	if err != nil || req.Type != wire.MetadataRequest || theirID <= 0 {
		return nil
	}
	start := req.Piece * wire.MetadataPieceSize
	if start >= len(l.info) {
		return nil
	}
	end := min(start+wire.MetadataPieceSize, len(l.info))
	b, _ := wire.MetadataMsg{Type: wire.MetadataData, Piece: req.Piece, TotalSize: len(l.info), Data: l.info[start:end]}.Marshal()
	return wire.AppendMessage(nil, wire.Message{ID: wire.Extended, ExtendedID: uint8(theirID), Payload: b})
}

func (l *v2Liar) block(m wire.Message) []byte {
	if l.mode != badBlock || m.Begin != 16<<10 {
		return wire.AppendMessage(nil, wire.Message{ID: wire.Reject, Index: m.Index, Begin: m.Begin, Length: m.Length})
	}
	l.mu.Lock()
	l.wrong++
	l.mu.Unlock()
	junk := make([]byte, m.Length)
	rand.Read(junk)
	return wire.AppendMessage(nil, wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin, Payload: junk})
}

func (l *v2Liar) hashes(m wire.Message) []byte {
	h, err := wire.ParseHashMsg(m.ID, m.Payload)
	if err != nil {
		return nil
	}
	if l.mode != badHashes {
		return wire.AppendMessage(nil, h.Message(wire.HashReject))
	}
	l.mu.Lock()
	l.wrong++
	l.mu.Unlock()
	// As many hashes as a true answer has: the base layer, then one
	// uncle per proof layer above the chunk's own root.
	n := int(h.Length) + max(0, int(h.ProofLayers)-log2(h.Length)+1)
	h.Hashes = make([][32]byte, n)
	for i := range h.Hashes {
		rand.Read(h.Hashes[i][:])
	}
	return wire.AppendMessage(nil, h.Message(wire.Hashes))
}

func log2(n uint32) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// v2Seed has a Shoal node seed a v2-only torrent of c with 64 KiB pieces.
func v2Seed(t *testing.T, c content, uploadLimit int64) (*enginetest.Node, *metainfo.MetaInfo, string, engine.InfoHash) {
	t.Helper()
	return v2SeedPieces(t, c, uploadLimit, 64<<10)
}

// v2SeedPieces is v2Seed with pieces of pieceLen bytes.
func v2SeedPieces(t *testing.T, c content, uploadLimit, pieceLen int64) (*enginetest.Node, *metainfo.MetaInfo, string, engine.InfoHash) {
	t.Helper()
	mi, err := storage.Create(context.Background(), c.root, storage.CreateOptions{PieceLength: pieceLen, Format: storage.V2Only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	torrent := filepath.Join(t.TempDir(), "v2.torrent")
	enginetest.WriteTorrent(t, mi, torrent)
	cfg := enginetest.Config(t)
	cfg.UploadLimit = uploadLimit
	seed := enginetest.Start(t, cfg)
	ih, err := seed.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: filepath.Dir(c.root)})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, seed, ih, 60*time.Second)
	return seed, mi, torrent, ih
}

// waitBanned waits until the transfer lists key as banned with a reason
// containing why, and returns the reason.
func waitBanned(t *testing.T, n *enginetest.Node, ih engine.InfoHash, key engine.PeerKey, why string) string {
	t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		tr, _ := enginetest.Transfer(n.Snapshot(), ih)
		for _, b := range tr.Banned {
			if b.Key == key && strings.Contains(b.Reason, why) {
				return b.Reason
			}
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("peer %s not banned for %q; bans: %+v", key, why, tr.Banned)
		}
	}
}

// TestV2BadBlockBlamed has a Shoal leecher download a v2-only torrent
// from an honest Shoal seeder and a liar that sends a wrong second block
// of each piece it is asked for and rejects the others, so that failed
// pieces hold blocks from both. The leaf hashes of a failed piece tell
// exactly which block was bad: the liar is banned with that reason, the
// seeder is not, and the copy is byte for byte the original.
func TestV2BadBlockBlamed(t *testing.T) {
	c := singleFile(t, "movie.bin", 6<<20+777)
	// The seeder is held to 2 MB/s so that the liar gets requests too;
	// the leecher speaks plain BitTorrent, as the liar does.
	seed, mi, torrent, ih := v2Seed(t, c, 2<<20)
	liar := startV2Liar(t, mi, badBlock)
	cfg := enginetest.Config(t)
	cfg.Encryption = "off"
	leech := enginetest.Start(t, cfg)
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: dl,
		Peers: []string{liar.addr(), seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	why := waitBanned(t, leech, ih, liar.key(), "failed its SHA-256 leaf hash")
	t.Logf("liar banned after %d wrong blocks: %s", liar.wrongSent(), why)
	waitAll(t, leech, ih, 60*time.Second)
	c.checkCopy(t, dl)
	tr, _ := enginetest.Transfer(leech.Snapshot(), ih)
	for _, b := range tr.Banned {
		if b.Key != liar.key() {
			t.Errorf("an honest peer was banned: %+v", b)
		}
	}
}

// TestV2BadHashesBanned has a Shoal leecher open a btmh magnet link
// whose only peer serves the info dictionary and then answers the piece
// layer requests with hashes that do not prove to the pieces root. It is
// banned with that reason and no piece is counted as had; then an honest
// seeder is added and the download completes, byte for byte.
func TestV2BadHashesBanned(t *testing.T) {
	c := singleFile(t, "movie.bin", 3<<20+777)
	seed, mi, _, ih := v2Seed(t, c, 0)
	liar := startV2Liar(t, mi, badHashes)
	v2 := sha256.Sum256(mi.InfoBytes)
	magnet := "magnet:?xt=urn:btmh:1220" + hex.EncodeToString(v2[:])
	leech := enginetest.Start(t, enginetest.Config(t))
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: magnet, Dir: dl, Peers: []string{liar.addr()}}); err != nil {
		t.Fatal(err)
	}
	why := waitBanned(t, leech, ih, liar.key(), "piece-layer hashes")
	t.Logf("liar banned: %s", why)
	tr, _ := enginetest.Transfer(leech.Snapshot(), ih)
	if tr.Have != 0 {
		t.Fatalf("%d bytes counted as had from a peer whose hashes were false", tr.Have)
	}
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: magnet, Dir: dl, Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitAll(t, leech, ih, 60*time.Second)
	c.checkCopy(t, dl)
}

// TestV2BadBlockRefetchedAlone: with 1 MiB pieces, a liar sends a wrong
// second block of each piece it is asked for and an honest seeder sends
// the rest. Each failed piece's leaf hashes name the one bad 16 KiB
// block: only that block is fetched again and the piece's good blocks
// are kept, so the seeder uploads the file about once (fetching failed
// pieces whole costs it 1 MiB less 16 KiB more per failed piece). The
// liar alone is banned, with the block named, and the copy is exact.
func TestV2BadBlockRefetchedAlone(t *testing.T) {
	const pieceLen = 1 << 20
	c := singleFile(t, "movie.bin", 4<<20+777)
	seed, mi, torrent, ih := v2SeedPieces(t, c, 2<<20, pieceLen)
	liar := startV2Liar(t, mi, badBlock)
	cfg := enginetest.Config(t)
	cfg.Encryption = "off"
	leech := enginetest.Start(t, cfg)
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: torrent, Dir: dl,
		Peers: []string{liar.addr(), seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	why := waitBanned(t, leech, ih, liar.key(), "failed its SHA-256 leaf hash")
	waitAll(t, leech, ih, 60*time.Second)
	c.checkCopy(t, dl)
	tr, _ := enginetest.Transfer(leech.Snapshot(), ih)
	for _, b := range tr.Banned {
		if b.Key != liar.key() {
			t.Errorf("an honest peer was banned: %+v", b)
		}
	}
	up := settledUpload(t, seed, ih, c.size)
	tr, _ = enginetest.Transfer(leech.Snapshot(), ih)
	t.Logf("liar sent %d wrong blocks, banned: %s; seeder uploaded %d bytes for a %d-byte file (%d extra); leecher received %d",
		liar.wrongSent(), why, up, c.size, up-c.size, tr.Downloaded)
	// Slack for blocks both peers were asked for at the end (endgame):
	// far below the 1 MiB a piece fetched whole again costs.
	if extra := up - c.size; extra > 256<<10 {
		t.Errorf("the seeder uploaded %d bytes more than the file: good blocks of failed pieces were fetched again", extra)
	}
}

// settledUpload is what n reports uploaded for ih once it has reached at
// least min and stopped growing (traffic is counted once a second).
func settledUpload(t *testing.T, n *enginetest.Node, ih engine.InfoHash, min int64) int64 {
	t.Helper()
	last := int64(-1)
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(1500 * time.Millisecond) {
		tr, _ := enginetest.Transfer(n.Snapshot(), ih)
		if tr.Uploaded >= min && tr.Uploaded == last {
			return last
		}
		last = tr.Uploaded
	}
	t.Fatalf("upload count did not settle at %d or more: %d", min, last)
	return 0
}
