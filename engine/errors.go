package engine

import (
	"errors"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// Errors callers branch on with errors.Is, to tell people what happened in
// their own words. ErrClosed, ErrNotFound and ErrDataDirInUse are the
// others.
var (
	// ErrNoSupernode: a search needs a supernode and none is linked yet
	// (the node is still joining the overlay).
	ErrNoSupernode = overlay.ErrNoSupernodes
	// ErrBadLink: a download source is neither a magnet link, an infohash
	// nor a readable .torrent file.
	ErrBadLink = errors.New("engine: not a magnet link, infohash or .torrent file")
	// ErrBadTorrent: a .torrent file's content is malformed.
	ErrBadTorrent = torrentfile.ErrBadTorrent
	// ErrEmptyQuery: a search without words.
	ErrEmptyQuery = errEmptyQuery
)

// badSource marks a parse failure of a download source as ErrBadLink while
// keeping its message, which names what was wrong.
type badSource struct{ err error }

func (b badSource) Error() string   { return b.err.Error() }
func (b badSource) Unwrap() []error { return []error{ErrBadLink, b.err} }
