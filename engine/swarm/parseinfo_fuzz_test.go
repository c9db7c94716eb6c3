package swarm

import (
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/storage"
)

// FuzzParseInfo feeds arbitrary bytes to ParseInfo, the decoder for info
// dictionaries from .torrent files and from peers (BEP 9): it must not
// panic, must refuse anything over the metadata limit, and what it accepts
// must survive a re-encode with the same name, sizes and pieces, so the
// storage layout built from it does not depend on how it was encoded.
func FuzzParseInfo(f *testing.F) {
	good, _ := bencode.Marshal(metainfo.Info{Name: "a", PieceLength: 16384, Length: 5, Pieces: make([]byte, 20)})
	multi, _ := bencode.Marshal(metainfo.Info{Name: "d", PieceLength: 16384, Pieces: make([]byte, 20),
		Files: []metainfo.FileInfo{{Length: 3, Path: []string{"x", "y"}}, {Length: 0, Path: []string{"z"}, PathUtf8: []string{"z"}}}})
	for _, b := range []string{string(good), string(multi), "de", "le", "i1e", "d4:name", "d4:infod4:name1:xee",
		"d6:lengthi-1e4:name2:..12:piece lengthi0e6:pieces0:e", "d5:filesld6:lengthi1e4:pathl2:..eee4:name1:xe"} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseInfo(b)
		if err != nil {
			return
		}
		if len(b) > maxMetadataSize {
			t.Fatalf("accepted %d bytes, over the %d limit", len(b), maxMetadataSize)
		}
		again, err := bencode.Marshal(info)
		if err != nil {
			return // e.g. an unencodable value the decoder let through
		}
		info2, err := ParseInfo(again)
		if err != nil {
			t.Fatalf("re-encoded info does not parse: %v", err)
		}
		if info2.BestName() != info.BestName() || info2.TotalLength() != info.TotalLength() ||
			info2.PieceLength != info.PieceLength || string(info2.Pieces) != string(info.Pieces) ||
			len(info2.Files) != len(info.Files) {
			t.Fatalf("re-encode changed the info: %+v vs %+v", info, info2)
		}
		_, err1 := storage.NewLayout(info)
		_, err2 := storage.NewLayout(info2)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("layout of info %v, of its re-encoding %v", err1, err2)
		}
	})
}
