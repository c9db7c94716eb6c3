package storage

import (
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// FuzzNewLayout feeds bencoded info dictionaries to NewLayout: it must
// either fail or return only clean relative paths below the name whose
// lengths add up to the total.
func FuzzNewLayout(f *testing.F) {
	for _, tc := range layoutCases() {
		if tc.info == nil || len(tc.info.Files) > 1000 || tc.info.TotalLength() > 1<<30 {
			continue
		}
		b, err := bencode.Marshal(tc.info)
		if err != nil {
			f.Fatalf("%s: %v", tc.name, err)
		}
		f.Add(b)
	}
	f.Add([]byte("d4:name1:t12:piece lengthi16384e6:lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaae"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var info metainfo.Info
		if err := bencode.Unmarshal(b, &info); err != nil {
			return
		}
		l, err := NewLayout(&info)
		if err != nil {
			return
		}
		checkLayoutInvariants(t, l)
	})
}
