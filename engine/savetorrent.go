package engine

import (
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// ErrNoMetadata is returned by TorrentFile for a transfer whose metadata
// has not arrived yet (a magnet link still looking for peers).
var ErrNoMetadata = errors.New("engine: the torrent's metadata is not known yet")

// TorrentFile returns a .torrent file for a transfer or shared item: its
// info dictionary byte for byte (so the file has the same infohash), its
// trackers, and the piece layers (BEP 52) of a v2-only or hybrid torrent
// (a hybrid's as they came in the .torrent file it was added or created
// from; one from a magnet link has them once it has finished and the
// background work has read them from its files: keepHybridLayers).
func (e *Engine) TorrentFile(ih InfoHash) ([]byte, error) {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	sw, layers := t.sw, t.layers
	t.mu.Unlock()
	if sw == nil {
		sw = e.swarmOf(t) // a library item that waits
	}
	if sw == nil {
		return nil, ErrNoMetadata
	}
	_, raw := sw.Info()
	if raw == nil {
		return nil, ErrNoMetadata
	}
	if len(layers) == 0 {
		layers = e.readLayers(e.hybridLayersPath(ih))
	}
	top := map[string]any{"info": bencode.Bytes(raw), "created by": CreatedBy}
	if len(t.trackers) > 0 && len(t.trackers[0]) > 0 {
		top["announce"] = t.trackers[0][0]
		top["announce-list"] = t.trackers
	}
	if len(layers) > 0 {
		top["piece layers"] = encodeLayers(layers)
	}
	b, err := bencode.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("engine: torrent file: %w", err)
	}
	return b, nil
}

// SaveTorrent writes TorrentFile(ih) to path. The file appears whole or
// not at all: it is written beside path and renamed over it.
func (e *Engine) SaveTorrent(ih InfoHash, path string) error {
	b, err := e.TorrentFile(ih)
	if err != nil {
		return err
	}
	if err := writeWhole(path, 0o644, writeBytes(b)); err != nil {
		return fmt.Errorf("engine: save torrent: %w", err)
	}
	return nil
}
