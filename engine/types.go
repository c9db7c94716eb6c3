package engine

import (
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/shoalp2p/shoal/engine/state"
)

var inf = math.Inf(1)

// InfoHash names a torrent: the SHA-1 of its bencoded info dictionary (BEP 3).
type InfoHash [20]byte

// String returns the lower-case hex form used in magnet links and the CLI.
func (h InfoHash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is unset.
func (h InfoHash) IsZero() bool { return h == InfoHash{} }

// ParseInfoHash parses 40 hex digits.
func ParseInfoHash(s string) (InfoHash, error) {
	var h InfoHash
	if len(s) != 40 {
		return h, fmt.Errorf("infohash %q: want 40 hex digits", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("infohash %q: %w", s, err)
	}
	return h, nil
}

// TransferState is where a transfer is in its life.
type TransferState string

// Transfer states.
const (
	StateFetchingMetadata TransferState = "metadata"
	StateChecking         TransferState = "checking"
	StateDownloading      TransferState = "downloading"
	StateSeeding          TransferState = "seeding"
	StatePaused           TransferState = "paused"
	StateComplete         TransferState = "complete" // finished, not seeding
	StateError            TransferState = "error"
	StateQueued           TransferState = "queued" // waiting for a place under the active caps
)

// TransferSnapshot is a plain-value view of one transfer at one moment.
type TransferSnapshot struct {
	InfoHash   InfoHash
	Name       string
	Dir        string // folder the content is written to
	Size       int64  // total bytes (0 until metadata is known)
	Files      int    // files in the torrent, 1 for a single file (0 until metadata is known)
	Have       int64  // verified bytes
	Wanted     int64  // bytes to download: Size unless files are skipped
	WantedHave int64  // verified bytes among those wanted
	Pieces     int
	PiecesHave int
	State      TransferState
	// Queued is the transfer's place in the wait line of its kind
	// (downloads or seeds), 1 starting next; 0 unless State is StateQueued.
	Queued int
	Err    string
	// MoveErr says why the automatic move of this finished download into
	// MoveTo (Settings.MoveCompletedTo, as it was then) failed; the
	// download stays in Dir and keeps seeding from there. Both are ""
	// unless the last automatic move failed; a Move that succeeds clears
	// them.
	MoveErr    string
	MoveTo     string
	DownRate   float64 // bytes/s, smoothed
	UpRate     float64 // bytes/s, smoothed
	Uploaded   int64   // all-time bytes sent for this transfer
	Downloaded int64   // all-time bytes received for this transfer
	Peers      int     // connected peers
	Seeds      int     // connected peers that have everything
	ETA        time.Duration
	Added      time.Time
	// Magnet is its magnet link: btih for a v1 torrent, btih and btmh
	// for a hybrid, btmh alone for a v2-only one; until its metadata is
	// known, the link it was added with.
	Magnet      string
	PeerDetails []PeerSnapshot
	// Banned lists peers this transfer banned for corrupt data, with why.
	Banned []BannedPeer
	// SwarmPeers is the size of the whole swarm as far as known: the
	// largest of the trackers' seeders plus leechers (from announces and
	// scrapes), the distinct peers the last DHT get_peers found, and Peers.
	// -1 while nothing beyond our own connections is known.
	SwarmPeers int
	// SwarmSeeds is the swarm's seeders, the largest count any tracker
	// gave (and at least Seeds); -1 while no tracker has answered.
	SwarmSeeds int
	// SwarmLeechers is the swarm's peers still downloading, the largest
	// count any tracker gave (and at least Peers-Seeds); -1 while no
	// tracker has answered.
	SwarmLeechers int
	// SwarmCompleted is how many finished downloads a tracker's scrape
	// counted; -1 while no tracker has answered.
	SwarmCompleted int
}

// PeerKey names a peer for bans and credit: by IP on the Internet, by peer
// ID on loopback (where every peer shares an IP). Its String is for people;
// the form the database stores is private to package state.
type PeerKey = state.PeerKey

// PeerKeyFromIP is the key of the peer at IP address ip (no port).
func PeerKeyFromIP(ip string) PeerKey { return state.PeerKeyFromIP(ip) }

// PeerKeyFromID is the key of the peer with this BitTorrent peer ID.
func PeerKeyFromID(id [20]byte) PeerKey { return state.PeerKeyFromID(id) }

// BannedPeer is a peer refused for sending data that failed its hash.
type BannedPeer struct {
	Key    PeerKey
	Reason string
}

// Progress is the verified fraction of the wanted bytes, in [0,1].
func (t TransferSnapshot) Progress() float64 {
	wanted, have := t.wanted()
	if wanted <= 0 {
		return 0
	}
	return float64(have) / float64(wanted)
}

// Done reports whether every wanted byte is verified.
func (t TransferSnapshot) Done() bool {
	wanted, have := t.wanted()
	return wanted > 0 && have == wanted
}

// wanted falls back to the whole content when Wanted is not filled in.
func (t TransferSnapshot) wanted() (wanted, have int64) {
	if t.Wanted > 0 {
		return t.Wanted, t.WantedHave
	}
	return t.Size, t.Have
}

// FileSnapshot is one file of a transfer.
type FileSnapshot struct {
	Index  int
	Path   string // relative to the transfer's folder, including the torrent name
	Size   int64
	Have   int64
	Wanted bool
}

// PeerSnapshot describes one connected peer of a transfer.
type PeerSnapshot struct {
	Key         PeerKey // how the peer is remembered for credit and bans
	Addr        string
	Client      string
	Network     string // "tcp" or "utp"
	Encryption  string // "none", "obfuscated" (MSE handshake only) or "rc4"
	Progress    float64
	DownRate    float64
	UpRate      float64
	Downloaded  int64 // bytes we got from it on this connection
	Uploaded    int64 // bytes we sent it on this connection
	GaveAllTime int64 // bytes it sent us over all time (its credit)
	TookAllTime int64 // bytes we sent it over all time
	Choked      bool  // we choke it
	ChokingUs   bool
	Interested  bool // it wants data we have
	Interesting bool // we want data it has
	Banned      bool
	Note        string // why it is choked or banned
	// Via is the relay (host:port) whose BEP 55 hole punch made this
	// connection, "" for an ordinary one.
	Via string
}

// LibraryItem is content this node shares.
type LibraryItem struct {
	InfoHash InfoHash
	Name     string
	Path     string // file or folder on disk
	Size     int64
	Files    int
	Magnet   string
	Added    time.Time
}

// ShareJob reports the background hashing of something the user shared.
type ShareJob struct {
	Path   string
	Hashed int64
	Total  int64
	Done   bool
	Err    string
	Result InfoHash
}

// Ratio holds byte counters; all-time values survive restarts and crashes.
type Ratio struct {
	Uploaded          int64 // all time
	Downloaded        int64 // all time
	SessionUploaded   int64
	SessionDownloaded int64
}

// Value is uploaded ÷ downloaded over all time; 0 when nothing was downloaded
// and nothing uploaded, +Inf when only uploaded.
func (r Ratio) Value() float64 { return ratio(r.Uploaded, r.Downloaded) }

// SessionValue is the ratio for this run only.
func (r Ratio) SessionValue() float64 { return ratio(r.SessionUploaded, r.SessionDownloaded) }

func ratio(up, down int64) float64 {
	if down == 0 {
		if up == 0 {
			return 0
		}
		return inf
	}
	return float64(up) / float64(down)
}

// NetStatus summarises the node's view of the network.
type NetStatus struct {
	PeerID        string // hex; kept across restarts
	PeerAddr      string
	DHTAddr       string
	SupernodeAddr string // empty unless this node is a supernode
	DHTNodes      int
	Peers         int      // connected BitTorrent peers, all transfers
	Supernodes    []string // supernodes this leaf is linked to
	IsSupernode   bool
	Leaves        int // leaves registered with us, when a supernode
	DownRate      float64
	UpRate        float64
	// Reachable says whether peers on the Internet can dial us: "yes",
	// "no", or "unknown" until a dial-back test has answered.
	Reachable string
	// ReachableHow says how Reachable was learned (for people, e.g.
	// "a supernode dialled 203.0.113.11:6881 back"); empty while unknown.
	ReachableHow string
	// ReachTesting is true while a dial-back test runs.
	ReachTesting bool
	// ExternalAddr is host:port as the Internet sees us (from the router's
	// port mapping or from peers); empty while unknown.
	ExternalAddr string
	// ExternalAddrFrom says, for people, where ExternalAddr comes from:
	// the router's mapping, a supernode's dial-back, or peers that agree
	// on our IP (BEP 10 yourip; the port is then our own, unproven).
	ExternalAddrFrom string
	// PortMapping is how the listen port is opened on the router: "upnp",
	// "natpmp", "pcp" or "none".
	PortMapping string
	// PortMappingErr explains, for people, why no mapping could be made.
	PortMappingErr string
	// QuietedLogLines counts log lines held back because the same message
	// came too often (at most a burst of each per minute is written):
	// mostly peers and packets that misbehave.
	QuietedLogLines int64
	// DHTLibraryLines counts what the DHT library reported, process-wide:
	// mostly malformed packets sent to the DHT port.
	DHTLibraryLines int64
	// PeerAddr6 and DHTAddr6 are the node's IPv6 addresses (same port as
	// PeerAddr), empty when it has no IPv6 stack; DHTNodes6 counts the
	// IPv6 DHT server's routing table (BEP 32).
	PeerAddr6, DHTAddr6 string
	DHTNodes6           int
}

// Snapshot is everything the front ends show, copied out of the engine.
type Snapshot struct {
	Taken     time.Time
	Transfers []TransferSnapshot
	// Library is shared with later snapshots until the library changes:
	// read it, do not modify it.
	Library   []LibraryItem
	ShareJobs []ShareJob
	Ratio     Ratio
	Net       NetStatus
	// History holds per-second totals for the last few minutes (rate graph).
	History []RateSample
}

// Hit is one search result, grouped by infohash.
type Hit struct {
	InfoHash InfoHash
	Name     string
	Size     int64
	Files    []string
	Sources  []string // peer addresses (host:port) of Shoal nodes that hold it
	Magnet   string
	// V2 is its BEP 52 infohash where known (hybrid and v2 torrents);
	// zero otherwise.
	V2 [32]byte
	// Roots are the BEP 52 pieces roots of its files where known (hybrid
	// and v2 torrents): a file's root names its content in any torrent.
	Roots [][32]byte
	// SameFiles counts its files (by pieces root) that other hits of the
	// same search hold too, and AlsoIn counts those other hits ("also in
	// 2 other torrents"). SearchResults sets them.
	SameFiles, AlsoIn int
	// Local is set when it is in this computer's library (a search for
	// its hash finds it there first).
	Local bool
	// DHT is set when a supernode indexed it from the BitTorrent DHT (its
	// metadata fetched and checked against the infohash); Swarm is how
	// many peers that supernode last saw in its swarm. Downloading it
	// works as for any magnet: peers come from the DHT.
	DHT   bool
	Swarm int
	// Scraped is set when the nodes holding its swarm answered that
	// supernode's BEP 33 scrape: Seeds and Leechers are then the swarm's
	// seeds and downloaders (distinct IPs, estimated from the scrape's
	// Bloom filters). Unset, they are unknown (not zero).
	Scraped         bool
	Seeds, Leechers int
}

// Origin names where a hit came from: "shoal" (Shoal nodes share it),
// "dht" (indexed from the BitTorrent DHT), "shoal+dht", or "library" (only
// in this computer's library).
func (h Hit) Origin() string {
	switch {
	case h.Local && len(h.Sources) == 0 && !h.DHT:
		return "library"
	case h.DHT && len(h.Sources) > 0:
		return "shoal+dht"
	case h.DHT:
		return "dht"
	}
	return "shoal"
}

// DownloadRequest says what to fetch and from where.
type DownloadRequest struct {
	// Source is a magnet link, a path to a .torrent file, or 40 hex digits.
	Source string
	// Dir overrides the download folder.
	Dir string
	// Peers are extra peer addresses (host:port) to try.
	Peers []string
	// Name is a display name until metadata arrives (e.g. from a search hit).
	Name string
}
