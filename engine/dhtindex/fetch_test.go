package dhtindex

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/wire"
	"github.com/shoalp2p/shoal/internal/netguard"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

var loopbackDial = netguard.Policy{LoopbackOnly: true}.Dial

// infoCases are table cases for ParseInfo; their dictionaries also seed
// FuzzParseInfo.
var infoCases = []struct {
	name  string
	info  string
	want  Torrent
	error bool
}{
	{name: "single file", info: "d6:lengthi5e4:name9:hello.txt12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae",
		want: Torrent{Name: "hello.txt", Size: 5}},
	{name: "multi file", info: "d5:filesld6:lengthi3e4:pathl1:a5:b.txteed6:lengthi4e4:pathl2:..3:etceed6:lengthi1e4:pathl4:.pad1:0eee4:name3:dir12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae",
		want: Torrent{Name: "dir", Size: 8, Files: []string{"a/b.txt", "etc"}}},
	{name: "control characters", info: "d6:lengthi1e4:name6:a\nb\x00c\x1b12:piece lengthi1e6:pieces0:e",
		want: Torrent{Name: "a b c", Size: 1}},
	{name: "utf-8 name wins", info: "d6:lengthi1e4:name1:x10:name.utf-85:caf\xc3\xa912:piece lengthi1e6:pieces0:e",
		want: Torrent{Name: "café", Size: 1}},
	{name: "no name", info: "d6:lengthi1e12:piece lengthi1e6:pieces0:e", error: true},
	{name: "negative length", info: "d6:lengthi-1e4:name1:x12:piece lengthi1e6:pieces0:e", error: true},
	{name: "not a dict", info: "i42e", error: true},
	{name: "truncated", info: "d6:lengthi1e4:name", error: true},
}

func TestParseInfo(t *testing.T) {
	for _, tc := range infoCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInfo([20]byte{}, []byte(tc.info))
			if tc.error {
				if err == nil {
					t.Fatalf("parsed %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tc.want.Name || got.Size != tc.want.Size || strings.Join(got.Files, "|") != strings.Join(tc.want.Files, "|") {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	long := "d6:lengthi1e4:name2000:" + strings.Repeat("é", 1000) + "12:piece lengthi1e6:pieces0:e"
	got, err := ParseInfo([20]byte{}, []byte(long))
	if err != nil || len(got.Name) > maxNameBytes || !strings.HasPrefix(got.Name, "éé") || strings.ContainsRune(got.Name, '\uFFFD') {
		t.Fatalf("long name: %d bytes, %v", len(got.Name), err)
	}
}

func FuzzParseInfo(f *testing.F) {
	for _, tc := range infoCases {
		f.Add([]byte(tc.info))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseInfo([20]byte{}, b)
		if err != nil {
			return
		}
		if got.Name == "" || len(got.Name) > maxNameBytes || got.Size < 0 || len(got.Files) > maxPaths {
			t.Fatalf("accepted %+v", got)
		}
		for _, p := range got.Files {
			if len(p) > maxPathBytes || strings.ContainsAny(p, "\n\x00") || strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
				t.Fatalf("unsafe path %q", p)
			}
		}
	})
}

// fakePeer serves one connection: BEP 3 handshake for ih, then an
// extension handshake claiming size bytes of metadata, then data as the
// pieces asked for.
func fakePeer(t *testing.T, ih [20]byte, size int, data []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if _, err := wire.ReadHandshake(r); err != nil {
			return
		}
		wire.WriteHandshake(c, wire.Handshake{Reserved: wire.DefaultReserved(), InfoHash: ih})
		hs, _ := wire.ExtHandshake{M: map[string]int{wire.ExtMetadataName: 3}, MetadataSize: size}.Marshal()
		c.Write(wire.AppendExtended(nil, 0, hs))
		d := wire.NewDecoder(r, 1<<20)
		for {
			m, err := d.Next()
			if err != nil {
				return
			}
			if m.ID != wire.Extended || m.ExtendedID != 3 {
				continue
			}
			req, err := wire.ParseMetadataMsg(m.Payload)
			if err != nil {
				return
			}
			start := req.Piece * wire.MetadataPieceSize
			end := min(start+wire.MetadataPieceSize, len(data))
			b, _ := wire.MetadataMsg{Type: wire.MetadataData, Piece: req.Piece, TotalSize: len(data), Data: data[start:end]}.Marshal()
			c.Write(wire.AppendExtended(nil, ourMetadataID, b))
		}
	}()
	return ln.Addr().String()
}

// TestFetchMetadataHostile: a peer whose metadata does not hash to the
// infohash, or that claims more than the cap, gives nothing.
func TestFetchMetadataHostile(t *testing.T) {
	ctx := context.Background()
	good := []byte(infoCases[0].info)
	ih := sha1.Sum(good)
	b, err := FetchMetadata(ctx, loopbackDial, fakePeer(t, ih, len(good), good), ih, [20]byte{}, DefaultMaxMetadata)
	if err != nil || string(b) != string(good) {
		t.Fatalf("honest peer: %q, %v", b, err)
	}
	bad := []byte(strings.Replace(infoCases[0].info, "hello", "HELLO", 1))
	if _, err := FetchMetadata(ctx, loopbackDial, fakePeer(t, ih, len(bad), bad), ih, [20]byte{}, DefaultMaxMetadata); !errors.Is(err, ErrBadMetadata) {
		t.Fatalf("lying peer: %v, want ErrBadMetadata", err)
	}
	big := make([]byte, 3*wire.MetadataPieceSize)
	if _, err := FetchMetadata(ctx, loopbackDial, fakePeer(t, ih, len(big), big), ih, [20]byte{}, 2*wire.MetadataPieceSize); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Fatalf("oversized metadata: %v", err)
	}
	// A silent peer: the fetch ends at the context's deadline.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second)
		}
	}()
	tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := FetchMetadata(tctx, loopbackDial, ln.Addr().String(), ih, [20]byte{}, DefaultMaxMetadata); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("silent peer: %v after %v", err, time.Since(start))
	}
}

// TestFetchMetadataAria2 fetches a torrent's info dictionary from a real
// aria2 seeder, multi-piece metadata (many files), and checks it.
func TestFetchMetadataAria2(t *testing.T) {
	dir := t.TempDir()
	content := filepath.Join(dir, "Aria2 Metadata Album")
	if err := os.MkdirAll(content, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		b := make([]byte, 100)
		rand.Read(b)
		name := filepath.Join(content, "track "+strings.Repeat("x", 30)+string(rune('a'+i%26))+itoa(i%100)+".flac")
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	torrent := filepath.Join(dir, "album.torrent")
	if err := peerclients.CreateMktorrent(content, torrent); err != nil {
		needOrFail(t, err)
	}
	mi, err := metainfo.LoadFromFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	ih := mi.HashInfoBytes()
	a, err := peerclients.StartAria2(t, torrent, dir, true)
	needOrFail(t, err)
	var b []byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err = FetchMetadata(context.Background(), loopbackDial, a.PeerAddr, ih, [20]byte{'-', 'S', 'H'}, DefaultMaxMetadata)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second) // aria2 may still be checking its files
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= wire.MetadataPieceSize {
		t.Fatalf("metadata is %d bytes: want several pieces", len(b))
	}
	tor, err := ParseInfo(ih, b)
	if err != nil {
		t.Fatal(err)
	}
	if tor.Name != "Aria2 Metadata Album" || len(tor.Files) != maxPaths || tor.Size != 400*100 {
		t.Fatalf("parsed %q, %d files, %d bytes", tor.Name, len(tor.Files), tor.Size)
	}
	var info metainfo.Info
	if err := bencode.Unmarshal(b, &info); err != nil || len(info.Files) != 400 {
		t.Fatalf("metadata: %v, %d files", err, len(info.Files))
	}
}

// needOrFail skips when a client is missing, unless SHOAL_REQUIRE_PEERS=1.
func needOrFail(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, peerclients.ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1":
		t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
	default:
		t.Fatal(err)
	}
}
