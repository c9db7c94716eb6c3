package engine_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/overlay"
)

// TestSearchByV2Hash: on real engines (a supernode S, A sharing a hybrid
// and a v2-only torrent it made, B searching), B finds each torrent by
// its v1 infohash, its v2 infohash (hex, btmh multihash, magnet link) and
// a file's pieces root, with the v2 infohash in the hit and a btmh magnet;
// a root two torrents share finds both, and the hits for words carry
// their files' roots, the shared file counted as one file in both
// ("also in 1 other torrent"). A searching a hash finds the
// torrent in its own library (Local), and a search for words still works.
func TestSearchByV2Hash(t *testing.T) {
	a, b := enginetest.StartSearchNet(t)

	dir := t.TempDir()
	shared := enginetest.RandomFile(t, dir, "shared.bin", 100<<10)
	hybridDir := filepath.Join(dir, "Wombat Hybrid")
	v2Dir := filepath.Join(dir, "Wombat V2only")
	for _, d := range []string{hybridDir, v2Dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(shared)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "same.bin"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		enginetest.RandomFile(t, d, "own.bin", 50<<10)
	}
	hyb := createSeeded(t, a, hybridDir, engine.FormatHybrid)
	v2o := createSeeded(t, a, v2Dir, engine.FormatV2)
	hybRoots := piecesRoots(t, hyb.Torrent)
	v2Roots := piecesRoots(t, v2o.Torrent)
	if hybRoots["same.bin"] != v2Roots["same.bin"] || hybRoots["own.bin"] == v2Roots["own.bin"] {
		t.Fatalf("roots: hybrid %x, v2 %x", hybRoots, v2Roots)
	}
	same, own := hybRoots["same.bin"], v2Roots["own.bin"]

	enginetest.WaitFor(t, "a hit for 'wombat'", 60*time.Second, func() bool {
		defer time.Sleep(time.Second / overlay.DefaultQueryRate)
		hits := searchHits(t, b, "wombat")
		return hits[hyb.InfoHash].Name != "" && hits[v2o.InfoHash].Name != ""
	})
	// The shared file is one file in both hits: its pieces root is in
	// each hit's Roots, and the result set counts it.
	time.Sleep(time.Second / overlay.DefaultQueryRate)
	results := b.NewSearchResults()
	for _, h := range searchHits(t, b, "wombat") {
		results.Add(h)
	}
	for _, h := range results.Hits() {
		want := map[engine.InfoHash]map[string][32]byte{hyb.InfoHash: hybRoots, v2o.InfoHash: v2Roots}[h.InfoHash]
		if want == nil {
			continue
		}
		if len(h.Roots) != 2 || !slices.Contains(h.Roots, same) || !slices.Contains(h.Roots, want["own.bin"]) ||
			h.SameFiles != 1 || h.AlsoIn != 1 {
			t.Errorf("%s: roots %x, same files %d, also in %d; want its 2 roots, 1 file also in 1 other torrent",
				h.Name, h.Roots, h.SameFiles, h.AlsoIn)
		}
	}
	for _, tc := range []struct {
		name, words string
		want        []engine.Created
	}{
		{"hybrid v1 infohash", hyb.InfoHash.String(), []engine.Created{hyb}},
		{"hybrid v2 infohash", hyb.InfoHashV2, []engine.Created{hyb}},
		{"hybrid btmh", "1220" + hyb.InfoHashV2, []engine.Created{hyb}},
		{"hybrid magnet", "magnet:?xt=urn:btmh:1220" + hyb.InfoHashV2 + "&dn=x", []engine.Created{hyb}},
		{"v2-only v2 infohash", v2o.InfoHashV2, []engine.Created{v2o}},
		{"v2-only cut infohash", v2o.InfoHash.String(), []engine.Created{v2o}},
		{"v2-only root", hex.EncodeToString(own[:]), []engine.Created{v2o}},
		{"shared root", hex.EncodeToString(same[:]), []engine.Created{hyb, v2o}},
	} {
		time.Sleep(time.Second / overlay.DefaultQueryRate)
		hits := searchHits(t, b, tc.words)
		if len(hits) != len(tc.want) {
			t.Errorf("%s: %d hits %v, want %d", tc.name, len(hits), hits, len(tc.want))
		}
		for _, c := range tc.want {
			h, ok := hits[c.InfoHash]
			if !ok {
				t.Errorf("%s: %s not found", tc.name, c.Name)
				continue
			}
			if hex.EncodeToString(h.V2[:]) != c.InfoHashV2 || h.Local || len(h.Sources) == 0 {
				t.Errorf("%s: hit %+v, want v2 %s from A", tc.name, h, c.InfoHashV2)
			}
			m, err := metainfo.ParseMagnetV2Uri(h.Magnet)
			if err != nil || !m.V2InfoHash.Ok || hex.EncodeToString(m.V2InfoHash.Value[:]) != c.InfoHashV2 ||
				m.InfoHash.Ok != (c.InfoHash == hyb.InfoHash) {
				t.Errorf("%s: magnet %s (%v)", tc.name, h.Magnet, err)
			}
		}
	}
	for _, c := range []engine.Created{hyb, v2o} {
		hits := searchHits(t, a, c.InfoHashV2)
		if h := hits[c.InfoHash]; !h.Local || h.Origin() != "library" || h.Name != c.Name {
			t.Errorf("A's own search for %s: %+v, want it from the library", c.Name, hits)
		}
	}
}

// createSeeded has n make a torrent of dir in format and seed it.
func createSeeded(t *testing.T, n *enginetest.Node, dir string, f engine.TorrentFormat) engine.Created {
	t.Helper()
	c, err := n.CreateTorrent(context.Background(), engine.CreateRequest{Path: dir,
		Save: filepath.Join(t.TempDir(), filepath.Base(dir)+".torrent"), PieceLength: 32 << 10, Format: f, Seed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// piecesRoots maps each file name of a v2 or hybrid .torrent to its pieces root.
func piecesRoots(t *testing.T, torrent string) map[string][32]byte {
	t.Helper()
	mi, err := metainfo.LoadFromFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][32]byte)
	for fi := range info.UpvertedFilesIter() {
		if fi.PiecesRoot.Ok {
			p := fi.BestPath()
			out[p[len(p)-1]] = fi.PiecesRoot.Value
		}
	}
	return out
}

// searchHits runs one search to its end and returns its hits by infohash.
func searchHits(t *testing.T, n *enginetest.Node, words string) map[engine.InfoHash]engine.Hit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*overlay.DefaultAnswerTimeout)
	defer cancel()
	run, err := n.StartSearch(ctx, words)
	if err != nil {
		t.Logf("search %q: %v", words, err)
		return nil
	}
	out := make(map[engine.InfoHash]engine.Hit)
	for h := range run.Hits {
		out[h.InfoHash] = h
	}
	return out
}

// TestSearchShareMatchesV2: a file shared by drag and drop as a v1
// torrent (Settings.ShareFormat v1) and the same file in a v2-only torrent
// are one file to search: the share's hit carries its files' BEP 52
// pieces roots though its torrent has none, so both hits say "1 file also
// in 1 other torrent", and a search for the root finds both, from the
// overlay and from A's own library. The share's torrent stays v1.
func TestSearchShareMatchesV2(t *testing.T) {
	a, b := enginetest.StartSearchNet(t)

	dir := t.TempDir()
	shared := enginetest.RandomFile(t, dir, "shared.bin", 300<<10)
	shareDir := filepath.Join(dir, "Numbat Share")
	v2Dir := filepath.Join(dir, "Numbat V2only")
	data, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{shareDir, v2Dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "same.bin"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		enginetest.RandomFile(t, d, "own.bin", 40<<10)
	}
	v2o := createSeeded(t, a, v2Dir, engine.FormatV2)
	same := piecesRoots(t, v2o.Torrent)["same.bin"]
	sharesV1(t, a)
	shareIH, err := a.ShareSync(context.Background(), shareDir, nil)
	if err != nil {
		t.Fatal(err)
	}

	var hits map[engine.InfoHash]engine.Hit
	enginetest.WaitFor(t, "hits for 'numbat'", 60*time.Second, func() bool {
		defer time.Sleep(time.Second / overlay.DefaultQueryRate)
		hits = searchHits(t, b, "numbat")
		return hits[shareIH].Name != "" && hits[v2o.InfoHash].Name != ""
	})
	if h := hits[shareIH]; h.V2 != ([32]byte{}) || len(h.Roots) != 2 || !slices.Contains(h.Roots, same) {
		t.Fatalf("share's hit: v2 %x, roots %x; want a v1 torrent with its 2 files' roots, %x among them", h.V2, h.Roots, same)
	}
	results := b.NewSearchResults()
	for _, h := range hits {
		results.Add(h)
	}
	for _, h := range results.Hits() {
		if (h.InfoHash == shareIH || h.InfoHash == v2o.InfoHash) && (h.SameFiles != 1 || h.AlsoIn != 1) {
			t.Errorf("%s: same files %d, also in %d; want 1 file also in 1 other torrent", h.Name, h.SameFiles, h.AlsoIn)
		}
	}
	time.Sleep(time.Second / overlay.DefaultQueryRate)
	byRoot := searchHits(t, b, hex.EncodeToString(same[:]))
	if _, ok := byRoot[shareIH]; !ok || len(byRoot) != 2 {
		t.Errorf("search for the shared root: %v, want the share and the v2 torrent", byRoot)
	}
	if h := searchHits(t, a, hex.EncodeToString(same[:]))[shareIH]; !h.Local {
		t.Errorf("A's own search for the shared root: %+v, want the share from the library", h)
	}
}
