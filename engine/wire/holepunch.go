package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// ExtHolepunchName is the BEP 10 "m" key of ut_holepunch (BEP 55).
const ExtHolepunchName = "ut_holepunch"

// HolepunchType is a ut_holepunch message's msg_type.
type HolepunchType uint8

// The BEP 55 message types.
const (
	// HolepunchRendezvous asks the receiver (the relay) to introduce the
	// sender to the peer at Addr.
	HolepunchRendezvous HolepunchType = 0
	// HolepunchConnect tells the receiver to connect to Addr now: the
	// relay sends it to both ends at once.
	HolepunchConnect HolepunchType = 1
	// HolepunchError tells the rendezvous sender why the relay could not
	// introduce it to Addr.
	HolepunchError HolepunchType = 2
)

// String names the type as BEP 55 does.
func (t HolepunchType) String() string {
	switch t {
	case HolepunchRendezvous:
		return "rendezvous"
	case HolepunchConnect:
		return "connect"
	case HolepunchError:
		return "error"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// HolepunchErr is a ut_holepunch error message's err_code.
type HolepunchErr uint32

// The BEP 55 error codes.
const (
	// HolepunchNoSuchPeer: the target address is not valid.
	HolepunchNoSuchPeer HolepunchErr = 1
	// HolepunchNotConnected: the relay is not connected to the target.
	HolepunchNotConnected HolepunchErr = 2
	// HolepunchNoSupport: the target does not support ut_holepunch.
	HolepunchNoSupport HolepunchErr = 3
	// HolepunchNoSelf: the target is the relay itself.
	HolepunchNoSelf HolepunchErr = 4
)

// String says what the code means.
func (e HolepunchErr) String() string {
	switch e {
	case 0:
		return "no error"
	case HolepunchNoSuchPeer:
		return "no such peer"
	case HolepunchNotConnected:
		return "the relay is not connected to that peer"
	case HolepunchNoSupport:
		return "that peer does not support hole punching"
	case HolepunchNoSelf:
		return "that address is the relay itself"
	}
	return fmt.Sprintf("error code %d", uint32(e))
}

// Holepunch is one ut_holepunch message: msg_type, then the address
// (addr_type 0 for IPv4 or 1 for IPv6, the address, the port, all big
// endian), then err_code, which is 0 except in error messages.
type Holepunch struct {
	Type HolepunchType
	Addr netip.AddrPort
	Err  HolepunchErr
}

// Holepunch message lengths: 1+1+4+2+4 for IPv4, 1+1+16+2+4 for IPv6.
const (
	holepunchLen4 = 12
	holepunchLen6 = 24
)

// Marshal returns the message payload (after the extended ID). An
// IPv4-mapped IPv6 address is sent as IPv4. An invalid or zoned address
// or an unknown type is an error.
func (h Holepunch) Marshal() ([]byte, error) {
	if h.Type > HolepunchError {
		return nil, fmt.Errorf("wire: marshal ut_holepunch: unknown %v", h.Type)
	}
	a := h.Addr.Addr().Unmap()
	if !h.Addr.IsValid() || a.Zone() != "" {
		return nil, fmt.Errorf("wire: marshal ut_holepunch: invalid address %v", h.Addr)
	}
	b := make([]byte, 0, holepunchLen6)
	b = append(b, byte(h.Type))
	if a.Is4() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
	}
	b = append(b, a.AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, h.Addr.Port())
	return binary.BigEndian.AppendUint32(b, uint32(h.Err)), nil
}

// ParseHolepunch decodes a ut_holepunch payload. A length that does not
// match its addr_type (12 bytes for IPv4, 24 for IPv6, nothing trailing),
// an unknown msg_type or addr_type, or port 0 gives ErrMalformed. IPv4-
// mapped IPv6 addresses come back as IPv4.
func ParseHolepunch(b []byte) (Holepunch, error) {
	if len(b) < 2 {
		return Holepunch{}, fmt.Errorf("wire: parse ut_holepunch: %d bytes: %w", len(b), ErrMalformed)
	}
	h := Holepunch{Type: HolepunchType(b[0])}
	if h.Type > HolepunchError {
		return Holepunch{}, fmt.Errorf("wire: parse ut_holepunch: unknown %v: %w", h.Type, ErrMalformed)
	}
	var a netip.Addr
	switch {
	case b[1] == 0 && len(b) == holepunchLen4:
		a = netip.AddrFrom4([4]byte(b[2:6]))
	case b[1] == 1 && len(b) == holepunchLen6:
		a = netip.AddrFrom16([16]byte(b[2:18])).Unmap()
	default:
		return Holepunch{}, fmt.Errorf("wire: parse ut_holepunch: addr_type %d in %d bytes: %w", b[1], len(b), ErrMalformed)
	}
	rest := b[len(b)-6:]
	port := binary.BigEndian.Uint16(rest)
	if port == 0 {
		return Holepunch{}, fmt.Errorf("wire: parse ut_holepunch: port 0: %w", ErrMalformed)
	}
	h.Addr = netip.AddrPortFrom(a, port)
	h.Err = HolepunchErr(binary.BigEndian.Uint32(rest[2:]))
	return h, nil
}
