package picker

import (
	"testing"
	"time"
)

func all(int) bool { return true }

func TestPickCoversEveryBlockOnce(t *testing.T) {
	const pieceLen = 4 * BlockSize
	total := int64(10*pieceLen - 100) // short last piece
	p := New(10, pieceLen, total)
	seen := map[Block]bool{}
	var bytes int64
	for {
		bs := p.Pick(1, all, 7)
		if len(bs) == 0 {
			break
		}
		for _, b := range bs {
			if seen[b] {
				t.Fatalf("block %+v picked twice outside endgame", b)
			}
			seen[b] = true
			bytes += int64(b.Length)
			wanted, done, _ := p.Received(1, b)
			if !wanted {
				t.Fatalf("block %+v not wanted", b)
			}
			if done {
				p.MarkHave(b.Piece)
			}
		}
	}
	if bytes != total {
		t.Fatalf("picked %d bytes, want %d", bytes, total)
	}
	if !p.Complete() {
		t.Fatal("not complete after receiving every block")
	}
}

func TestRarestFirstAfterRandomStart(t *testing.T) {
	p := New(8, BlockSize, 8*BlockSize)
	for i := 0; i < randomFirst; i++ {
		p.MarkHave(i)
	}
	// Pieces 4..7: piece 6 is held by one peer, the others by three.
	for i := 4; i < 8; i++ {
		n := 3
		if i == 6 {
			n = 1
		}
		for j := 0; j < n; j++ {
			p.PeerHas(i)
		}
	}
	got := p.Pick(9, all, 1)
	if len(got) != 1 || got[0].Piece != 6 {
		t.Fatalf("picked %+v, want the rarest piece 6", got)
	}
}

func TestPartialPiecesFinishedFirst(t *testing.T) {
	p := New(4, 4*BlockSize, 16*BlockSize)
	first := p.Pick(1, all, 2)
	p.CancelPeer(1) // peer 1 choked us: its blocks go back to the pool
	got := p.Pick(2, all, 2)
	if got[0].Piece != first[0].Piece {
		t.Fatalf("peer 2 started piece %d, want partial piece %d", got[0].Piece, first[0].Piece)
	}
}

func TestEndgameDuplicatesAndCancels(t *testing.T) {
	p := New(1, BlockSize, BlockSize)
	a := p.Pick(1, all, 4)
	b := p.Pick(2, all, 4)
	if len(a) != 1 || len(b) != 1 || a[0] != b[0] {
		t.Fatalf("endgame: got %v and %v, want the same last block twice", a, b)
	}
	wanted, done, cancel := p.Received(2, b[0])
	if !wanted || !done || len(cancel) != 1 || cancel[0] != 1 {
		t.Fatalf("Received = %v %v %v, want cancel to peer 1", wanted, done, cancel)
	}
	if w, _, _ := p.Received(1, a[0]); w {
		t.Fatal("duplicate block counted as wanted")
	}
}

// TestNoDuplicatesBeforeEndgame: a peer that has nothing new for us gets
// no duplicate requests while other missing pieces are not requested yet,
// except for blocks stuck StealAfter on another peer; once every missing
// block is in flight, it does.
func TestNoDuplicatesBeforeEndgame(t *testing.T) {
	p := New(4, 2*BlockSize, 8*BlockSize)
	start := time.Now()
	p.now = func() time.Time { return start }
	onlyFirst := func(i int) bool { return i == 0 }
	if a := p.Pick(1, onlyFirst, 8); len(a) != 2 {
		t.Fatalf("first peer got %v, want piece 0's two blocks", a)
	}
	if b := p.Pick(2, onlyFirst, 8); len(b) != 0 {
		t.Fatalf("second peer got duplicates %v while pieces 1-3 are not requested", b)
	}
	stuck := start.Add(StealAfter + time.Millisecond)
	p.now = func() time.Time { return stuck }
	if b := p.Pick(2, onlyFirst, 1); len(b) != 1 || b[0].Piece != 0 {
		t.Fatalf("a block stuck for %v was not offered to an idle peer: %v", StealAfter, b)
	}
	if b := p.Pick(4, onlyFirst, 8); len(b) != 1 {
		t.Fatalf("fourth peer got %v, want only the one stuck block nobody duplicated", b)
	}
	p.now = func() time.Time { return start }
	if c := p.Pick(3, all, 6); len(c) != 6 {
		t.Fatalf("third peer got %v, want the six blocks of pieces 1-3", c)
	}
	if b := p.Pick(5, onlyFirst, 8); len(b) != 2 {
		t.Fatalf("in endgame a fifth peer got %v, want both blocks of piece 0 a third time", b)
	}
}

func TestOnlyPiecesPeerHasAndWanted(t *testing.T) {
	p := New(6, BlockSize, 6*BlockSize)
	p.SetWanted(2, false)
	has := func(i int) bool { return i == 2 || i == 4 }
	got := p.Pick(1, has, 10)
	if len(got) != 1 || got[0].Piece != 4 {
		t.Fatalf("picked %+v, want only piece 4", got)
	}
}

func TestSequential(t *testing.T) {
	p := New(5, BlockSize, 5*BlockSize)
	p.SetSequential(true)
	got := p.Pick(1, all, 3)
	for i, b := range got {
		if b.Piece != i {
			t.Fatalf("sequential pick %d is piece %d", i, b.Piece)
		}
	}
}

func TestFailedPieceRequestedAgain(t *testing.T) {
	p := New(1, 2*BlockSize, 2*BlockSize)
	for _, b := range p.Pick(1, all, 2) {
		p.Received(1, b)
	}
	p.MarkFailed(0)
	if got := p.Pick(2, all, 2); len(got) != 2 {
		t.Fatalf("after failure picked %d blocks, want 2", len(got))
	}
}

// TestRefetchOnlyBadBlocks: a piece whose blocks are all in and failed
// its hash is not picked again until Refetch names its bad blocks; then
// only those are picked, and receiving them completes the piece.
func TestRefetchOnlyBadBlocks(t *testing.T) {
	const pieceLen = 4 * BlockSize
	p := New(1, pieceLen, pieceLen)
	for _, b := range p.Pick(1, all, 10) {
		p.Received(1, b)
	}
	if bs := p.Pick(2, all, 10); len(bs) != 0 {
		t.Fatalf("a held piece was picked again: %+v", bs)
	}
	p.Refetch(0, []int{1, 3})
	bs := p.Pick(2, all, 10)
	want := []Block{{0, BlockSize, BlockSize}, {0, 3 * BlockSize, BlockSize}}
	if len(bs) != len(want) {
		t.Fatalf("picked %+v, want %+v", bs, want)
	}
	for i, b := range bs {
		if b != want[i] {
			t.Fatalf("picked %+v, want %+v", bs, want)
		}
	}
	_, done, _ := p.Received(2, bs[0])
	if done {
		t.Fatal("piece done with one bad block still missing")
	}
	if _, done, _ = p.Received(2, bs[1]); !done {
		t.Fatal("piece not done after its bad blocks came again")
	}
}
