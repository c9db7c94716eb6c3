package swarm

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"

	"github.com/shoalp2p/shoal/engine/wire"
)

// allowedFastCount is k in BEP 6: how many pieces a choked peer may still
// request from us.
const allowedFastCount = 10

// allowedFastSet computes BEP 6's canonical allowed-fast set for a peer's
// IPv4 address, so every client derives the same pieces for the same peer.
func allowedFastSet(ip netip.Addr, infoHash [20]byte, numPieces, k int) []int {
	if !ip.Is4() && !ip.Is4In6() || numPieces == 0 {
		return nil
	}
	k = min(k, numPieces)
	v4 := ip.Unmap().As4()
	x := make([]byte, 0, 24)
	x = append(x, v4[0], v4[1], v4[2], 0) // 0xFFFFFF00 & ip
	x = append(x, infoHash[:]...)
	var out []int
	seen := map[int]bool{}
	for len(out) < k {
		sum := sha1.Sum(x)
		x = sum[:]
		for i := 0; i < 5 && len(out) < k; i++ {
			index := int(binary.BigEndian.Uint32(x[i*4:]) % uint32(numPieces))
			if !seen[index] {
				seen[index] = true
				out = append(out, index)
			}
		}
	}
	return out
}

// grantAllowedFast tells a fast-extension peer which pieces it may request
// while choked, and remembers them. Caller holds s.mu.
func (s *Swarm) grantAllowedFast(p *peer) {
	if !p.fast || s.pick == nil {
		return
	}
	ip, err := netip.ParseAddr(p.ip)
	if err != nil {
		return
	}
	p.weAllow = map[int]bool{}
	for _, i := range allowedFastSet(ip, s.cfg.InfoHash, s.pick.NumPieces(), allowedFastCount) {
		p.weAllow[i] = true
		if s.pick.Have(i) {
			p.w.send(wire.Message{ID: wire.AllowedFast, Index: uint32(i)})
		}
	}
}

// onAllowedFast records a piece we may request while the peer chokes us.
// Caller holds s.mu.
func (s *Swarm) onAllowedFast(p *peer, i int) {
	if s.pick == nil || i < 0 || i >= s.pick.NumPieces() {
		return
	}
	if p.theyAllow == nil {
		p.theyAllow = map[int]bool{}
	}
	if len(p.theyAllow) < 4*allowedFastCount {
		p.theyAllow[i] = true
	}
	s.fillRequests(p)
}
