package storage

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// BenchmarkCreateShare is Share's hashing of one 32 MiB file (from the
// page cache): a v1 torrent alone, and with its pieces root beside it
// (CreateOptions.Roots), which Share does.
func BenchmarkCreateShare(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "f")
	data := make([]byte, 32<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, roots := range []bool{false, true} {
		b.Run(fmt.Sprintf("roots=%v", roots), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := CreateShare(context.Background(), path, CreateOptions{Format: V1Only, Roots: roots}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
