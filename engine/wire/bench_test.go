package wire

import (
	"testing"
)

// pieceStream returns n encoded Piece messages with 16 KiB blocks.
func pieceStream(n int) []byte {
	block := make([]byte, 16<<10)
	var stream []byte
	for i := range n {
		stream = AppendMessage(stream, Message{ID: Piece, Index: uint32(i), Begin: 0, Payload: block})
	}
	return stream
}

func BenchmarkDecodePiece(b *testing.B) {
	d := NewDecoder(&loopReader{data: pieceStream(64)}, 1<<20)
	b.SetBytes(13 + 16<<10)
	b.ReportAllocs()
	for b.Loop() {
		m, err := d.Next()
		if err != nil || m.ID != Piece || len(m.Payload) != 16<<10 {
			b.Fatalf("Next = %v len %d, %v", m.ID, len(m.Payload), err)
		}
	}
}

func BenchmarkDecodePieceInto(b *testing.B) {
	d := NewDecoder(&loopReader{data: pieceStream(64)}, 1<<20)
	dst := make([]byte, 16<<10)
	get := func(_, _, n uint32) []byte { return dst[:n] }
	b.SetBytes(13 + 16<<10)
	b.ReportAllocs()
	for b.Loop() {
		m, err := d.ReadPieceInto(get)
		if err != nil || m.ID != Piece || len(m.Payload) != 16<<10 {
			b.Fatalf("ReadPieceInto = %v len %d, %v", m.ID, len(m.Payload), err)
		}
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	buf := make([]byte, 0, 17*256)
	b.SetBytes(17)
	b.ReportAllocs()
	var i uint32
	for b.Loop() {
		if len(buf) == cap(buf) {
			buf = buf[:0]
		}
		buf = AppendRequest(buf, i, 16<<10, 16<<10)
		i++
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	var stream []byte
	for i := range 1024 {
		stream = AppendRequest(stream, uint32(i), 0, 16<<10)
	}
	d := NewDecoder(&loopReader{data: stream}, 1<<20)
	b.SetBytes(17)
	b.ReportAllocs()
	for b.Loop() {
		if m, err := d.Next(); err != nil || m.ID != Request {
			b.Fatalf("Next = %v, %v", m.ID, err)
		}
	}
}
