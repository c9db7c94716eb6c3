package tracker

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testTx = 0xa1b2c3d4

func udpHeader(action uint32, tx uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, action), tx)
}

func udpAnnounceReply(tx uint32, interval, leechers, seeders int32, peers string) string {
	b := udpHeader(1, tx)
	for _, v := range []int32{interval, leechers, seeders} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return string(b) + peers
}

// udpParseCases are the ParseUDPResponse table and the fuzz seed corpus.
var udpParseCases = []struct {
	name    string
	pkt     string
	ipv6    bool
	want    Response
	wantErr error
}{
	{name: "ipv4 peers", pkt: udpAnnounceReply(testTx, 1800, 3, 5, "\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50"),
		want: Response{Interval: 30 * time.Minute, Leechers: 3, Seeders: 5,
			Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("10.0.0.2:80")}}},
	{name: "no peers", pkt: udpAnnounceReply(testTx, 60, 0, 1, ""), want: Response{Interval: time.Minute, Seeders: 1}},
	{name: "ipv6 peers", ipv6: true,
		pkt:  udpAnnounceReply(testTx, 60, 0, 0, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1b\x58"),
		want: Response{Interval: time.Minute, Peers: []netip.AddrPort{ap("[::1]:7000")}}},
	{name: "negative interval and counts", pkt: udpAnnounceReply(testTx, -1, -2, -3, ""), want: Response{}},
	{name: "port 0 dropped", pkt: udpAnnounceReply(testTx, 1, 0, 0, "\x7f\x00\x00\x01\x00\x00"),
		want: Response{Interval: time.Second}},
	{name: "error", pkt: string(udpHeader(3, testTx)) + "go away\x00", wantErr: ErrTrackerFailure},
	{name: "peer length", pkt: udpAnnounceReply(testTx, 1, 0, 0, "\x7f\x00\x00\x01\x1a"), wantErr: ErrBadResponse},
	{name: "ipv6 length", ipv6: true, pkt: udpAnnounceReply(testTx, 1, 0, 0, "\x7f\x00\x00\x01\x1a\xe1"), wantErr: ErrBadResponse},
	{name: "wrong tx", pkt: udpAnnounceReply(testTx+1, 1, 0, 0, ""), wantErr: ErrBadResponse},
	{name: "wrong action", pkt: string(udpHeader(0, testTx)) + "\x00\x00\x00\x00\x00\x00\x00\x01", wantErr: ErrBadResponse},
	{name: "short header", pkt: "\x00\x00\x00\x01\xa1\xb2", wantErr: ErrBadResponse},
	{name: "short announce", pkt: string(udpHeader(1, testTx)) + "\x00\x00\x00\x10", wantErr: ErrBadResponse},
	{name: "empty", pkt: "", wantErr: ErrBadResponse},
}

func TestParseUDPResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range udpParseCases {
		got, err := ParseUDPResponse([]byte(tc.pkt), testTx, tc.ipv6)
		if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if len(got.Peers) == 0 {
			got.Peers = nil
		}
		if tc.wantErr == nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseConnectResponse(t *testing.T) {
	t.Parallel()
	ok := binary.BigEndian.AppendUint64(udpHeader(0, testTx), 0x0102030405060708)
	cases := []struct {
		name    string
		pkt     []byte
		want    uint64
		wantErr error
	}{
		{"ok", ok, 0x0102030405060708, nil},
		{"short", ok[:12], 0, ErrBadResponse},
		{"tx", binary.BigEndian.AppendUint64(udpHeader(0, 1), 1), 0, ErrBadResponse},
		{"error", append(udpHeader(3, testTx), "busy"...), 0, ErrTrackerFailure},
		{"announce action", append(udpHeader(1, testTx), make([]byte, 12)...), 0, ErrBadResponse},
	}
	for _, tc := range cases {
		got, err := parseConnectResponse(tc.pkt, testTx)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
			t.Errorf("%s: got %#x, %v; want %#x, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestMarshalAnnounceURLData(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("p", 299)
	cases := []struct {
		name, url, wantOpts string
	}{
		{"none", "", ""},
		{"short", "/ann?x=1", "\x02\x08/ann?x=1\x00"},
		{"chunked", long, "\x02\xff" + long[:255] + "\x02\x2d" + long[255:] + "\x00"},
	}
	for _, tc := range cases {
		b := marshalAnnounce(1, 2, Request{NumWant: 30}, tc.url)
		if len(b) < announceReqLen || string(b[announceReqLen:]) != tc.wantOpts {
			t.Errorf("%s: options %q, want %q", tc.name, b[min(len(b), announceReqLen):], tc.wantOpts)
		}
		if nw := binary.BigEndian.Uint32(b[92:]); nw != 30 {
			t.Errorf("%s: num_want %d", tc.name, nw)
		}
	}
}
