package engine

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
)

// A v2-only torrent's piece layers (BEP 52) live outside its info
// dictionary, so the database row does not hold them. They are kept in
// DataDir/piece-layers/<infohash>, bencoded as the .torrent file's
// "piece layers" dictionary, and read back when the transfer resumes.

func (e *Engine) layersPath(ih InfoHash) string {
	return filepath.Join(e.cfg.DataDir, "piece-layers", hex.EncodeToString(ih[:]))
}

// savePieceLayers stores layers for ih (nothing for v1 and hybrid).
func (e *Engine) savePieceLayers(ih InfoHash, layers map[[32]byte][][32]byte) error {
	if len(layers) == 0 {
		return nil
	}
	enc := make(map[string]string, len(layers))
	for root, hashes := range layers {
		b := make([]byte, 0, 32*len(hashes))
		for _, h := range hashes {
			b = append(b, h[:]...)
		}
		enc[string(root[:])] = string(b)
	}
	b, err := bencode.Marshal(enc)
	if err != nil {
		return fmt.Errorf("save piece layers: %w", err)
	}
	p := e.layersPath(ih)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("save piece layers: %w", err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("save piece layers: %w", err)
	}
	return nil
}

// loadPieceLayers reads what savePieceLayers stored; nil when there is
// none (the swarm then refuses a v2-only torrent with a clear error).
func (e *Engine) loadPieceLayers(ih InfoHash) map[[32]byte][][32]byte {
	b, err := os.ReadFile(e.layersPath(ih))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			e.log.Warn("read piece layers", "err", err)
		}
		return nil
	}
	var enc map[string]string
	if err := bencode.Unmarshal(b, &enc); err != nil {
		e.log.Warn("read piece layers", "err", err)
		return nil
	}
	out := make(map[[32]byte][][32]byte, len(enc))
	for root, s := range enc {
		if len(root) != 32 || len(s)%32 != 0 {
			continue
		}
		hashes := make([][32]byte, len(s)/32)
		for i := range hashes {
			copy(hashes[i][:], s[32*i:])
		}
		out[[32]byte([]byte(root))] = hashes
	}
	return out
}

// saveFetchedLayers keeps the piece layers a v2 download from a magnet
// link fetched from peers, so that a restart needs no peer for them.
func (e *Engine) saveFetchedLayers(t *transfer, sw *swarm.Swarm) {
	t.mu.Lock()
	have := t.layers != nil
	t.mu.Unlock()
	if have {
		return
	}
	layers := sw.PieceLayers()
	if layers == nil {
		return
	}
	if err := e.savePieceLayers(t.ih, layers); err != nil {
		e.log.Warn("save fetched piece layers", "err", err)
		return
	}
	t.mu.Lock()
	t.layers = layers
	t.mu.Unlock()
}

// isV2Magnet reports whether source is a magnet link with a v2 infohash
// (btmh) and no v1 one: its swarm is v2-only, and announces v2 from its
// first handshake.
func isV2Magnet(source string) bool {
	if !strings.HasPrefix(source, "magnet:") {
		return false
	}
	m, err := metainfo.ParseMagnetV2Uri(source)
	return err == nil && m.V2InfoHash.Ok && !m.InfoHash.Ok
}

// ShareFormat is what Share makes of a file or folder: v1 for now, not the
// hybrid `shoal create` makes by default. Seen on Debian 12: Transmission
// 3.00 cannot parse a hybrid (libtorrent's or Shoal's: "Error parsing
// .torrent file"), and aria2 1.36 computes another infohash for one, so a
// hybrid share could not be fetched by magnet link with either.
const ShareFormat = storage.V1Only
