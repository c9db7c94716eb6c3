package engine

// Keys of the state database's settings table. They follow one
// convention: lower-case snake_case words, a format version as a _vN
// suffix, and a key about one item ending in ":<id>" (migration 0004
// renamed the two older keys that did not).
const (
	// keySettings holds Settings as JSON.
	keySettings = "settings_v1"
	// keyPeerID holds this node's BitTorrent peer ID, as hex.
	keyPeerID = "peer_id"
	// keyListenPort holds the port chosen at first start.
	keyListenPort = "listen_port"
	// keyTransferOptionsPrefix + hex infohash holds a transfer's
	// TransferOptions as JSON.
	keyTransferOptionsPrefix = "transfer_options:"
)

// transferOptionsKey is the settings key of one transfer's options.
func transferOptionsKey(ih InfoHash) string { return keyTransferOptionsPrefix + ih.String() }
