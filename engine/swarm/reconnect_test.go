package swarm

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/wire"
)

// rawPeer opens a connection to addr and does the BitTorrent handshake as
// peer id, then leaves the connection alone: it reads nothing more, as a
// crashed peer whose uTP connection got no FIN or RST.
func rawPeer(t *testing.T, addr string, ih [20]byte, id [20]byte) net.Conn {
	t.Helper()
	c, err := loopback.Dial(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wire.WriteHandshake(c, wire.Handshake{InfoHash: ih, PeerID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := wire.ReadHandshake(c); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return c
}

// startSeed starts a swarm seeding 1 MiB and returns it with its infohash.
func startSeed(t *testing.T, ctx context.Context) (*node, [20]byte) {
	path, info := makeContent(t, 1<<20, 32<<10)
	ih := infoHash(info)
	pieces := len(mustInfo(t, info).Pieces) / 20
	return startNode(t, ctx, Config{InfoHash: ih, InfoBytes: info, Dir: filepath.Dir(path), Have: allHave(pieces)}), ih
}

// TestRestartedPeerReplacesItsOldConnection: a peer that comes back with
// the same peer ID from the same IP (a client restarted after kill -9,
// whose old connection was never closed) is let in at once, and its old
// connection is dropped. Before, it was refused as "already connected"
// until the keep-alive timeout ended the old one, 2 minutes later.
func TestRestartedPeerReplacesItsOldConnection(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seed, ih := startSeed(t, ctx)
	id := [20]byte{'-', 'X', 'X', '0', '0', '0', '1', '-'}
	first := rawPeer(t, seed.addr, ih, id)
	waitFor(t, "the first connection", 10*time.Second, func() bool { return len(seed.s.Stats().Peers) == 1 })
	second := rawPeer(t, seed.addr, ih, id)
	waitFor(t, "the second connection to replace the first", 10*time.Second, func() bool {
		ps := seed.s.Stats().Peers
		return len(ps) == 1 && ps[0].Addr == second.LocalAddr().String()
	})
	first.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, first); err != nil {
		t.Fatalf("the old connection was not closed by the seed: %v", err)
	}
}

// TestSimultaneousOpenKeepsOneConnection: when two live peers dial each
// other at once, both ends keep the same one of the two connections: the
// one dialled by the peer with the lower ID. Each end may see the two in
// either order; keeping the first one seen (as before) could keep a
// different one at each end, and each end then closed the one the other
// kept (TestLateDialBesidePunch failed so in CI: no connection left).
func TestSimultaneousOpenKeepsOneConnection(t *testing.T) {
	t.Run("peer's ID higher: the seed's own dial stays", func(t *testing.T) {
		id := [20]byte{0xff, 0xff, 0xff, 0xff, 'X', 'X', '0', '2'}
		seed, outgoing, inbound, listen := crossedConnections(t, id)
		inbound.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, inbound); err != nil {
			t.Fatalf("the inbound duplicate was not closed: %v", err)
		}
		if ps := seed.s.Stats().Peers; len(ps) != 1 || ps[0].Addr != listen {
			t.Fatalf("peers after a simultaneous open: %+v, want only the seed's outgoing connection to %s", ps, listen)
		}
		if !stillOpen(outgoing) {
			t.Fatal("the seed closed its own dial, which both ends keep")
		}
	})
	t.Run("peer's ID lower: the peer's dial replaces the seed's", func(t *testing.T) {
		id := [20]byte{} // lower than any ID but an all-zero one
		seed, outgoing, inbound, listen := crossedConnections(t, id)
		outgoing.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, outgoing); err != nil {
			t.Fatalf("the seed's own dial, crossed by the peer's, was not closed: %v", err)
		}
		waitFor(t, "only the peer's dial", 10*time.Second, func() bool {
			ps := seed.s.Stats().Peers
			return len(ps) == 1 && ps[0].Addr != listen
		})
		if !stillOpen(inbound) {
			t.Fatal("the seed closed the peer's dial, which both ends keep")
		}
	})
}

// crossedConnections has a seed dial a raw peer with id, then the raw
// peer dial the seed: it returns the seed, the raw peer's ends of the
// seed's dial (outgoing) and of its own (inbound), and its listen address.
func crossedConnections(t *testing.T, id [20]byte) (seed *node, outgoing, inbound net.Conn, listen string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	seed, ih := startSeed(t, ctx)
	dialedBySeed := make(chan net.Conn, 1)
	listen = serveRaw(t, func(c net.Conn) {
		if _, err := wire.ReadHandshake(c); err != nil {
			c.Close()
			return
		}
		wire.WriteHandshake(c, wire.Handshake{InfoHash: ih, PeerID: id})
		dialedBySeed <- c
	})
	seed.s.AddPeers(listen)
	outgoing = <-dialedBySeed
	t.Cleanup(func() { outgoing.Close() })
	waitFor(t, "the seed's outgoing connection", 10*time.Second, func() bool { return len(seed.s.Stats().Peers) == 1 })
	c, err := loopback.Dial(ctx, "tcp", seed.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	wire.WriteHandshake(c, wire.Handshake{InfoHash: ih, PeerID: id})
	wire.ReadHandshake(c) // the seed answers before it reads our peer ID
	return seed, outgoing, c, listen
}

// stillOpen reports whether the far end has not closed c: a read gets no
// EOF or reset within 300 ms (the seed sends nothing it must).
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
