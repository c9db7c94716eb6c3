package swarm

import (
	"net/netip"
	"time"

	"github.com/shoalp2p/shoal/engine/transport"
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

// pexFirstAfter is how soon after connecting a peer gets its first PEX
// message (the full list), instead of waiting for the next round: a peer
// behind NAT learns early whom it may reach through us (BEP 55).
const pexFirstAfter = 3 * time.Second

// sendPEX sends each ut_pex peer the changes since its last message;
// with firstOnly, only peers that have had none yet and connected at
// least pexFirstAfter ago. Caller holds s.mu.
func (s *Swarm) sendPEX(firstOnly bool) {
	if firstOnly && !s.pexFirstDue() {
		return
	}
	current := map[netip.AddrPort]wire.PEXFlags{}
	for _, p := range s.peers {
		if ap, ok := p.listenAddr(); ok {
			current[ap] = s.pexFlags(p)
		}
	}
	for _, p := range s.peers {
		id := p.theirExt["ut_pex"]
		if id <= 0 || id > 255 || (firstOnly && !p.pexFirstDue()) {
			continue
		}
		if msg, ok := pexFor(p, current); ok {
			if b, err := msg.Marshal(); err == nil {
				p.w.sendExtended(uint8(id), b)
			}
		}
	}
}

// pexFlags describes p for others (BEP 11 added.f): encrypted link, seed,
// uTP, BEP 55 support, and reachable when we dialled it. Caller holds s.mu.
func (s *Swarm) pexFlags(p *peer) wire.PEXFlags {
	var f wire.PEXFlags
	if p.encryption != "" && p.encryption != transport.EncNone {
		f |= wire.PEXEncryption
	}
	if s.layout != nil && p.isSeed(s.layout.NumPieces) {
		f |= wire.PEXSeed
	}
	if p.network == "utp" {
		f |= wire.PEXUTP
	}
	if p.holepunchID() != 0 {
		f |= wire.PEXHolepunch
	}
	if p.outgoing {
		f |= wire.PEXReachable
	}
	return f
}

// pexFirstDue reports whether some peer waits for its first PEX message.
// Caller holds s.mu.
func (s *Swarm) pexFirstDue() bool {
	for _, p := range s.peers {
		if p.pexFirstDue() {
			return true
		}
	}
	return false
}

// pexFirstDue reports whether p, connected at least pexFirstAfter ago,
// has had no PEX message yet. Caller holds s.mu.
func (p *peer) pexFirstDue() bool {
	return p.pexSent == nil && p.theirExt["ut_pex"] > 0 && time.Since(p.start) >= pexFirstAfter
}

// pexFor computes one peer's added and dropped lists and remembers them.
func pexFor(p *peer, current map[netip.AddrPort]wire.PEXFlags) (PEXMessage, bool) {
	if p.pexSent == nil {
		p.pexSent = make(map[netip.AddrPort]bool, len(current))
	}
	self, _ := p.listenAddr()
	var msg PEXMessage
	for ap, f := range current {
		if ap != self && !p.pexSent[ap] && len(msg.Added) < pexMax {
			msg.Added = append(msg.Added, ap)
			msg.AddedFlags = append(msg.AddedFlags, f)
			p.pexSent[ap] = true
		}
	}
	for ap := range p.pexSent {
		if _, ok := current[ap]; !ok && len(msg.Dropped) < pexMax {
			msg.Dropped = append(msg.Dropped, ap)
			delete(p.pexSent, ap)
		}
	}
	return msg, len(msg.Added)+len(msg.Dropped) > 0
}

// maxPEXHas bounds how many addresses are remembered per peer as named in
// its PEX (the candidates table holds 2000 at most).
const maxPEXHas = 2000

// notePEX remembers which listen addresses p says it is connected to: it
// can relay a hole punch to them (BEP 55). Caller holds s.mu.
func notePEX(p *peer, px PEXMessage) {
	if p.pexHas == nil {
		p.pexHas = map[netip.AddrPort]bool{}
	}
	for _, a := range px.Dropped {
		delete(p.pexHas, a)
	}
	for _, a := range px.Added {
		if len(p.pexHas) < maxPEXHas {
			p.pexHas[a] = true
		}
	}
}
