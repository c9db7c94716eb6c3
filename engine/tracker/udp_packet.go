package tracker

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// BEP 15 constants.
const (
	udpProtocolID  = 0x41727101980
	actionConnect  = 0
	actionAnnounce = 1
	actionError    = 3

	announceReqLen = 98
	// BEP 41 option types.
	optEnd     = 0
	optURLData = 2
)

// udpEvent maps an Event to its BEP 15 code.
func udpEvent(e Event) uint32 {
	switch e {
	case EventCompleted:
		return 1
	case EventStarted:
		return 2
	case EventStopped:
		return 3
	}
	return 0
}

// marshalConnect builds a connect request.
func marshalConnect(tx uint32) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[0:], udpProtocolID)
	binary.BigEndian.PutUint32(b[8:], actionConnect)
	binary.BigEndian.PutUint32(b[12:], tx)
	return b
}

// marshalAnnounce builds an announce request, followed by BEP 41 URL data
// when urlData is non-empty.
func marshalAnnounce(connID uint64, tx uint32, req Request, urlData string) []byte {
	b := make([]byte, announceReqLen, announceReqLen+len(urlData)+len(urlData)/255*2+3)
	be := binary.BigEndian
	be.PutUint64(b[0:], connID)
	be.PutUint32(b[8:], actionAnnounce)
	be.PutUint32(b[12:], tx)
	copy(b[16:36], req.InfoHash[:])
	copy(b[36:56], req.PeerID[:])
	be.PutUint64(b[56:], uint64(req.Downloaded))
	be.PutUint64(b[64:], uint64(req.Left))
	be.PutUint64(b[72:], uint64(req.Uploaded))
	be.PutUint32(b[80:], udpEvent(req.Event))
	// b[84:88] IP address: 0 means "use the sender's address".
	be.PutUint32(b[88:], req.Key)
	numWant := req.NumWant
	if numWant <= 0 {
		numWant = -1
	}
	be.PutUint32(b[92:], uint32(numWant))
	be.PutUint16(b[96:], req.Port)
	if urlData == "" {
		return b
	}
	for len(urlData) > 0 {
		n := min(len(urlData), 255)
		b = append(b, optURLData, byte(n))
		b = append(b, urlData[:n]...)
		urlData = urlData[n:]
	}
	return append(b, optEnd)
}

// parseConnectResponse returns the connection id of a connect response, or
// the tracker's error for an action 3 reply.
func parseConnectResponse(b []byte, tx uint32) (uint64, error) {
	if err := checkHeader(b, tx); err != nil {
		return 0, err
	}
	switch binary.BigEndian.Uint32(b) {
	case actionConnect:
		if len(b) < 16 {
			return 0, fmt.Errorf("%w: connect response of %d bytes", ErrBadResponse, len(b))
		}
		return binary.BigEndian.Uint64(b[8:]), nil
	case actionError:
		return 0, udpFailure(b)
	}
	return 0, fmt.Errorf("%w: unexpected action %d", ErrBadResponse, binary.BigEndian.Uint32(b))
}

// ParseUDPResponse parses a BEP 15 announce response (action 1) or error
// (action 3) whose transaction id must equal tx. Peers are 6-byte IPv4
// entries, or 18-byte IPv6 entries when ipv6 is true (the tracker was reached
// over IPv6). An error reply yields an error wrapping ErrTrackerFailure;
// anything else malformed wraps ErrBadResponse.
func ParseUDPResponse(b []byte, tx uint32, ipv6 bool) (Response, error) {
	if err := checkHeader(b, tx); err != nil {
		return Response{}, err
	}
	switch binary.BigEndian.Uint32(b) {
	case actionAnnounce:
	case actionError:
		return Response{}, udpFailure(b)
	default:
		return Response{}, fmt.Errorf("%w: unexpected action %d", ErrBadResponse, binary.BigEndian.Uint32(b))
	}
	if len(b) < 20 {
		return Response{}, fmt.Errorf("%w: announce response of %d bytes", ErrBadResponse, len(b))
	}
	be := binary.BigEndian
	r := Response{
		Interval: seconds(int64(int32(be.Uint32(b[8:])))),
		Leechers: clampCount(int64(int32(be.Uint32(b[12:])))),
		Seeders:  clampCount(int64(int32(be.Uint32(b[16:])))),
	}
	size := 6
	if ipv6 {
		size = 18
	}
	var err error
	if r.Peers, err = parseCompactPeers(nil, b[20:], size); err != nil {
		return Response{}, fmt.Errorf("%w: peers: %w", ErrBadResponse, err)
	}
	return r, nil
}

// checkHeader checks the 8-byte action/transaction header.
func checkHeader(b []byte, tx uint32) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: packet of %d bytes", ErrBadResponse, len(b))
	}
	if got := binary.BigEndian.Uint32(b[4:]); got != tx {
		return fmt.Errorf("%w: transaction id %#x, want %#x", ErrBadResponse, got, tx)
	}
	return nil
}

// udpFailure turns an action 3 packet into an ErrTrackerFailure error.
func udpFailure(b []byte) error {
	msg := strings.TrimRight(string(b[8:]), "\x00")
	return fmt.Errorf("%w: %s", ErrTrackerFailure, msg)
}
