package storage

import (
	"crypto/sha1"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// The piece checks side by side on the same 4 MiB piece: Go's crypto/sha256
// over the bytes (the floor for any SHA-256 scheme), BEP 52's Merkle hash
// of the piece (SHA-256 per 16 KiB block, then the tree above them), and
// v1's SHA-1. MB/s is b.SetBytes per op (go test -bench, make bench).

const benchPiece = 4 << 20

func benchData() []byte {
	b := make([]byte, benchPiece)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func BenchmarkPieceCryptoSHA256(b *testing.B) {
	data := benchData()
	b.SetBytes(benchPiece)
	for b.Loop() {
		sha256.Sum256(data)
	}
}

func BenchmarkPieceV2Merkle(b *testing.B) {
	data := benchData()
	b.SetBytes(benchPiece)
	for b.Loop() {
		pieceHash(data, benchPiece)
	}
}

func BenchmarkPieceV1SHA1(b *testing.B) {
	data := benchData()
	b.SetBytes(benchPiece)
	for b.Loop() {
		sha1.Sum(data)
	}
}
