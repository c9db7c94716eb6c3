package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// msgEqual compares messages, treating nil and empty payloads as equal.
func msgEqual(a, b Message) bool {
	return a.KeepAlive == b.KeepAlive && a.ID == b.ID && a.Index == b.Index && a.Begin == b.Begin &&
		a.Length == b.Length && a.ExtendedID == b.ExtendedID && a.Port == b.Port && bytes.Equal(a.Payload, b.Payload)
}

// validMessages pairs messages with their exact wire encoding.
var validMessages = []struct {
	m    Message
	wire string
}{
	{Message{KeepAlive: true}, "\x00\x00\x00\x00"},
	{Message{ID: Choke}, "\x00\x00\x00\x01\x00"},
	{Message{ID: Unchoke}, "\x00\x00\x00\x01\x01"},
	{Message{ID: Interested}, "\x00\x00\x00\x01\x02"},
	{Message{ID: NotInterested}, "\x00\x00\x00\x01\x03"},
	{Message{ID: Have, Index: 0x01020304}, "\x00\x00\x00\x05\x04\x01\x02\x03\x04"},
	{Message{ID: BitfieldMsg, Payload: []byte{0xff, 0x80}}, "\x00\x00\x00\x03\x05\xff\x80"},
	{Message{ID: BitfieldMsg}, "\x00\x00\x00\x01\x05"},
	{Message{ID: Request, Index: 1, Begin: 0x4000, Length: 0x4000},
		"\x00\x00\x00\x0d\x06\x00\x00\x00\x01\x00\x00\x40\x00\x00\x00\x40\x00"},
	{Message{ID: Piece, Index: 2, Begin: 3, Payload: []byte("block")},
		"\x00\x00\x00\x0e\x07\x00\x00\x00\x02\x00\x00\x00\x03block"},
	{Message{ID: Piece, Index: 2, Begin: 3}, "\x00\x00\x00\x09\x07\x00\x00\x00\x02\x00\x00\x00\x03"},
	{Message{ID: Cancel, Index: 7, Begin: 8, Length: 9},
		"\x00\x00\x00\x0d\x08\x00\x00\x00\x07\x00\x00\x00\x08\x00\x00\x00\x09"},
	{Message{ID: Port, Port: 6881}, "\x00\x00\x00\x03\x09\x1a\xe1"},
	{Message{ID: Suggest, Index: 5}, "\x00\x00\x00\x05\x0d\x00\x00\x00\x05"},
	{Message{ID: HaveAll}, "\x00\x00\x00\x01\x0e"},
	{Message{ID: HaveNone}, "\x00\x00\x00\x01\x0f"},
	{Message{ID: Reject, Index: 1, Begin: 2, Length: 3},
		"\x00\x00\x00\x0d\x10\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03"},
	{Message{ID: AllowedFast, Index: 0xfffffffe}, "\x00\x00\x00\x05\x11\xff\xff\xff\xfe"},
	{Message{ID: Extended, ExtendedID: 0, Payload: []byte("de")}, "\x00\x00\x00\x04\x14\x00de"},
	{Message{ID: Extended, ExtendedID: 3}, "\x00\x00\x00\x02\x14\x03"},
	{Message{ID: 99, Payload: []byte{1, 2}}, "\x00\x00\x00\x03\x63\x01\x02"},
	{Message{ID: 10}, "\x00\x00\x00\x01\x0a"},
}

func TestAppendMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range validMessages {
		if got := AppendMessage([]byte("x"), tc.m); string(got) != "x"+tc.wire {
			t.Errorf("AppendMessage(%v) = %q, want %q", tc.m.ID, got[1:], tc.wire)
		}
	}
}

func TestConvenienceAppenders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  []byte
		want Message
	}{
		{"request", AppendRequest(nil, 1, 2, 3), Message{ID: Request, Index: 1, Begin: 2, Length: 3}},
		{"cancel", AppendCancel(nil, 4, 5, 6), Message{ID: Cancel, Index: 4, Begin: 5, Length: 6}},
		{"reject", AppendReject(nil, 7, 8, 9), Message{ID: Reject, Index: 7, Begin: 8, Length: 9}},
		{"have", AppendHave(nil, 42), Message{ID: Have, Index: 42}},
		{"piece", append(AppendPieceHeader(nil, 3, 16384, 4), "abcd"...),
			Message{ID: Piece, Index: 3, Begin: 16384, Payload: []byte("abcd")}},
		{"extended", AppendExtended(nil, 2, []byte("xy")), Message{ID: Extended, ExtendedID: 2, Payload: []byte("xy")}},
	}
	for _, tc := range tests {
		if want := AppendMessage(nil, tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s: appender wrote %q, AppendMessage %q", tc.name, tc.got, want)
		}
	}
}

func TestDecoderValid(t *testing.T) {
	t.Parallel()
	var stream []byte
	for _, tc := range validMessages {
		stream = append(stream, tc.wire...)
	}
	readers := map[string]func([]byte) io.Reader{
		"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for name, mk := range readers {
		d := NewDecoder(mk(stream), 1<<10)
		for _, tc := range validMessages {
			m, err := d.Next()
			if err != nil || !msgEqual(m, tc.m) {
				t.Fatalf("%s: Next = %+v, %v; want %+v", name, m, err, tc.m)
			}
		}
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("%s: Next at end = %v, want io.EOF", name, err)
		}
	}
}

// decoderErrorCases are streams whose first message must fail to decode
// with maxLen 64. They also seed FuzzDecoder.
var decoderErrorCases = []struct {
	name string
	in   string
	want error
}{
	{"truncated length", "\x00\x00\x00", io.ErrUnexpectedEOF},
	{"truncated body", "\x00\x00\x00\x05\x04\x00\x00", io.ErrUnexpectedEOF},
	{"truncated id", "\x00\x00\x00\x01", io.ErrUnexpectedEOF},
	{"choke with payload", "\x00\x00\x00\x02\x00\x01", ErrMalformed},
	{"have_all with payload", "\x00\x00\x00\x02\x0e\x01", ErrMalformed},
	{"short have", "\x00\x00\x00\x04\x04\x00\x00\x00", ErrMalformed},
	{"long have", "\x00\x00\x00\x06\x04\x00\x00\x00\x00\x00", ErrMalformed},
	{"short request", "\x00\x00\x00\x0c\x06" + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", ErrMalformed},
	{"long cancel", "\x00\x00\x00\x0e\x08" + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", ErrMalformed},
	{"short reject", "\x00\x00\x00\x02\x10\x00", ErrMalformed},
	{"short allowed_fast", "\x00\x00\x00\x01\x11", ErrMalformed},
	{"short suggest", "\x00\x00\x00\x03\x0d\x00\x00", ErrMalformed},
	{"long port", "\x00\x00\x00\x04\x09\x00\x00\x00", ErrMalformed},
	{"short piece", "\x00\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00", ErrMalformed},
	{"empty extended", "\x00\x00\x00\x01\x14", ErrMalformed},
	{"oversize", "\x00\x00\x00\x41\x05", ErrMessageTooLong},
	{"huge", "\xff\xff\xff\xff\x07", ErrMessageTooLong},
}

func TestDecoderErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range decoderErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewDecoder(bytes.NewReader([]byte(tc.in)), 64).Next()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Next error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecoderResyncsAfterMalformed(t *testing.T) {
	t.Parallel()
	stream := "\x00\x00\x00\x02\x01\xff" + "\x00\x00\x00\x05\x04\x00\x00\x00\x09"
	d := NewDecoder(bytes.NewReader([]byte(stream)), 64)
	if _, err := d.Next(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("first Next error = %v, want ErrMalformed", err)
	}
	if m, err := d.Next(); err != nil || !msgEqual(m, Message{ID: Have, Index: 9}) {
		t.Fatalf("second Next = %+v, %v; want have 9", m, err)
	}
}

func TestDecoderLargeMessages(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte{0xa5}, 3*readBufferSize)
	msgs := []Message{
		{ID: BitfieldMsg, Payload: big},
		{ID: Have, Index: 1},
		{ID: Piece, Index: 4, Begin: 5, Payload: big[:readBufferSize+100]},
		{ID: Extended, ExtendedID: 1, Payload: big[:10]},
	}
	var stream []byte
	for _, m := range msgs {
		stream = AppendMessage(stream, m)
	}
	d := NewDecoder(iotest.HalfReader(bytes.NewReader(stream)), uint32(len(big)+1))
	for _, want := range msgs {
		if m, err := d.Next(); err != nil || !msgEqual(m, want) {
			t.Fatalf("Next = %v len %d, %v; want %v len %d", m.ID, len(m.Payload), err, want.ID, len(want.Payload))
		}
	}
	if cap(d.buf) > len(big)+1 {
		t.Fatalf("decoder buffer grew to %d, above maxLen %d", cap(d.buf), len(big)+1)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("Next at end = %v, want io.EOF", err)
	}
}

func TestDecoderDefaultLimit(t *testing.T) {
	t.Parallel()
	over := AppendMessage(nil, Message{ID: BitfieldMsg, Payload: make([]byte, DefaultMaxMessageLen)})
	if _, err := NewDecoder(bytes.NewReader(over), 0).Next(); !errors.Is(err, ErrMessageTooLong) {
		t.Fatalf("error = %v, want ErrMessageTooLong", err)
	}
	at := AppendMessage(nil, Message{ID: BitfieldMsg, Payload: make([]byte, DefaultMaxMessageLen-1)})
	if m, err := NewDecoder(bytes.NewReader(at), 0).Next(); err != nil || len(m.Payload) != DefaultMaxMessageLen-1 {
		t.Fatalf("Next = %d bytes, %v", len(m.Payload), err)
	}
}

func TestReadPieceInto(t *testing.T) {
	t.Parallel()
	block := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	var stream []byte
	stream = AppendMessage(stream, Message{ID: Piece, Index: 1, Begin: 0, Payload: block})
	stream = AppendMessage(stream, Message{ID: Have, Index: 3})
	stream = AppendMessage(stream, Message{ID: Piece, Index: 2, Begin: 16384, Payload: block[:100]})
	stream = AppendMessage(stream, Message{ID: Piece, Index: 9, Begin: 0, Payload: block[:10]})

	dstBuf := make([]byte, len(block))
	var calls []uint32
	dst := func(index, begin, length uint32) []byte {
		calls = append(calls, index)
		switch index {
		case 1:
			return dstBuf[:length]
		case 2:
			return dstBuf[:length-1] // wrong size: decoder must fall back
		}
		return nil
	}
	d := NewDecoder(iotest.OneByteReader(bytes.NewReader(stream)), 1<<15)
	m, err := d.ReadPieceInto(dst)
	if err != nil || m.ID != Piece || m.Index != 1 || !bytes.Equal(dstBuf, block) || &m.Payload[0] != &dstBuf[0] {
		t.Fatalf("first ReadPieceInto = %v %d, %v; block not read into dst", m.ID, m.Index, err)
	}
	for _, want := range []Message{{ID: Have, Index: 3}, {ID: Piece, Index: 2, Begin: 16384, Payload: block[:100]},
		{ID: Piece, Index: 9, Payload: block[:10]}} {
		if m, err := d.ReadPieceInto(dst); err != nil || !msgEqual(m, want) {
			t.Fatalf("ReadPieceInto = %+v, %v; want %+v", m, err, want)
		}
	}
	if len(calls) != 3 || calls[0] != 1 || calls[1] != 2 || calls[2] != 9 {
		t.Fatalf("dst called for pieces %v, want [1 2 9]", calls)
	}
}

func TestReadPieceIntoTruncated(t *testing.T) {
	t.Parallel()
	msg := AppendMessage(nil, Message{ID: Piece, Index: 1, Payload: make([]byte, 100)})
	dst := func(_, _, n uint32) []byte { return make([]byte, n) }
	for _, cut := range []int{6, 12, 50} {
		_, err := NewDecoder(bytes.NewReader(msg[:cut]), 1<<10).ReadPieceInto(dst)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: error = %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
}

func TestMessageIDString(t *testing.T) {
	t.Parallel()
	for id, want := range map[MessageID]string{Choke: "choke", BitfieldMsg: "bitfield", Reject: "reject_request",
		Extended: "extended", 10: "MessageID(10)", 255: "MessageID(255)"} {
		if got := id.String(); got != want {
			t.Errorf("MessageID(%d).String() = %q, want %q", uint8(id), got, want)
		}
	}
}

// loopReader serves data over and over, forever.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	var stream []byte
	block := make([]byte, 16<<10)
	for i := range 8 {
		stream = AppendMessage(stream, Message{ID: Piece, Index: uint32(i), Payload: block})
		stream = AppendRequest(stream, uint32(i), 0, 16<<10)
		stream = AppendHave(stream, uint32(i))
	}
	d := NewDecoder(&loopReader{data: stream}, 1<<20)
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Decoder.Next allocates %.1f times per message, want 0", n)
	}
	buf := make([]byte, 0, 64)
	dst := func(_, _, n uint32) []byte { return block[:n] }
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := d.ReadPieceInto(dst); err != nil {
			t.Fatal(err)
		}
		buf = AppendRequest(buf[:0], 1, 2, 3)
		buf = AppendHave(buf, 1)
		buf = AppendPieceHeader(buf, 1, 2, 3)
	}); n != 0 {
		t.Errorf("ReadPieceInto and appenders allocate %.1f times, want 0", n)
	}
}
