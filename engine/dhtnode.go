package engine

import (
	"context"
	"fmt"
	"net"
	"time"

	alog "github.com/anacrolix/log"

	"github.com/anacrolix/dht/v2"

	"github.com/shoalp2p/shoal/engine/dhtindex"
)

// DHTNode is the DHT part of a Shoal node on its own: a Mainline DHT
// server (BEP 5) on a loopback UDP port, with Shoal's peer store and BEP 51
// answers, and nothing else (no transfers, no search). Simulations run
// hundreds of them in one process, where whole engines would not fit.
type DHTNode struct {
	s  *dht.Server
	pc net.PacketConn
}

// DHTNodeConfig sets up a DHTNode.
type DHTNodeConfig struct {
	// Bootstrap lists loopback DHT addresses (host:port) to join through.
	Bootstrap []string
	// SampleInterval is the BEP 51 "interval" answered (default
	// dhtindex.DefaultInterval, as an engine answers).
	SampleInterval time.Duration
}

// StartDHTNode starts a DHT node on a free 127.0.0.1 port.
func StartDHTNode(cfg DHTNodeConfig) (*DHTNode, error) {
	var boot []dht.Addr
	for _, h := range cfg.Bootstrap {
		ua, err := net.ResolveUDPAddr("udp4", h)
		if err != nil || !ua.IP.IsLoopback() {
			return nil, fmt.Errorf("engine: DHT node: bootstrap %q is not a loopback address", h)
		}
		boot = append(boot, dht.NewAddr(ua))
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("engine: DHT node: %w", err)
	}
	scfg := dht.NewDefaultServerConfig()
	scfg.NoSecurity = true
	scfg.PublicIP = net.IPv4(127, 0, 0, 1)
	scfg.StartingNodes = func() ([]dht.Addr, error) { return boot, nil }
	ps := newPeerStore()
	scfg.PeerStore = ps
	ref := &dhtindex.ServerRef{}
	r := dhtindex.NewResponder(dhtindex.ResponderConfig{Source: ps, Interval: cfg.SampleInterval})
	scfg.Conn, scfg.OnQuery = r.Attach(pc, ref, ps)
	scfg.Logger = alog.Default.FilterLevel(alog.Critical)
	scfg.SendLimiter = newDHTSendLimiter()
	s, err := dht.NewServer(scfg)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("engine: DHT node: %w", err)
	}
	ref.Set(s)
	return &DHTNode{s: s, pc: pc}, nil
}

// Addr is the node's UDP address (host:port).
func (n *DHTNode) Addr() string { return n.pc.LocalAddr().String() }

// ID is the node's DHT node ID.
func (n *DHTNode) ID() [20]byte { return n.s.ID() }

// Bootstrap fills the routing table from the bootstrap nodes.
func (n *DHTNode) Bootstrap() error {
	if _, err := n.s.Bootstrap(); err != nil {
		return fmt.Errorf("engine: DHT node: bootstrap: %w", err)
	}
	return nil
}

// Nodes is how many nodes the routing table holds.
func (n *DHTNode) Nodes() int { return n.s.NumNodes() }

// Announce announces a BitTorrent peer at 127.0.0.1:port for ih to the
// nodes closest to ih (a get_peers traversal, then announce_peer), and
// returns the peers the traversal found.
func (n *DHTNode) Announce(ctx context.Context, ih [20]byte, port int) []string {
	peers, _ := dhtPeersOn(ctx, n.s, ih, port, 0)
	return peers
}

// Close stops the node.
func (n *DHTNode) Close() {
	n.s.Close()
	n.pc.Close()
}
