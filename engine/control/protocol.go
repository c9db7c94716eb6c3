package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/words"
)

// Commands a Request may carry.
const (
	CmdStatus = "status"
	CmdAdd    = "add"
	CmdShow   = "show"
	// CmdReach runs a reachability test (a supernode dials us back) and
	// answers with the status it leaves.
	CmdReach = "reach"
)

// MaxRequestLine and MaxResponseLine bound one line each way. A .torrent is sent by path,
// never inline, so requests are small; a status with thousands of transfers
// is not.
const (
	MaxRequestLine  = 64 << 10
	MaxResponseLine = 64 << 20
)

// Request is one command from a client.
type Request struct {
	Cmd string `json:"cmd"`
	// Link is what add fetches: a magnet link, an absolute path to a
	// .torrent file, or 40 hex digits.
	Link string `json:"link,omitempty"`
}

// Response answers one Request. OK false means Error says, for people, what
// went wrong.
type Response struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Status *Status `json:"status,omitempty"`
	// Added is the infohash (hex) that add started or found already there.
	Added string `json:"added,omitempty"`
	// Shown says whether show raised a window.
	Shown bool `json:"shown,omitempty"`
}

// Status is what `shoal status --json` prints.
type Status struct {
	DataDir   string     `json:"data_dir"`
	PID       int        `json:"pid"`
	Transfers []Transfer `json:"transfers"`
	Ratio     Ratio      `json:"ratio"`
	Network   Network    `json:"network"`
}

// Transfer is one download (shared library items are not listed).
type Transfer struct {
	InfoHash string  `json:"infohash"`
	Name     string  `json:"name"`
	State    string  `json:"state"`
	Queued   int     `json:"queued,omitempty"` // state "queued": its place in the wait line, 1 starting next
	Progress float64 `json:"progress"`         // verified fraction of the wanted bytes, 0..1
	Size     int64   `json:"size"`
	Have     int64   `json:"have"`
	DownRate float64 `json:"down_rate"` // bytes/s
	UpRate   float64 `json:"up_rate"`   // bytes/s
	Peers    int     `json:"peers"`
	SavePath string  `json:"save_path"` // the folder the content is written to
	Error    string  `json:"error,omitempty"`
	// NotMoved is set while a finished download could not be moved to the
	// folder chosen for finished downloads: it seeds on from SavePath.
	NotMoved *NotMoved `json:"not_moved,omitempty"`
}

// NotMoved says where a finished download was to move and why it could not.
type NotMoved struct {
	To  string `json:"to"`  // the folder it was to move to
	Why string `json:"why"` // in words, e.g. "a file of that name is in the way"
}

// Ratio is the all-time and session byte counts. Value is uploaded ÷
// downloaded, or -1 when only uploaded (JSON has no infinity).
type Ratio struct {
	Uploaded          int64   `json:"uploaded"`
	Downloaded        int64   `json:"downloaded"`
	Value             float64 `json:"value"`
	SessionUploaded   int64   `json:"session_uploaded"`
	SessionDownloaded int64   `json:"session_downloaded"`
}

// Network is the node's view of the network.
type Network struct {
	PeerAddr   string   `json:"peer_addr"`
	DHTNodes   int      `json:"dht_nodes"`
	Peers      int      `json:"peers"`
	Role       string   `json:"role"` // "supernode" or "leaf"
	Supernodes []string `json:"supernodes"`
	// SupernodeLink is "linked" when this leaf has a supernode (or is
	// one), else "not linked".
	SupernodeLink string `json:"supernode_link"`
	Leaves        int    `json:"leaves,omitempty"`
	// Reachable is "yes", "no" or "unknown"; How says how that was
	// learned, e.g. "upnp mapping + dial-back by supernode
	// 203.0.113.50:42030 reached 203.0.113.11:42031" (ReachableHow is the
	// same, under the name older scripts read).
	Reachable    string `json:"reachable"`
	How          string `json:"how"`
	ReachableHow string `json:"reachable_how,omitempty"`
	ReachTesting bool   `json:"reach_testing,omitempty"`
	ExternalAddr string `json:"external_addr"`
	// ExternalAddrFrom says where ExternalAddr comes from, e.g. "the
	// router (upnp)" or "3 peers agree on our IP (BEP 10 yourip)".
	ExternalAddrFrom string  `json:"external_addr_from,omitempty"`
	PortMapping      string  `json:"port_mapping"`
	PortMappingErr   string  `json:"port_mapping_error,omitempty"`
	DownRate         float64 `json:"down_rate"`
	UpRate           float64 `json:"up_rate"`
}

// Errors DecodeRequest reports; each wraps the offending detail.
var (
	ErrBadRequest = errors.New("control: bad request")
)

// DecodeRequest reads one request line. It refuses anything but one JSON
// object with a known command, and an add without a link or with a relative
// .torrent path (the client resolves paths, since the server's working
// folder is not the client's).
func DecodeRequest(line []byte) (Request, error) {
	var r Request
	if len(line) > MaxRequestLine {
		return r, fmt.Errorf("%w: %d bytes, at most %d", ErrBadRequest, len(line), MaxRequestLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return Request{}, fmt.Errorf("%w: more than one value on the line", ErrBadRequest)
	}
	if err := r.validate(); err != nil {
		return Request{}, err
	}
	return r, nil
}

func (r Request) validate() error {
	switch r.Cmd {
	case CmdStatus, CmdShow, CmdReach:
		if r.Link != "" {
			return fmt.Errorf("%w: %s takes no link", ErrBadRequest, r.Cmd)
		}
	case CmdAdd:
		if r.Link == "" {
			return fmt.Errorf("%w: add needs a link", ErrBadRequest)
		}
		if isPathLike(r.Link) && !filepath.IsAbs(r.Link) {
			return fmt.Errorf("%w: add: relative path %q (send an absolute one)", ErrBadRequest, r.Link)
		}
	default:
		return fmt.Errorf("%w: unknown command %.40q", ErrBadRequest, r.Cmd)
	}
	return nil
}

// isPathLike reports whether an add link names a file rather than a magnet
// link or a bare infohash.
func isPathLike(link string) bool {
	if len(link) >= 7 && link[:7] == "magnet:" {
		return false
	}
	if len(link) == 40 && isHex(link) {
		return false
	}
	return true
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// statusOf turns an engine snapshot into the wire form.
func statusOf(s engine.Snapshot) Status {
	st := Status{Transfers: make([]Transfer, 0, len(s.Transfers))}
	for _, t := range s.Transfers {
		st.Transfers = append(st.Transfers, Transfer{InfoHash: t.InfoHash.String(), Name: t.Name,
			State: string(t.State), Queued: t.Queued, Progress: t.Progress(), Size: t.Size, Have: t.Have,
			DownRate: t.DownRate, UpRate: t.UpRate, Peers: t.Peers, SavePath: t.Dir, Error: t.Err,
			NotMoved: notMoved(t)})
	}
	st.Ratio = Ratio{Uploaded: s.Ratio.Uploaded, Downloaded: s.Ratio.Downloaded, Value: finite(s.Ratio.Value()),
		SessionUploaded: s.Ratio.SessionUploaded, SessionDownloaded: s.Ratio.SessionDownloaded}
	st.Network = networkOf(s.Net)
	return st
}

// notMoved is t's failed automatic move, nil if there is none.
func notMoved(t engine.TransferSnapshot) *NotMoved {
	if t.MoveErr == "" {
		return nil
	}
	return &NotMoved{To: t.MoveTo, Why: words.MoveReason(t.MoveErr, t.Name)}
}

func networkOf(n engine.NetStatus) Network {
	w := Network{PeerAddr: n.PeerAddr, DHTNodes: n.DHTNodes, Peers: n.Peers, Role: "leaf",
		Supernodes: append([]string{}, n.Supernodes...), SupernodeLink: "not linked", Leaves: n.Leaves,
		Reachable: orDefault(n.Reachable, "unknown"), How: n.ReachableHow, ReachableHow: n.ReachableHow,
		ReachTesting: n.ReachTesting,
		ExternalAddr: n.ExternalAddr, ExternalAddrFrom: n.ExternalAddrFrom, PortMapping: orDefault(n.PortMapping, "none"),
		PortMappingErr: n.PortMappingErr, DownRate: n.DownRate, UpRate: n.UpRate}
	if n.IsSupernode {
		w.Role = "supernode"
	}
	if n.IsSupernode || len(n.Supernodes) > 0 {
		w.SupernodeLink = "linked"
	}
	return w
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// finite maps +Inf (uploaded with nothing downloaded) to -1 for JSON.
func finite(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return -1
	}
	return v
}
