package tracker

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzParseConnectResponse feeds arbitrary UDP packets to the BEP 15
// connect-response parser: it must not panic, must fail with ErrBadResponse
// or ErrTrackerFailure, and on success return bytes 8..16 of a 16+ byte
// action-0 packet carrying our transaction id.
func FuzzParseConnectResponse(f *testing.F) {
	ok := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, actionConnect), 7), 0x1122334455667788)
	fail := append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, actionError), 7), "go away\x00"...)
	for _, b := range [][]byte{ok, fail, ok[:15], ok[:8], ok[:3], nil, marshalConnect(7)} {
		f.Add(b, uint32(7))
	}
	f.Add(ok, uint32(8))
	f.Fuzz(func(t *testing.T, b []byte, tx uint32) {
		id, err := parseConnectResponse(b, tx)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrTrackerFailure) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if len(b) < 16 || binary.BigEndian.Uint32(b) != actionConnect || binary.BigEndian.Uint32(b[4:]) != tx {
			t.Fatalf("accepted %x for tx %d", b, tx)
		}
		if id != binary.BigEndian.Uint64(b[8:]) {
			t.Fatalf("connection id %#x, packet says %#x", id, binary.BigEndian.Uint64(b[8:]))
		}
	})
}
