package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// MaxPEXLen is the largest ut_pex payload parsed (BEP 11 asks for at most 50
// added and 50 dropped peers per message; this leaves ample room).
const MaxPEXLen = 64 << 10

// PEXFlags describe one added peer (BEP 11 "added.f"/"added6.f", one
// byte per peer).
type PEXFlags byte

// The PEX flag bits.
const (
	PEXEncryption PEXFlags = 0x01 // the peer prefers encryption
	PEXSeed       PEXFlags = 0x02 // the peer is a seed (upload only)
	PEXUTP        PEXFlags = 0x04 // the peer speaks uTP
	PEXHolepunch  PEXFlags = 0x08 // the peer supports ut_holepunch (BEP 55)
	PEXReachable  PEXFlags = 0x10 // the sender connected out to it: it accepts connections
)

// PEX is a BEP 11 ut_pex message. IPv4 peers travel in "added"/"dropped" as
// 6-byte compact entries and IPv6 peers in "added6"/"dropped6" as 18-byte
// entries; IPv4-mapped IPv6 addresses are treated as IPv4.
type PEX struct {
	Added, Dropped []netip.AddrPort
	// AddedFlags, when not nil, holds one PEXFlags per Added peer, in
	// order. A parsed message with added peers always has it; peers whose
	// flags were missing (or whose flag string had the wrong length) get 0.
	AddedFlags []PEXFlags
}

// pexIn is the decoding shape of a ut_pex dict; unknown keys are ignored.
type pexIn struct {
	Added    []byte `bencode:"added"`
	AddedF   []byte `bencode:"added.f"`
	Added6   []byte `bencode:"added6"`
	Added6F  []byte `bencode:"added6.f"`
	Dropped  []byte `bencode:"dropped"`
	Dropped6 []byte `bencode:"dropped6"`
}

// Marshal returns the bencoded ut_pex payload (after the extended ID). The
// "added" and "dropped" keys are always present; the IPv6 keys only when
// they have entries. An invalid or zoned address is an error.
func (p PEX) Marshal() ([]byte, error) {
	var a4, a6, d4, d6 []byte
	var err error
	if p.AddedFlags != nil && len(p.AddedFlags) != len(p.Added) {
		return nil, fmt.Errorf("wire: marshal pex: %d flags for %d added peers", len(p.AddedFlags), len(p.Added))
	}
	if a4, a6, err = compactPeers(p.Added); err != nil {
		return nil, fmt.Errorf("wire: marshal pex added: %w", err)
	}
	f4, f6 := splitFlags(p.Added, p.AddedFlags)
	if d4, d6, err = compactPeers(p.Dropped); err != nil {
		return nil, fmt.Errorf("wire: marshal pex dropped: %w", err)
	}
	b := make([]byte, 0, 80+len(a4)+len(a6)+len(d4)+len(d6)+len(f4)+len(f6))
	b = appendBencodeString(append(b, "d5:added"...), a4)
	if f4 != nil {
		b = appendBencodeString(append(b, "7:added.f"...), f4)
	}
	if len(a6) > 0 {
		b = appendBencodeString(append(b, "6:added6"...), a6)
		if f6 != nil {
			b = appendBencodeString(append(b, "8:added6.f"...), f6)
		}
	}
	b = appendBencodeString(append(b, "7:dropped"...), d4)
	if len(d6) > 0 {
		b = appendBencodeString(append(b, "8:dropped6"...), d6)
	}
	return append(b, 'e'), nil
}

// ParsePEX decodes a ut_pex payload. A payload that is not a bencode dict of
// at most MaxPEXLen bytes, a peer list that is not a string, or one whose
// length is not a multiple of 6 (IPv4) or 18 (IPv6) gives ErrMalformed.
func ParsePEX(b []byte) (PEX, error) {
	var in pexIn
	if err := decodeDict("parse pex", b, MaxPEXLen, &in); err != nil {
		return PEX{}, err
	}
	var p PEX
	for _, l := range []struct {
		dst   *[]netip.AddrPort
		b     []byte
		ipLen int
	}{{&p.Added, in.Added, 4}, {&p.Added, in.Added6, 16}, {&p.Dropped, in.Dropped, 4}, {&p.Dropped, in.Dropped6, 16}} {
		var err error
		if *l.dst, err = parseCompactPeers(*l.dst, l.b, l.ipLen); err != nil {
			return PEX{}, fmt.Errorf("wire: parse pex: %w", err)
		}
	}
	if len(p.Added) == 0 {
		return p, nil
	}
	n4 := len(in.Added) / 6
	p.AddedFlags = make([]PEXFlags, len(p.Added))
	if len(in.AddedF) == n4 {
		for i, f := range in.AddedF {
			p.AddedFlags[i] = PEXFlags(f)
		}
	}
	if len(in.Added6F) == len(p.Added)-n4 {
		for i, f := range in.Added6F {
			p.AddedFlags[n4+i] = PEXFlags(f)
		}
	}
	return p, nil
}

// splitFlags returns the added.f and added6.f strings for peers (in the
// order compactPeers writes them), nil without flags.
func splitFlags(peers []netip.AddrPort, flags []PEXFlags) (f4, f6 []byte) {
	if flags == nil {
		return nil, nil
	}
	f4 = []byte{}
	for i, ap := range peers {
		if ap.Addr().Unmap().Is4() {
			f4 = append(f4, byte(flags[i]))
		} else {
			f6 = append(f6, byte(flags[i]))
		}
	}
	return f4, f6
}

// compactPeers splits peers into compact IPv4 (6-byte) and IPv6 (18-byte)
// strings.
func compactPeers(peers []netip.AddrPort) (v4, v6 []byte, err error) {
	for _, ap := range peers {
		a := ap.Addr().Unmap()
		switch {
		case !ap.IsValid() || a.Zone() != "":
			return nil, nil, fmt.Errorf("invalid peer address %v", ap)
		case a.Is4():
			s := a.As4()
			v4 = binary.BigEndian.AppendUint16(append(v4, s[:]...), ap.Port())
		default:
			s := a.As16()
			v6 = binary.BigEndian.AppendUint16(append(v6, s[:]...), ap.Port())
		}
	}
	return v4, v6, nil
}

// parseCompactPeers appends the peers of a compact string whose addresses
// are ipLen (4 or 16) bytes long.
func parseCompactPeers(dst []netip.AddrPort, b []byte, ipLen int) ([]netip.AddrPort, error) {
	entry := ipLen + 2
	if len(b)%entry != 0 {
		return nil, fmt.Errorf("compact peer list of %d bytes is not a multiple of %d: %w",
			len(b), entry, ErrMalformed)
	}
	for i := 0; i < len(b); i += entry {
		var a netip.Addr
		if ipLen == 4 {
			a = netip.AddrFrom4([4]byte(b[i : i+4]))
		} else {
			a = netip.AddrFrom16([16]byte(b[i : i+16])).Unmap()
		}
		dst = append(dst, netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[i+ipLen:])))
	}
	return dst, nil
}

// appendBencodeString appends s as a bencode string.
func appendBencodeString(b, s []byte) []byte {
	b = append(strconv.AppendInt(b, int64(len(s)), 10), ':')
	return append(b, s...)
}
