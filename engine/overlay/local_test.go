package overlay

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestLocalSharesKeptAcrossRestart: a node restarted on its index file
// with the same library writes none of its own entries again; only what
// changed (one renamed, one removed) is written, and every kept entry
// names the new port. Before, reopening dropped the local leaf's entries
// and the first promotion re-indexed the whole library (150 ms of CPU for
// 1,000 items, every start).
func TestLocalSharesKeptAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	shares := make([]Entry, 200)
	for i := range shares {
		shares[i] = Entry{InfoHash: [20]byte{byte(i), byte(i >> 8), 0xee}, Name: fmt.Sprintf("Quokka field notes %d", i), Size: int64(1000 + i),
			Files: []string{fmt.Sprintf("quokka/%d/a.txt", i), fmt.Sprintf("quokka/%d/b.txt", i)}}
	}
	shares[0].V2 = [32]byte{1, 2, 3}
	shares[0].Roots = [][32]byte{{4}, {5}}
	run := func(addr string, entries []Entry, done func(s *Supernode) bool) *Supernode {
		t.Helper()
		s, err := NewSupernode(SupernodeConfig{Addr: addr, IndexPath: path})
		if err != nil {
			t.Fatal(err)
		}
		l := NewLeaf(LeafConfig{PeerAddr: addr, Local: s})
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		go func() { stopped <- l.Run(ctx) }()
		l.SetShares(entries)
		waitFor(t, 10*time.Second, "the local shares indexed", func() bool { return done(s) })
		cancel()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	count := func(s *Supernode, where string, args ...any) int {
		var n int
		if err := s.idx.db.QueryRow(`SELECT count(*) FROM entries WHERE leaf = 0 AND `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	s := run("127.0.0.1:7000", shares, func(s *Supernode) bool { return count(s, "1") == len(shares) })
	if n := s.idx.upserts.Load(); n != int64(len(shares)) {
		t.Fatalf("first run wrote %d entries, want %d", n, len(shares))
	}

	changed := append([]Entry(nil), shares[1:]...)
	changed[0].Name = "Quokka field notes, revised"
	var sources, renamed int
	s = run("127.0.0.1:7001", changed, func(s *Supernode) bool {
		sources = count(s, "source = ?", "127.0.0.1:7001")
		renamed = count(s, "name = ?", changed[0].Name)
		return count(s, "1") == len(changed) && sources == len(changed) && renamed == 1
	})
	if n := s.idx.upserts.Load(); n != 1 {
		t.Fatalf("a restart with one entry renamed and one removed wrote %d entries, want 1", n)
	}

	// The kept entries are searchable under the new source.
	s2, err := NewSupernode(SupernodeConfig{Addr: "127.0.0.1:7001", IndexPath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	hits := searchOne(t, s2, "quokka 57")
	if len(hits) != 1 || len(hits[0].Sources) != 1 || hits[0].Sources[0] != "127.0.0.1:7001" {
		t.Fatalf("search after restart: %+v", hits)
	}
	if !inTable(t, s2, "quokka revised") {
		t.Fatal("the renamed entry is not in the keyword table after a restart")
	}
}

// TestLocalSharesIndexedAsLeaf: a node that is not (yet) a supernode keeps
// its shares in its own index, so that its first promotion costs no
// re-indexing of the library (150 ms per 1,000 items, in the idle bench's
// first minute); they count once it is promoted.
func TestLocalSharesIndexedAsLeaf(t *testing.T) {
	p := fastRoles(Promotion{}) // AloneAfter an hour: it stays a leaf
	n := listenNode(t).start(t, SupernodeConfig{Auto: true, Promotion: p, MaxLeaves: 10})
	l := runLeaf(t, LeafConfig{PeerAddr: n.addr, Dial: loopback.Dial, Finder: StaticFinder{}, Local: n.sn})
	l.SetShares([]Entry{{InfoHash: ih(1), Name: "Bilby burrows", Size: 5}, {InfoHash: ih(2), Name: "Numbat diet", Size: 6}})
	waitFor(t, 10*time.Second, "the shares in the local index", func() bool {
		var c int
		n.sn.idx.db.QueryRow(`SELECT count(*) FROM entries WHERE leaf = 0`).Scan(&c)
		return c == 2
	})
	if n.sn.Active() {
		t.Fatal("the node promoted itself; the test wants a leaf")
	}
	before := n.sn.idx.upserts.Load()
	n.sn.activate(time.Now())
	if hits := searchOne(t, n.sn, "numbat"); len(hits) != 1 || hits[0].Sources[0] != n.addr {
		t.Fatalf("search after promotion: %+v", hits)
	}
	time.Sleep(200 * time.Millisecond)
	if got := n.sn.idx.upserts.Load(); got != before {
		t.Fatalf("the promotion wrote %d entries again, want none", got-before)
	}
}
