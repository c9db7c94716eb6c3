package portmap

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// PCP (RFC 6887), NAT-PMP's successor on the same port: the MAP opcode
// only, over IPv4, to the default gateway. No maintained Go library
// serves it, so the few bytes are encoded here (pcpMapRequest,
// parsePCPMapResponse, fuzzed). It is tried when NAT-PMP fails, as a
// router that dropped NAT-PMP for PCP answers NAT-PMP with UNSUPP_VERSION
// or not at all.

const (
	pcpPort       = 5351
	pcpVersion    = 2
	pcpOpMap      = 1
	pcpHeaderLen  = 24
	pcpMapLen     = 36
	pcpResponseOp = 0x80
)

// pcpResults names the RFC 6887 §7.4 result codes.
var pcpResults = map[byte]string{
	1: "unsupported version", 2: "not authorized", 3: "malformed request",
	4: "unsupported opcode", 5: "unsupported option", 6: "malformed option",
	7: "network failure", 8: "no resources", 9: "unsupported protocol",
	10: "user quota exceeded", 11: "cannot provide an external port",
	12: "address mismatch", 13: "too many remote peers",
}

// pcpMap is one MAP request or response.
type pcpMap struct {
	Nonce    [12]byte
	Proto    byte // 6 TCP, 17 UDP
	Internal uint16
	External uint16
	ExtIP    netip.Addr
	Lifetime uint32
	Client   netip.Addr // requests only
	Result   byte       // responses only
}

// pcpMapRequest encodes a MAP request (RFC 6887 §7.1, §11.1).
func pcpMapRequest(m pcpMap) []byte {
	b := make([]byte, pcpHeaderLen+pcpMapLen)
	b[0], b[1] = pcpVersion, pcpOpMap
	binary.BigEndian.PutUint32(b[4:], m.Lifetime)
	c := m.Client.As16() // IPv4 as ::ffff:a.b.c.d
	copy(b[8:24], c[:])
	p := b[pcpHeaderLen:]
	copy(p[:12], m.Nonce[:])
	p[12] = m.Proto
	binary.BigEndian.PutUint16(p[16:], m.Internal)
	binary.BigEndian.PutUint16(p[18:], m.External)
	ext := netip.IPv4Unspecified().As16()
	if m.ExtIP.IsValid() {
		ext = m.ExtIP.As16()
	}
	copy(p[20:36], ext[:])
	return b
}

// errPCPShort and errPCPNotMap reject what is not a MAP response.
var (
	errPCPShort  = errors.New("portmap: PCP: answer too short")
	errPCPNotMap = errors.New("portmap: PCP: not a MAP response")
)

// parsePCPMapResponse decodes a MAP response (RFC 6887 §7.2, §11.1). A
// version-0 answer is a NAT-PMP router's UNSUPP_VERSION reply.
func parsePCPMapResponse(b []byte) (pcpMap, error) {
	if len(b) >= 4 && b[0] == 0 {
		return pcpMap{}, errors.New("portmap: PCP: the router speaks NAT-PMP only")
	}
	if len(b) < pcpHeaderLen {
		return pcpMap{}, errPCPShort
	}
	if b[0] != pcpVersion || b[1] != pcpResponseOp|pcpOpMap {
		return pcpMap{}, fmt.Errorf("%w (version %d, opcode %#x)", errPCPNotMap, b[0], b[1])
	}
	m := pcpMap{Result: b[3], Lifetime: binary.BigEndian.Uint32(b[4:])}
	if m.Result != 0 {
		return m, nil // error answers may carry no MAP data
	}
	if len(b) < pcpHeaderLen+pcpMapLen {
		return pcpMap{}, errPCPShort
	}
	p := b[pcpHeaderLen:]
	copy(m.Nonce[:], p[:12])
	m.Proto = p[12]
	m.Internal = binary.BigEndian.Uint16(p[16:])
	m.External = binary.BigEndian.Uint16(p[18:])
	m.ExtIP = netip.AddrFrom16([16]byte(p[20:36])).Unmap()
	return m, nil
}

// pcpError is a result code other than SUCCESS.
type pcpError struct{ code byte }

func (e *pcpError) Error() string { return "PCP: " + e.words() }

// words names the result code for people.
func (e *pcpError) words() string {
	if s, ok := pcpResults[e.code]; ok {
		return s
	}
	return fmt.Sprintf("result code %d", e.code)
}

type pcpMapper struct {
	gw     netip.Addr
	local  netip.Addr
	port   int
	lease  time.Duration
	nonces map[string][12]byte // per protocol, kept for renewals and removal
}

// discoverPCP finds the default gateway; whether it speaks PCP shows in
// the first MAP.
func (m *Mapper) discoverPCP(ctx context.Context) (mapper, error) {
	gw, err := m.gateway("PCP")
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(gw, pcpPort)))
	if err != nil {
		return nil, fmt.Errorf("portmap: PCP: %w", err)
	}
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	return &pcpMapper{gw: gw, local: local, port: m.cfg.Port, lease: m.cfg.Lease, nonces: map[string][12]byte{}}, nil
}

func (p *pcpMapper) method() string { return MethodPCP }

// externalIP makes the TCP mapping, whose answer names the address (PCP
// has no separate question for it); add then renews it.
func (p *pcpMapper) externalIP(ctx context.Context) (netip.Addr, error) {
	r, err := p.do(ctx, "TCP", p.port, p.port, uint32(p.lease/time.Second))
	if err != nil {
		return netip.Addr{}, err
	}
	return r.ExtIP, nil
}

func (p *pcpMapper) add(ctx context.Context, proto string, port int, lease time.Duration) (int, time.Duration, error) {
	r, err := p.do(ctx, proto, port, port, uint32(lease/time.Second))
	if err != nil {
		return 0, 0, err
	}
	return int(r.External), time.Duration(r.Lifetime) * time.Second, nil
}

func (p *pcpMapper) remove(ctx context.Context, proto string, ext int) error {
	_, err := p.do(ctx, proto, p.port, ext, 0) // lifetime 0 deletes (§15)
	return err
}

// pcpGaps are the waits for an answer before each resend.
var pcpGaps = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// do sends one MAP and waits for its answer, resending while none comes.
func (p *pcpMapper) do(ctx context.Context, proto string, internal, external int, lifetime uint32) (pcpMap, error) {
	code := byte(6)
	if proto == "UDP" {
		code = 17
	}
	nonce, ok := p.nonces[proto]
	if !ok {
		rand.Read(nonce[:])
		p.nonces[proto] = nonce
	}
	req := pcpMapRequest(pcpMap{Nonce: nonce, Proto: code, Internal: uint16(internal), External: uint16(external), Lifetime: lifetime, Client: p.local})
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.gw, pcpPort)))
	if err != nil {
		return pcpMap{}, fmt.Errorf("portmap: PCP at %s: %w", p.gw, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 1100) // RFC 6887 §7: messages are at most 1100 bytes
	for _, gap := range pcpGaps {
		if _, err := c.Write(req); err != nil {
			return pcpMap{}, fmt.Errorf("portmap: PCP at %s: %w", p.gw, err)
		}
		c.SetReadDeadline(time.Now().Add(gap))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break // this wait is over: resend, unless ctx ended
			}
			r, err := parsePCPMapResponse(buf[:n])
			if err != nil {
				return pcpMap{}, fmt.Errorf("portmap: PCP at %s: %w", p.gw, err)
			}
			if r.Result != 0 {
				return r, fmt.Errorf("portmap: PCP at %s: %w", p.gw, &pcpError{r.Result})
			}
			if r.Nonce != nonce || r.Proto != code || int(r.Internal) != internal {
				continue // another request's answer
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return pcpMap{}, fmt.Errorf("portmap: PCP at %s: %w", p.gw, ctx.Err())
		}
	}
	return pcpMap{}, fmt.Errorf("portmap: PCP at %s: no answer", p.gw)
}
