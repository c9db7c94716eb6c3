package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoalp2p/shoal/engine/state"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
)

// TorrentFormat is the kind of torrent CreateTorrent and Share make. Its
// text form (hybrid, v1, v2) is what settings store and the CLI takes.
type TorrentFormat int

// Torrent formats.
const (
	// FormatHybrid is v1 and v2 in one torrent (BEP 52 with BEP 47 pad
	// files), as qBittorrent 4.4 and later make them; the default.
	FormatHybrid TorrentFormat = iota
	// FormatV1 is a BEP 3 torrent, for the oldest clients.
	FormatV1
	// FormatV2 is a BEP 52 torrent without v1 parts.
	FormatV2
)

// formatWords are the text forms of the TorrentFormats, in their order.
var formatWords = [...]string{FormatHybrid: "hybrid", FormatV1: "v1", FormatV2: "v2"}

// String is f's text form: hybrid, v1 or v2.
func (f TorrentFormat) String() string {
	if f < 0 || int(f) >= len(formatWords) {
		return fmt.Sprintf("TorrentFormat(%d)", int(f))
	}
	return formatWords[f]
}

// ParseTorrentFormat reads a TorrentFormat's text form (any case).
func ParseTorrentFormat(s string) (TorrentFormat, error) {
	for f, w := range formatWords {
		if strings.EqualFold(strings.TrimSpace(s), w) {
			return TorrentFormat(f), nil
		}
	}
	return 0, fmt.Errorf("unknown torrent format %q: choose hybrid, v1 or v2", s)
}

// MarshalText is f's text form, for saved settings.
func (f TorrentFormat) MarshalText() ([]byte, error) {
	if f < 0 || int(f) >= len(formatWords) {
		return nil, fmt.Errorf("engine: no such torrent format %d", int(f))
	}
	return []byte(formatWords[f]), nil
}

// UnmarshalText reads f's text form.
func (f *TorrentFormat) UnmarshalText(b []byte) error {
	v, err := ParseTorrentFormat(string(b))
	if err == nil {
		*f = v
	}
	return err
}

// CreateRequest says what torrent CreateTorrent makes and where.
type CreateRequest struct {
	Path        string   // the file or folder to make it of
	Save        string   // where to write the .torrent file
	Trackers    []string // announce URLs, one tier each (BEP 12); may be empty
	PieceLength int64    // bytes, a power of two from 16 KiB; 0 picks one for the size
	Private     bool     // BEP 27: peers from its trackers only, no DHT or PEX
	Comment     string
	Format      TorrentFormat
	Seed        bool // seed it at once from where it is, with its trackers
}

// Created is what CreateTorrent made.
type Created struct {
	InfoHash   InfoHash // the v1 infohash (for a v2-only torrent, the v2 one cut to 20 bytes)
	InfoHashV2 string   // hex SHA-256 of the info dictionary, unless FormatV1
	Name       string
	Size       int64
	Torrent    string // the .torrent file written
}

// errNoSave is CreateTorrent's error without a place to save to.
var errNoSave = errors.New("engine: create torrent: no .torrent file to save to")

// CreateTorrent hashes req.Path into a torrent the way `shoal create`
// does (same options, same infohashes), writes it to req.Save and, with
// req.Seed, seeds it from where the files are (no second hashing pass).
// progress(hashed, total), if not nil, is called about ten times a second
// from the calling goroutine. ctx cancels the hashing.
func (e *Engine) CreateTorrent(ctx context.Context, req CreateRequest, progress func(hashed, total int64)) (Created, error) {
	if err := e.closedErr(); err != nil {
		return Created{}, err
	}
	if strings.TrimSpace(req.Save) == "" {
		return Created{}, errNoSave
	}
	abs, err := filepath.Abs(req.Path)
	if err != nil {
		return Created{}, fmt.Errorf("engine: create torrent: %w", err)
	}
	mi, err := storage.Create(ctx, abs, storage.CreateOptions{PieceLength: req.PieceLength, Trackers: req.Trackers,
		Comment: req.Comment, CreatedBy: CreatedBy, Private: req.Private, Format: storageFormat(req.Format)}, progress)
	if err != nil {
		return Created{}, fmt.Errorf("engine: create torrent of %s: %w", abs, err)
	}
	if err := writeTorrent(req.Save, mi.Write); err != nil {
		return Created{}, err
	}
	spec, err := loadTorrentFile(req.Save)
	if err != nil {
		return Created{}, err
	}
	c := Created{InfoHash: spec.ih, Name: filepath.Base(abs), Torrent: req.Save}
	if req.Format != FormatV1 {
		v2 := sha256.Sum256(mi.InfoBytes)
		c.InfoHashV2 = hex.EncodeToString(v2[:])
	}
	if info, err := mi.UnmarshalInfo(); err == nil {
		c.Size = storage.ContentLength(&info)
	}
	if req.Seed {
		if err := e.seedCreated(spec, req.Save, filepath.Dir(abs)); err != nil {
			return c, err
		}
	}
	return c, nil
}

// CreatedBy is the "created by" of the torrents Shoal makes.
const CreatedBy = "Shoal 0.1"

func storageFormat(f TorrentFormat) storage.Format {
	switch f {
	case FormatV1:
		return storage.V1Only
	case FormatV2:
		return storage.V2Only
	}
	return storage.Hybrid
}

// writeTorrent writes a .torrent file whole or not at all (writeWhole).
func writeTorrent(path string, write func(w io.Writer) error) error {
	if err := writeWhole(path, 0o644, write); err != nil {
		return fmt.Errorf("engine: save torrent %s: %w", path, err)
	}
	return nil
}

// seedCreated adds a torrent just made from the files in dir as a
// transfer that has every piece: it seeds at once, announcing to its
// trackers, and comes back after a restart like any finished download.
func (e *Engine) seedCreated(spec source, torrent, dir string) error {
	e.mu.Lock()
	_, exists := e.transfers[spec.ih]
	e.mu.Unlock()
	if exists {
		return nil // already seeded or downloaded here
	}
	info, err := swarm.ParseInfo(spec.info)
	if err != nil {
		return fmt.Errorf("engine: seed new torrent: %w", err)
	}
	layout, err := storage.NewLayout(info)
	if err != nil {
		return fmt.Errorf("engine: seed new torrent: %w", err)
	}
	have := make([]bool, layout.NumPieces)
	bitfield := make([]byte, (len(have)+7)/8)
	for i := range have {
		have[i] = true
		bitfield[i/8] |= 0x80 >> (i % 8)
	}
	now := time.Now()
	t := &transfer{ih: spec.ih, dir: dir, source: torrent, name: spec.name, trackers: spec.trackers,
		added: now, completed: now, checked: true, layers: spec.layers, qpos: e.nextQueuePos()}
	if err := e.saveSourceLayers(spec); err != nil {
		return fmt.Errorf("engine: seed new torrent: %w", err)
	}
	row := state.TransferRow{InfoHash: spec.ih, Name: spec.name, Dir: dir, Source: torrent, Info: spec.info,
		State: string(StateDownloading), Bitfield: bitfield, Added: now, Completed: now, Checked: true}
	ctx := context.Background()
	if err := e.db.PutTransfer(ctx, row); err != nil {
		return fmt.Errorf("engine: seed new torrent: %w", err)
	}
	if err := e.addTransfer(t, spec.info, have, nil); err != nil {
		if derr := e.db.DeleteTransfer(ctx, spec.ih); derr != nil {
			e.log.Warn("forget refused torrent", "err", derr)
		}
		return err
	}
	e.saveResume(spec.ih, transferResume(row))
	e.markLeafDirty()
	return nil
}
