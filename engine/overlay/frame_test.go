package overlay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

const testID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

// goodMessages round-trip through a frame unchanged.
var goodMessages = []*message{
	{Type: typeHello, Role: roleLeaf, Port: 6881},
	{Type: typeHello, Role: roleSuper, Addr: "127.0.0.1:7000"},
	{Type: typeHello, Role: roleSuper, Addr: "[::1]:7000"},
	{Type: typeWelcome, Addr: "127.0.0.1:7000"},
	{Type: typePing},
	{Type: typeError, Code: CodeFull, Text: "full", Supernodes: []string{"127.0.0.1:1", "127.0.0.1:2"}},
	{Type: typeError, Code: CodeRateLimited, ID: testID},
	{Type: typeShare, Add: []wireEntry{{InfoHash: hash20(ih(1)), Name: "a <b> & c", Size: 5, Files: []string{"x/y"}}}, Del: []hash20{hash20(ih(2))}},
	{Type: typeQuery, ID: testID, Words: "café NEAR \"x\"", Hops: 3},
	{Type: typeHits, ID: testID, Hits: []wireHit{{InfoHash: hash20(ih(3)), Name: "n", Size: 1, Sources: []string{"127.0.0.1:9"}}}},
	{Type: typeHits, ID: testID, Answered: "127.0.0.1:7", Asked: []string{"127.0.0.1:7", "[::1]:8"}},
	{Type: typeQuery, ID: testID, Words: "x", Hops: 2, QKeys: []uint32{1, 4294967295}, Route: []routeHop{{"127.0.0.1:1", "127.0.0.1:2"}}},
	{Type: typeAdvert, Origin: "127.0.0.1:1", Seq: 9, Base: 8, Bits: 12, Table: []byte{1, 2, 3}, Links: []string{"127.0.0.1:2"}, Leaves: 3, Cap: 300},
	{Type: typeDigest, Digest: []digestEntry{{Origin: "127.0.0.1:1", Seq: 7}}},
	{Type: typeTableReq, Origin: "127.0.0.1:1"},
	{Type: typeMode, Standby: true},
	{Type: typeHello, Role: roleLeaf, Port: 1, Standby: true},
	{Type: typeHello, Role: roleDialBack, Port: 6881, ID: testID},
	{Type: typeHello, Role: roleProbe, ID: testID},
	{Type: typeHello, Role: roleProbe},
	{Type: typeWelcome, Addr: "203.0.113.11:6881", Target: "203.0.113.11:6881"},
	{Type: typeError, Code: CodeDialBackFailed, Text: "connection refused", Target: "203.0.113.12:6881"},
}

// badPayloads must be refused with ErrMalformed.
var badPayloads = []string{
	``,
	`null`,
	`[]`,
	`{"type":"bogus"}`,
	`{"type":"hello"}`,
	`{"type":"hello","role":"leaf","port":0}`,
	`{"type":"hello","role":"leaf","port":70000}`,
	`{"type":"hello","role":"super","addr":"nohostport"}`,
	`{"type":"hello","role":"super","addr":":7000"}`,
	`{"type":"welcome"}`,
	`{"type":"error"}`,
	`{"type":"error","code":"x","supernodes":["bad"]}`,
	`{"type":"error","code":"x","id":"not-a-uuid"}`,
	`{"type":"query","words":"x"}`,
	`{"type":"query","id":"` + testID + `","hops":-1}`,
	`{"type":"query","id":"` + testID + `","hops":256}`,
	`{"type":"share","add":[{"ih":"00"}]}`,
	`{"type":"share","del":["zz00000000000000000000000000000000000000"]}`,
	`{"type":"share","add":"x"}`,
	`{"type":"hits","id":"` + testID + `","hits":[{"ih":"` + strings.Repeat("0", 39) + `"}]}`,
	`{"type":"hits","id":"` + testID + `","answered":"nowhere"}`,
	`{"type":"hits","id":"` + testID + `","asked":["127.0.0.1:0"]}`,
	`{"type":"ping","port":"x"}`,
	`{"type":"query","id":"` + testID + `","route":[["127.0.0.1:1","nope"]]}`,
	`{"type":"query","id":"` + testID + `","keys":[-1]}`,
	`{"type":"advert","origin":"127.0.0.1:1"}`,
	`{"type":"advert","origin":"127.0.0.1:1","seq":5,"base":5}`,
	`{"type":"advert","origin":"x","seq":5}`,
	`{"type":"advert","origin":"127.0.0.1:1","seq":5,"bits":33}`,
	`{"type":"advert","origin":"127.0.0.1:1","seq":5,"links":["bad"]}`,
	`{"type":"advert","origin":"127.0.0.1:1","seq":5,"leaves":-1}`,
	`{"type":"advert","origin":"127.0.0.1:1","seq":5,"table":"!!"}`,
	`{"type":"digest","digest":[{"o":"bad","s":1}]}`,
	`{"type":"tablereq"}`,
	`{"type":`,
	`{"type":"hello","role":"dialback","port":6881}`,
	`{"type":"hello","role":"dialback","port":0,"id":"` + testID + `"}`,
	`{"type":"hello","role":"dialback","port":65536,"id":"` + testID + `"}`,
	`{"type":"hello","role":"probe","id":"nope"}`,
	`{"type":"error","code":"dialback_failed","target":"nohostport"}`,
	`{"type":"welcome","addr":"127.0.0.1:1","target":"127.0.0.1:0"}`,
}

func frameOf(payload string) []byte {
	b := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

func TestFrameRoundTrip(t *testing.T) {
	t.Parallel()
	for _, m := range goodMessages {
		b, err := encodeFrame(m)
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		got, err := readFrame(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		b2, _ := encodeFrame(got)
		if !bytes.Equal(b, b2) {
			t.Errorf("round trip changed frame:\n%s\n%s", b, b2)
		}
	}
}

func TestFrameRejects(t *testing.T) {
	t.Parallel()
	for _, p := range badPayloads {
		if _, err := readFrame(bytes.NewReader(frameOf(p))); !errors.Is(err, ErrMalformed) {
			t.Errorf("payload %q: err %v, want ErrMalformed", p, err)
		}
	}
}

func TestFrameLimits(t *testing.T) {
	t.Parallel()
	hdr := binary.BigEndian.AppendUint32(nil, MaxFrameSize+1)
	if _, err := readFrame(bytes.NewReader(hdr)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized header: %v", err)
	}
	big := &message{Type: typeQuery, ID: testID, Words: strings.Repeat("x", MaxFrameSize)}
	if _, err := encodeFrame(big); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized encode: %v", err)
	}
	if _, err := readFrame(bytes.NewReader(frameOf(`{"type":"ping"}`)[:10])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: %v", err)
	}
	if Magic[0] == 19 {
		t.Fatal("Magic must not start like a BitTorrent handshake")
	}
}

func TestBatchBySize(t *testing.T) {
	t.Parallel()
	items := make([]wireEntry, 50)
	for i := range items {
		items[i] = wireEntry{InfoHash: hash20(ih(byte(i))), Name: strings.Repeat("n", 1000)}
	}
	batches := batchBySize(items, 10_000, 1000)
	total := 0
	for _, b := range batches {
		total += len(b)
		if f, err := encodeFrame(&message{Type: typeShare, Add: b}); err != nil || len(f) > 10_000+200 {
			t.Fatalf("batch of %d: %d bytes, %v", len(b), len(f), err)
		}
	}
	if total != 50 || len(batches) < 5 {
		t.Fatalf("%d items in %d batches", total, len(batches))
	}
	if got := batchBySize(items, 1<<20, 7); len(got) != 8 {
		t.Fatalf("count cap: %d batches, want 8", len(got))
	}
}

// FuzzDecodeFrame feeds arbitrary bytes to the frame decoder: it must never
// panic, and whatever it accepts must re-encode to a frame it accepts again
// unchanged.
func FuzzDecodeFrame(f *testing.F) {
	for _, m := range goodMessages {
		b, _ := encodeFrame(m)
		f.Add(b)
	}
	for _, p := range badPayloads {
		f.Add(frameOf(p))
	}
	f.Add(binary.BigEndian.AppendUint32(nil, MaxFrameSize+1))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := readFrame(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := encodeFrame(m)
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) {
				return // escaping can grow a payload near the cap
			}
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		m2, err := readFrame(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", b, err)
		}
		if b2, _ := encodeFrame(m2); !bytes.Equal(b, b2) {
			t.Fatalf("unstable:\n%s\n%s", b, b2)
		}
	})
}

func TestPingFrameConstant(t *testing.T) {
	t.Parallel()
	b, err := encodeFrame(&message{Type: typePing})
	if err != nil || !bytes.Equal(b, pingFrame) {
		t.Fatalf("encoded ping %q, constant %q (%v)", b, pingFrame, err)
	}
	if m, err := decodeMessage(pingFrame[4:]); err != nil || m.Type != typePing {
		t.Fatalf("%+v %v", m, err)
	}
}
