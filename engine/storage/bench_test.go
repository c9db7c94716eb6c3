package storage

import (
	"testing"
)

// BenchmarkWriteHashPiece measures writing one 1 MiB piece spread over two
// files and hashing it back from disk.
func BenchmarkWriteHashPiece(b *testing.B) {
	const pl = 1 << 20
	fx := newFixture(b, pl, 5, fi(8*pl+pl/2, "a"), fi(8*pl-pl/2, "b"))
	s, err := Open(b.TempDir(), fx.layout)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetBytes(pl)
	for n := 0; b.Loop(); n++ {
		i := n % fx.layout.NumPieces
		if _, err := s.WriteAt(fx.piece(i), fx.layout.PieceOffset(i)); err != nil {
			b.Fatal(err)
		}
		sum, err := s.HashPiece(i)
		if err != nil {
			b.Fatal(err)
		}
		if sum != fx.layout.Hashes[i] {
			b.Fatalf("piece %d hash mismatch", i)
		}
	}
}
