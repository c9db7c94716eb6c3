package engine

import (
	"bytes"
	"crypto/sha1"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
	infohash_v2 "github.com/anacrolix/torrent/types/infohash-v2"

	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// Magnet builds a v1 magnet link for an infohash (BEP 9).
func Magnet(ih InfoHash, name string) string {
	m := metainfo.Magnet{InfoHash: metainfo.Hash(ih), DisplayName: name}
	return m.String()
}

// magnetOf builds a magnet link: btih for v1 torrents, btih and btmh for
// hybrids, btmh alone for v2-only torrents (whose infohash is the v2 one
// cut to 20 bytes).
func magnetOf(ih InfoHash, v2 [32]byte, name string) string {
	if v2 == ([32]byte{}) {
		return Magnet(ih, name)
	}
	m := metainfo.MagnetV2{DisplayName: name}
	m.V2InfoHash.Ok, m.V2InfoHash.Value = true, infohash_v2.T(v2)
	if [20]byte(v2[:20]) != [20]byte(ih) {
		m.InfoHash.Ok, m.InfoHash.Value = true, metainfo.Hash(ih)
	}
	return m.String()
}

// infoMagnet is the magnet link of the torrent known by ih whose info
// dictionary is info: a hybrid's names both infohashes (ih may be either:
// one added by a btmh link is known by its cut v2 one), so that v1 and v2
// clients alike can use it, and a v2-only torrent's its v2 one alone.
func infoMagnet(ih InfoHash, info []byte, name string) string {
	if !bytes.Contains(info, metaV2) {
		return Magnet(ih, name)
	}
	v1 := ih
	if torrentfile.LooksHybrid(info) {
		v1 = sha1.Sum(info)
	}
	return magnetOf(v1, torrentfile.V2Hash(info), name)
}

// magnetLink is t's magnet link, worked out once from its info
// dictionary (info, nil while unknown); until then the magnet link it was
// added with, or a v1 link for its infohash.
func (t *transfer) magnetLink(info []byte, name string) string {
	t.mu.Lock()
	link := t.magnet
	t.mu.Unlock()
	if link != "" {
		return link
	}
	if info == nil {
		if strings.HasPrefix(t.source, "magnet:") {
			return t.source
		}
		return Magnet(t.ih, name)
	}
	link = infoMagnet(t.ih, info, name)
	t.mu.Lock()
	t.magnet = link
	t.mu.Unlock()
	return link
}
