package engine

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
)

// holderTimeout bounds the direct get_peers to a sample's holders.
const holderTimeout = 5 * time.Second

// holderAnswer is what the holders of an infohash (the DHT nodes whose BEP
// 51 samples named it) said when asked directly: its peers, and which
// holders answered with some, per DHT server (for a BEP 33 scrape).
type holderAnswer struct {
	peers    []string
	answered map[*dht.Server][]krpc.NodeAddr
}

// findSwarm is the DHT indexer's look for ih's swarm: a get_peers
// traversal and, beside it, one get_peers to each node whose BEP 51
// sample named ih; once those answered with peers, the traversal has
// indexerSettle more to add its own.
func (e *Engine) findSwarm(ctx context.Context, ih [20]byte, holders []string) dhtSwarm {
	lookupCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	direct := make(chan holderAnswer, 1)
	go func() {
		h := e.askHolders(ctx, ih, holders)
		if len(h.peers) > 0 {
			time.AfterFunc(indexerSettle, cancel)
		}
		direct <- h
	}()
	sw := e.dhtLookup(lookupCtx, ih, 0, indexerSettle, true)
	sw.addHolders(ctx, ih, <-direct)
	return sw
}

// askHolders sends one get_peers for ih to each holder (UDP host:port),
// on the DHT server of its address family. A node that sampled ih holds
// its announces, so this finds the swarm in one round trip even when the
// traversal beside it spends its time on dead nodes nearer ih.
func (e *Engine) askHolders(ctx context.Context, ih [20]byte, holders []string) holderAnswer {
	out := holderAnswer{answered: map[*dht.Server][]krpc.NodeAddr{}}
	var nodes []serverNode
	for _, h := range holders {
		if s, na, ok := e.holderServer(h); ok {
			nodes = append(nodes, serverNode{s, na})
		}
	}
	getPeersEach(ctx, ih, holderTimeout, false, nodes, func(n serverNode, r *krpc.Return) {
		if len(r.Values) == 0 {
			return
		}
		out.answered[n.s] = append(out.answered[n.s], n.na)
		for _, p := range r.Values {
			if p.Port != 0 {
				out.peers = append(out.peers, net.JoinHostPort(p.IP.String(), strconv.Itoa(p.Port)))
			}
		}
	})
	out.peers = distinctAddrs(out.peers)
	return out
}

// holderServer is the DHT server that may ask the node at addr (its
// address family's, if running and the policy allows the address).
func (e *Engine) holderServer(addr string) (*dht.Server, krpc.NodeAddr, bool) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || e.policy.CheckHostPort(addr) != nil {
		return nil, krpc.NodeAddr{}, false
	}
	na := krpc.NodeAddr{IP: ap.Addr().Unmap().AsSlice(), Port: int(ap.Port())}
	s := e.dht
	if ap.Addr().Unmap().Is6() {
		s = e.dht6
	}
	return s, na, s != nil
}

// addHolders merges what the holders said into the traversal's swarm;
// when the traversal found no holder to scrape, the answering holders are
// scraped (BEP 33) for the swarm's seeds and downloaders.
func (sw *dhtSwarm) addHolders(ctx context.Context, ih [20]byte, h holderAnswer) {
	if len(h.peers) == 0 {
		return
	}
	sw.peers = distinctAddrs(append(sw.peers, h.peers...))
	if _, _, ok := sw.scrape.counts(); ok {
		return
	}
	for s, nodes := range h.answered {
		sw.scrape.merge(scrapeHolders(ctx, s, ih, nodes))
	}
}
