package tracker

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// httpParseCases are the ParseHTTPResponse table and the fuzz seed corpus.
var httpParseCases = []struct {
	name    string
	body    string
	want    Response
	wantErr error
}{
	{
		name: "compact",
		body: "d8:completei5e10:incompletei3e8:intervali1800e12:min intervali900e5:peers12:" +
			"\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50e",
		want: Response{Interval: 1800 * time.Second, MinInterval: 900 * time.Second, Seeders: 5, Leechers: 3,
			Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("10.0.0.2:80")}},
	},
	{
		name: "dict peers",
		body: "d8:intervali60e5:peersld2:ip9:127.0.0.17:peer id20:AAAAAAAAAAAAAAAAAAAA4:porti7000eed2:ip3:::14:porti7001eed2:ip11:example.org4:porti1eed2:ip9:127.0.0.24:porti70000eeee",
		want: Response{Interval: time.Minute,
			Peers: []netip.AddrPort{ap("127.0.0.1:7000"), ap("[::1]:7001")}},
	},
	{
		name: "peers6 and warning",
		body: "d8:intervali30e5:peers0:6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1b\x5815:warning message4:slowe",
		want: Response{Interval: 30 * time.Second, Warning: "slow", Peers: []netip.AddrPort{ap("[::1]:7000")}},
	},
	{
		name: "tracker id, port 0 dropped, trailing newline",
		body: "d8:intervali10e5:peers12:\x7f\x00\x00\x01\x00\x00\x7f\x00\x00\x03\x00\x0110:tracker id3:xyze\n",
		want: Response{Interval: 10 * time.Second, TrackerID: "xyz", Peers: []netip.AddrPort{ap("127.0.0.3:1")}},
	},
	{
		name: "negative values clamp",
		body: "d8:completei-1e8:intervali-5e5:peers0:e",
		want: Response{},
	},
	{
		name:    "failure reason",
		body:    "d14:failure reason12:unregistered15:warning message2:hie",
		want:    Response{Warning: "hi"},
		wantErr: ErrTrackerFailure,
	},
	{name: "compact length", body: "d5:peers5:\x7f\x00\x00\x01\x1ae", wantErr: ErrBadResponse},
	{name: "peers6 length", body: "d6:peers66:\x7f\x00\x00\x01\x1a\xe1e", wantErr: ErrBadResponse},
	{name: "peers integer", body: "d5:peersi5ee", wantErr: ErrBadResponse},
	{name: "not a dict", body: "i42e", wantErr: ErrBadResponse},
	{name: "truncated", body: "d8:intervali18", wantErr: ErrBadResponse},
	{name: "empty", body: "", wantErr: ErrBadResponse},
	{name: "html", body: "<html>nope</html>", wantErr: ErrBadResponse},
	{name: "huge string length", body: "d5:peers999999999999:xe", wantErr: ErrBadResponse},
	{name: "interval string", body: "d8:interval2:60e", wantErr: ErrBadResponse},
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestParseHTTPResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range httpParseCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseHTTPResponse([]byte(tc.body))
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == ErrBadResponse {
				return
			}
			if len(got.Peers) == 0 {
				got.Peers = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseHTTPResponseFailureText(t *testing.T) {
	t.Parallel()
	_, err := ParseHTTPResponse([]byte("d14:failure reason12:unregisterede"))
	if err == nil || err.Error() != "tracker: failure: unregistered" {
		t.Fatalf("err = %v", err)
	}
}
