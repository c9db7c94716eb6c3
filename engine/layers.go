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
	"github.com/anacrolix/torrent/merkle"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine/swarm"
)

// A v2-only torrent's piece layers (BEP 52) live outside its info
// dictionary, so the database row does not hold them. They are kept in
// DataDir/piece-layers/<infohash>, bencoded as the .torrent file's
// "piece layers" dictionary, and read back when the transfer resumes.
//
// A hybrid torrent's swarm runs as v1 and uses no piece layers, but a
// .torrent saved from it (TorrentFile) must carry them to be whole for v2
// clients. They are kept in DataDir/piece-layers/<infohash>.hybrid, which
// no resume reads, and read only when such a file is saved. Removing the
// transfer deletes both (dropPieceLayers).

func (e *Engine) layersPath(ih InfoHash) string {
	return filepath.Join(e.cfg.DataDir, "piece-layers", hex.EncodeToString(ih[:]))
}

func (e *Engine) hybridLayersPath(ih InfoHash) string { return e.layersPath(ih) + ".hybrid" }

// saveSourceLayers stores the piece layers of a torrent about to be added:
// a v2-only torrent's for its swarm, a hybrid's for its .torrent file.
func (e *Engine) saveSourceLayers(spec source) error {
	if err := e.savePieceLayers(spec.ih, spec.layers); err != nil {
		return err
	}
	return writeLayers(e.hybridLayersPath(spec.ih), spec.hybridLayers)
}

// savePieceLayers stores a v2-only torrent's layers for ih (nothing when
// there are none).
func (e *Engine) savePieceLayers(ih InfoHash, layers map[[32]byte][][32]byte) error {
	return writeLayers(e.layersPath(ih), layers)
}

// writeLayers writes layers to p as the bencoded "piece layers"
// dictionary; nothing when there are none.
func writeLayers(p string, layers map[[32]byte][][32]byte) error {
	if len(layers) == 0 {
		return nil
	}
	b, err := bencode.Marshal(encodeLayers(layers))
	if err != nil {
		return fmt.Errorf("save piece layers: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("save piece layers: %w", err)
	}
	// Whole or not at all: a v2-only torrent cannot be verified or served
	// without its layers, so a crash must not leave half a file.
	if err := writeWhole(p, 0o644, writeBytes(b)); err != nil {
		return fmt.Errorf("save piece layers: %w", err)
	}
	return nil
}

// encodeLayers is the BEP 52 "piece layers" dict: each file's pieces
// root mapped to its piece hashes, concatenated.
func encodeLayers(layers map[[32]byte][][32]byte) map[string]string {
	enc := make(map[string]string, len(layers))
	for root, hashes := range layers {
		b := make([]byte, 0, 32*len(hashes))
		for _, h := range hashes {
			b = append(b, h[:]...)
		}
		enc[string(root[:])] = string(b)
	}
	return enc
}

// loadPieceLayers reads what savePieceLayers stored; nil when there is
// none (the swarm then refuses a v2-only torrent with a clear error).
func (e *Engine) loadPieceLayers(ih InfoHash) map[[32]byte][][32]byte {
	return e.readLayers(e.layersPath(ih))
}

// readLayers reads what writeLayers wrote to p; nil when there is none.
func (e *Engine) readLayers(p string) map[[32]byte][][32]byte {
	b, err := os.ReadFile(p)
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

// dropDamagedLayers checks t's piece layers (from DataDir/piece-layers or
// a .torrent file) against the pieces roots of info before the swarm
// trusts them: a layer of the wrong length, or whose Merkle root is not
// its file's pieces root (a damaged file), is dropped with a warning, and
// the swarm fetches it from peers again (saveFetchedLayers then rewrites
// the file). Trusting it would fail every piece of the file and ban the
// honest peers that sent them.
func (e *Engine) dropDamagedLayers(t *transfer, info *metainfo.Info) {
	t.mu.Lock()
	layers := t.layers
	t.mu.Unlock()
	if len(layers) == 0 || !info.HasV2() {
		return
	}
	good := make(map[[32]byte][][32]byte, len(layers))
	pad := metainfo.HashForPiecePad(info.PieceLength)
	bad := 0
	for f := range info.UpvertedFilesIter() {
		if !f.PiecesRoot.Ok || f.Length <= info.PieceLength {
			continue
		}
		root := f.PiecesRoot.Value
		layer, ok := layers[root]
		if !ok {
			continue
		}
		if int64(len(layer)) != (f.Length+info.PieceLength-1)/info.PieceLength || merkle.RootWithPadHash(layer, pad) != root {
			bad++
			continue
		}
		good[root] = layer
	}
	if bad == 0 {
		return
	}
	e.log.Warn("saved piece layers damaged; fetching them again from peers", "infohash", t.ih, "files", bad)
	t.mu.Lock()
	t.layers, t.layersDamaged = good, true
	t.mu.Unlock()
}

// saveFetchedLayers keeps the piece layers a v2 download from a magnet
// link fetched from peers, so that a restart needs no peer for them; it
// also rewrites a saved file dropDamagedLayers found damaged.
func (e *Engine) saveFetchedLayers(t *transfer, sw *swarm.Swarm) {
	t.mu.Lock()
	have := t.layers != nil && !t.layersDamaged
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
	t.layers, t.layersDamaged = layers, false
	t.mu.Unlock()
}

// dropPieceLayers deletes the piece-layer files kept for ih, when its
// transfer is removed (with its files or not): they are Shoal's own, and
// nothing reads them once the transfer is gone.
func (e *Engine) dropPieceLayers(ih InfoHash) {
	for _, p := range []string{e.layersPath(ih), e.hybridLayersPath(ih)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.log.Warn("remove piece layers", "infohash", ih.String(), "err", err)
		}
	}
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
