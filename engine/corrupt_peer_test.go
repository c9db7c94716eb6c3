package engine_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/wire"
)

// peerCase is a byte stream a corrupt peer sends after a valid handshake.
type peerCase struct {
	name   string
	stream []byte
	// closed: the engine must hang up; otherwise it must keep the
	// connection (the message is ignored or answered).
	closed bool
}

func msg(m wire.Message) []byte { return wire.AppendMessage(nil, m) }

func ext(id uint8, payload any) []byte {
	b, ok := payload.([]byte)
	if !ok {
		var err error
		if b, err = bencode.Marshal(payload); err != nil {
			panic(err)
		}
	}
	return wire.AppendExtended(nil, id, b)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// corruptPeerCases: the ut_metadata extended ID the engine listens on is 1
// (its extension handshake says so); metadata messages from us are sent
// to it.
func corruptPeerCases() []peerCase {
	deep := strings.Repeat("l", 10_000) + strings.Repeat("e", 10_000)
	return []peerCase{
		{"length prefix 4 GiB", []byte{0xff, 0xff, 0xff, 0xff, 7}, true},
		{"length prefix 2 MiB", binary.BigEndian.AppendUint32(nil, 2<<20), true},
		{"bitfield of wrong length", msg(wire.Message{ID: wire.BitfieldMsg, Payload: make([]byte, 100)}), true},
		{"bitfield with spare bits set", msg(wire.Message{ID: wire.BitfieldMsg, Payload: []byte{0xff, 0xff}}), true},
		{"have out of range", wire.AppendHave(nil, 1<<30), true},
		{"have max uint32", wire.AppendHave(nil, 1<<32-1), true},
		{"choke with payload", []byte{0, 0, 0, 3, 0, 1, 2}, true},
		{"request with short payload", []byte{0, 0, 0, 5, byte(wire.Request), 0, 0, 0, 0}, true},
		{"extension handshake not bencode", ext(0, []byte("this is not bencode")), true},
		{"extension handshake nesting bomb", ext(0, []byte(deep)), true},
		{"extension handshake is a list", ext(0, []byte("li1ei2ee")), true},
		{"metadata message garbage", concat(ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}}), ext(1, []byte("xx"))), true},
		{"request out of range", wire.AppendRequest(nil, 1_000_000, 0, 16384), false},
		{"request 1 GiB block", wire.AppendRequest(nil, 0, 0, 1<<30), false},
		{"request past the piece end", wire.AppendRequest(nil, 0, 1<<32-16, 16384), false},
		{"unsolicited piece", msg(wire.Message{ID: wire.Piece, Index: 0, Begin: 0, Payload: make([]byte, 16384)}), false},
		{"piece out of range", msg(wire.Message{ID: wire.Piece, Index: 1 << 31, Begin: 1 << 31, Payload: []byte{1}}), false},
		{"cancel and reject of nothing", concat(wire.AppendCancel(nil, 9, 9, 9), wire.AppendReject(nil, 1<<31, 0, 0)), false},
		{"unknown message id", msg(wire.Message{ID: 250, Payload: []byte("whatever")}), false},
		{"unknown extended id", ext(77, []byte("anything")), false},
		{"keep-alive flood", make([]byte, 4*10_000), false},
		{"choke unchoke storm", concat(bytesRepeat(concat(msg(wire.Message{ID: wire.Unchoke}), msg(wire.Message{ID: wire.Choke})), 2000)), false},
		{"metadata request past any info", concat(ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}}),
			ext(1, map[string]any{"msg_type": 0, "piece": 1 << 30})), true},
		{"metadata_size of 1 TiB", ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}, "metadata_size": 1 << 40}), true},
		{"metadata request past this info", concat(ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}}),
			ext(1, map[string]any{"msg_type": 0, "piece": 100})), false},
		{"metadata data for a known torrent", concat(ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}}),
			ext(1, append(bencodeOf(map[string]any{"msg_type": 1, "piece": 0, "total_size": 5}), "hello"...))), false},
		{"hash request cut short", msg(wire.Message{ID: wire.HashRequest, Payload: []byte("short")}), true},
		{"hashes with a length of 3", msg(wire.Message{ID: wire.Hashes, Payload: binary.BigEndian.AppendUint32(
			binary.BigEndian.AppendUint32(make([]byte, 40), 3), 0)}), true},
		{"hashes nobody asked for", msg(wire.HashMsg{Root: [32]byte{7}, BaseLayer: 2, Length: 2, Hashes: make([][32]byte, 2)}.Message(wire.Hashes)), false},
		{"hashes with uncles nobody asked for", msg(wire.HashMsg{Root: [32]byte{7}, Index: 4, Length: 4, ProofLayers: 5,
			Hashes: make([][32]byte, 7)}.Message(wire.Hashes)), false},
		{"hash reject of nothing", msg(wire.HashMsg{Root: [32]byte{9}, BaseLayer: 1, Length: 8}.Message(wire.HashReject)), false},
		{"hash request for an unknown root", msg(wire.HashMsg{Root: [32]byte{1}, BaseLayer: 2, Length: 512, ProofLayers: 12}.Message(wire.HashRequest)), false},
		{"pex garbage", concat(ext(0, map[string]any{"m": map[string]any{"ut_pex": 2}}), ext(2, []byte("d5:added3:abce"))), false},
		{"pex of a thousand public peers", concat(ext(0, map[string]any{"m": map[string]any{"ut_pex": 2}}),
			ext(2, map[string]any{"added": string(make([]byte, 6000))})), false},
	}
}

func bytesRepeat(b []byte, n int) []byte {
	out := make([]byte, 0, len(b)*n)
	for range n {
		out = append(out, b...)
	}
	return out
}

func bencodeOf(v any) []byte {
	b, err := bencode.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// dialPeer connects to addr as a BitTorrent peer for ih and reads the
// engine's handshake. A swarm refuses peers until it runs, which is just
// after Download returns, so refusals are retried for a few seconds.
func dialPeer(tb testing.TB, addr string, ih engine.InfoHash) (net.Conn, *bufio.Reader) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, br, err := tryDialPeer(addr, ih)
		if err == nil {
			return c, br
		}
		if time.Now().After(deadline) {
			tb.Fatalf("handshake with %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tryDialPeer(addr string, ih engine.InfoHash) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	h := wire.Handshake{Reserved: wire.DefaultReserved(), InfoHash: ih}
	rand.Read(h.PeerID[:])
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WriteHandshake(c, h); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	got, err := wire.ReadHandshake(br)
	if err == nil && got.InfoHash != ih {
		err = fmt.Errorf("engine answered for infohash %x", got.InfoHash)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	c.SetDeadline(time.Time{})
	return c, br, nil
}

// hungUp reports whether the engine closes c within d, discarding what it
// sends meanwhile.
func hungUp(c net.Conn, br *bufio.Reader, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// seederWithFile runs a node sharing a random file and returns it with the
// file's path and infohash.
func seederWithFile(t *testing.T, size int) (*enginetest.Node, string, engine.InfoHash) {
	t.Helper()
	node := enginetest.Start(t, enginetest.Config(t))
	src := enginetest.RandomFile(t, t.TempDir(), "honest.bin", size)
	ih, err := node.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return node, src, ih
}

// TestCorruptPeers sends malformed and hostile messages to a seeding engine
// over real connections: it must hang up on protocol violations, shrug off
// the rest, never ban loopback wholesale, and still serve an honest peer.
func TestCorruptPeers(t *testing.T) {
	seed, src, ih := seederWithFile(t, 1<<20+333)
	for _, tc := range corruptPeerCases() {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dialPeer(t, seed.PeerAddr(), ih)
			defer c.Close()
			if _, err := c.Write(tc.stream); err != nil && !tc.closed {
				t.Fatalf("write: %v", err)
			}
			wait := 5 * time.Second
			if !tc.closed {
				wait = 700 * time.Millisecond
			}
			if got := hungUp(c, br, wait); got != tc.closed {
				t.Errorf("engine hung up = %v, want %v", got, tc.closed)
			}
		})
	}
	leech := enginetest.Start(t, enginetest.Config(t))
	dl := t.TempDir()
	if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: dl,
		Peers: []string{seed.PeerAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, leech, ih, filepath.Join(dl, "honest.bin"), src)
}

// waitComplete waits until node has ih and checks the file against src.
func waitComplete(t *testing.T, node *enginetest.Node, ih engine.InfoHash, got, src string) {
	t.Helper()
	enginetest.WaitFor(t, "honest download", 60*time.Second, func() bool {
		tr, ok := enginetest.Transfer(node.Snapshot(), ih)
		if ok && tr.State == engine.StateError {
			t.Fatalf("transfer failed: %s", tr.Err)
		}
		return ok && tr.Size > 0 && tr.Have == tr.Size
	})
	if sha256File(t, got) != sha256File(t, src) {
		t.Fatal("downloaded file differs")
	}
}

// TestMetadataLiars: peers that lie about or corrupt the metadata of a
// magnet download must not stop it from completing from an honest seed.
func TestMetadataLiars(t *testing.T) {
	seed, src, ih := seederWithFile(t, 256<<10+5)
	liars := []struct {
		name   string
		stream []byte
		stay   bool // keep the liar connected while the honest seed serves
	}{
		{"wrong metadata_size, never answers", ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}, "metadata_size": 12345}), true},
		{"wrong metadata_size, then leaves", ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}, "metadata_size": 12345}), false},
		{"absurd metadata_size", ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}, "metadata_size": 1 << 40}), true},
		{"negative metadata_size", ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}, "metadata_size": -1}), true},
		{"unsolicited metadata of the right size", concat(
			ext(0, map[string]any{"m": map[string]any{"ut_metadata": 3}}),
			ext(1, append(bencodeOf(map[string]any{"msg_type": 1, "piece": 0, "total_size": 100}), make([]byte, 100)...))), true},
		{"have and bitfield before metadata", concat(wire.AppendHave(nil, 1<<31), wire.AppendHave(nil, 7),
			msg(wire.Message{ID: wire.BitfieldMsg, Payload: make([]byte, 1<<16)})), true},
	}
	for _, tc := range liars {
		t.Run(tc.name, func(t *testing.T) {
			leech := enginetest.Start(t, enginetest.Config(t))
			dl := t.TempDir()
			if _, err := leech.Download(context.Background(), engine.DownloadRequest{Source: engine.Magnet(ih, ""), Dir: dl}); err != nil {
				t.Fatal(err)
			}
			c, br := dialPeer(t, leech.PeerAddr(), ih)
			defer c.Close()
			go io.Copy(io.Discard, br)
			if _, err := c.Write(tc.stream); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // the liar is first
			if !tc.stay {
				c.Close()
			}
			if err := leech.AddPeers(ih, seed.PeerAddr()); err != nil {
				t.Fatal(err)
			}
			waitComplete(t, leech, ih, filepath.Join(dl, "honest.bin"), src)
			if _, err := os.Stat(filepath.Join(dl, "honest.bin")); err != nil {
				t.Fatal(err)
			}
		})
	}
}
