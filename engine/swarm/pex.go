package swarm

import (
	"net/netip"

	"github.com/shoalp2p/shoal/engine/wire"
)

// PEXMessage is a ut_pex payload.
type PEXMessage = wire.PEX

// BEP 11 peer exchange: once a minute each peer that supports ut_pex hears
// which listening peers we connected to and dropped since the last message.

const (
	pexInterval = 60 // seconds between messages, as BEP 11 asks
	pexMax      = 50 // addresses per list
)

// listenAddr is where a peer accepts connections: the address we dialled,
// or its IP with the port from its extension handshake.
func (p *peer) listenAddr() (netip.AddrPort, bool) {
	if p.outgoing {
		ap, err := netip.ParseAddrPort(p.addr)
		return ap, err == nil
	}
	ip := mustAddr(p.ip)
	if !ip.IsValid() || p.listenPort == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, p.listenPort), true
}

// sendPEX sends each ut_pex peer the changes since its last message.
// Caller holds s.mu.
func (s *Swarm) sendPEX() {
	current := map[netip.AddrPort]bool{}
	for _, p := range s.peers {
		if ap, ok := p.listenAddr(); ok {
			current[ap] = true
		}
	}
	for _, p := range s.peers {
		id := p.theirExt["ut_pex"]
		if id <= 0 || id > 255 {
			continue
		}
		if msg, ok := pexFor(p, current); ok {
			if b, err := msg.Marshal(); err == nil {
				p.w.sendExtended(uint8(id), b)
			}
		}
	}
}

// pexFor computes one peer's added and dropped lists and remembers them.
func pexFor(p *peer, current map[netip.AddrPort]bool) (PEXMessage, bool) {
	if p.pexSent == nil {
		p.pexSent = map[netip.AddrPort]bool{}
	}
	self, _ := p.listenAddr()
	var msg PEXMessage
	for ap := range current {
		if ap != self && !p.pexSent[ap] && len(msg.Added) < pexMax {
			msg.Added = append(msg.Added, ap)
			p.pexSent[ap] = true
		}
	}
	for ap := range p.pexSent {
		if !current[ap] && len(msg.Dropped) < pexMax {
			msg.Dropped = append(msg.Dropped, ap)
			delete(p.pexSent, ap)
		}
	}
	return msg, len(msg.Added)+len(msg.Dropped) > 0
}
