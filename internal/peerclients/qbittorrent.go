package peerclients

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Qbittorrent is a qbittorrent-nox with one torrent, driven through its
// Web API on 127.0.0.1. It dials loopback peers and accepts them on PeerAddr.
type Qbittorrent struct {
	Proc     *Proc
	PeerAddr string
	API      string // http://127.0.0.1:PORT/api/v2

	client *http.Client
}

// qbitConf is qBittorrent.conf (peer port, Web UI port): TCP only (its
// default uTP is slow here), one connection per peer rather than per IP,
// no DHT, PEX, LSD, UPnP or queueing, and a Web UI needing no login.
const qbitConf = `[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\PeXEnabled=false
Session\LSDEnabled=false
Session\BTProtocol=TCP
Session\MultiConnectionsPerIp=true
Session\Port=%d
Session\Interface=lo
Session\InterfaceName=lo
Session\InterfaceAddress=127.0.0.1
Session\QueueingSystemEnabled=false
Session\AnonymousModeEnabled=false

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\UPnP=false
General\UseRandomPort=false
WebUI\Address=127.0.0.1
WebUI\Port=%d
WebUI\LocalHostAuth=false
WebUI\CSRFProtection=false
WebUI\HostHeaderValidation=false
`

// QbitOptions changes qBittorrent's defaults (TCP only, encryption
// preferred).
type QbitOptions struct {
	// Encryption is Session\Encryption: 0 prefer, 1 require, 2 disable.
	Encryption int
	// Protocol is Session\BTProtocol: "TCP" (the default here), "UTP" or "Both".
	Protocol string
	// Prefix runs qbittorrent-nox through a command, such as
	// `ip netns exec NS` to run it in a lab namespace.
	Prefix []string
	// Interface and Address bind its peer connections to a network
	// device and address other than lo and 127.0.0.1 (a lab host's).
	Interface, Address string
	// Dial reaches its Web API (on 127.0.0.1 where it runs): needed when
	// Prefix puts it in another network namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// PortForwarding lets it map its peer port on the router with UPnP
	// and NAT-PMP (off by default).
	PortForwarding bool
}

// conf applies the options to qBittorrent.conf's text.
func (o QbitOptions) conf(text string) string {
	if o.Protocol != "" {
		text = strings.Replace(text, `Session\BTProtocol=TCP`, `Session\BTProtocol=`+o.Protocol, 1)
	}
	if o.Interface != "" {
		text = strings.Replace(text, "Session\\Interface=lo\nSession\\InterfaceName=lo\n",
			"Session\\Interface="+o.Interface+"\nSession\\InterfaceName="+o.Interface+"\n", 1)
	}
	if o.Address != "" {
		text = strings.Replace(text, "Session\\InterfaceAddress=127.0.0.1", "Session\\InterfaceAddress="+o.Address, 1)
	}
	if o.PortForwarding {
		text = strings.Replace(text, "PortForwardingEnabled=false", "PortForwardingEnabled=true", 1)
		text = strings.Replace(text, "Connection\\UPnP=false", "Connection\\UPnP=true", 1)
	}
	return strings.Replace(text, "[BitTorrent]\n", fmt.Sprintf("[BitTorrent]\nSession\\Encryption=%d\n", o.Encryption), 1)
}

// StartQbittorrent runs qbittorrent-nox on torrent saving into dir; a
// seeder skips the hash check of the content already there. Its Web API
// answers a little after start: poll Torrents or Done.
func StartQbittorrent(tb testing.TB, torrent, dir string, seed bool) (*Qbittorrent, error) {
	return StartQbittorrentWith(tb, torrent, dir, seed, QbitOptions{})
}

// StartQbittorrentWith is StartQbittorrent with options.
func StartQbittorrentWith(tb testing.TB, torrent, dir string, seed bool, o QbitOptions) (*Qbittorrent, error) {
	bin, ports, err := binAndPorts("qbittorrent-nox", 2)
	if err != nil {
		return nil, err
	}
	profile, save, err := qbitFolders(tb, dir)
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(profile, "qBittorrent", "config", "qBittorrent.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		return nil, fmt.Errorf("peerclients: qbittorrent config: %w", err)
	}
	if err := os.WriteFile(conf, fmt.Appendf(nil, o.conf(qbitConf), ports[0], ports[1]), 0o644); err != nil {
		return nil, fmt.Errorf("peerclients: qbittorrent config: %w", err)
	}
	args := []string{"--profile=" + profile, "--webui-port=" + strconv.Itoa(ports[1]), "--save-path=" + save}
	if seed {
		args = append(args, "--skip-hash-check")
	}
	args = append(args, torrent)
	if len(o.Prefix) > 0 {
		bin, args = o.Prefix[0], append(append(o.Prefix[1:len(o.Prefix):len(o.Prefix)], bin), args...)
	}
	p, err := Start(tb, bin, args...)
	if err != nil {
		return nil, err
	}
	q := &Qbittorrent{Proc: p, PeerAddr: addr(ports[0]), client: loopbackHTTP(), API: "http://" + addr(ports[1]) + "/api/v2"}
	if o.Address != "" {
		q.PeerAddr = net.JoinHostPort(o.Address, strconv.Itoa(ports[0]))
	}
	if o.Dial != nil {
		q.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: o.Dial, Proxy: nil}}
	}
	return q, nil
}

// qbitFolders makes its profile folder and a link to the save folder dir
// inside a fresh temporary folder: qbittorrent-nox refuses an option value
// holding '=' ("--save-path=/tmp/TestX=1/..."), and test folders are named
// after tests. Both are removed when the test ends.
func qbitFolders(tb testing.TB, dir string) (profile, save string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("peerclients: qbittorrent save folder: %w", err)
	}
	work, err := os.MkdirTemp("", "peerclients-qbittorrent-")
	if err != nil {
		return "", "", fmt.Errorf("peerclients: qbittorrent folder: %w", err)
	}
	tb.Cleanup(func() { os.RemoveAll(work) }) // after the process is stopped
	profile, save = filepath.Join(work, "profile"), filepath.Join(work, "save")
	if err := os.Symlink(abs, save); err != nil {
		return "", "", fmt.Errorf("peerclients: qbittorrent save folder: %w", err)
	}
	return profile, save, nil
}

// AddPeers makes qBittorrent dial peers (host:port) for torrent ih.
func (q *Qbittorrent) AddPeers(ih [20]byte, peers ...string) error {
	form := url.Values{"hashes": {hex.EncodeToString(ih[:])}, "peers": {strings.Join(peers, "|")}}
	resp, err := q.client.PostForm(q.API+"/torrents/addPeers", form)
	if err != nil {
		return fmt.Errorf("peerclients: qbittorrent add peers: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("peerclients: qbittorrent add peers: HTTP %d", resp.StatusCode)
	}
	return nil
}

// QbitTorrent is the part of /torrents/info callers read.
type QbitTorrent struct {
	Hash       string  `json:"hash"`
	Name       string  `json:"name"`
	Progress   float64 `json:"progress"`
	AmountLeft int64   `json:"amount_left"`
	State      string  `json:"state"`
	NumSeeds   int     `json:"num_seeds"`
	NumLeechs  int     `json:"num_leechs"`
}

// Torrents lists its torrents. An error says the Web API did not answer
// (yet) or ErrExited that the process has ended.
func (q *Qbittorrent) Torrents() ([]QbitTorrent, error) {
	if q.Proc.Exited() {
		return nil, fmt.Errorf("peerclients: qbittorrent-nox (%v): %w; output:\n%s", q.Proc.Err(), ErrExited, q.Proc.Output(4000))
	}
	resp, err := q.client.Get(q.API + "/torrents/info")
	if err != nil {
		return nil, fmt.Errorf("peerclients: qbittorrent torrents: %w", err)
	}
	defer resp.Body.Close()
	var list []QbitTorrent
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("peerclients: qbittorrent torrents: HTTP %d: %w", resp.StatusCode, err)
	}
	return list, nil
}

// Done reports whether its one torrent is complete, checked and started,
// so it serves peers. (While it reports checkingResumeData, progress is
// already 1 but libtorrent resets incoming connections.) A Web API still
// starting is not an error; an exited process or a torrent in state error
// or missingFiles is.
func (q *Qbittorrent) Done() (bool, error) {
	s, ok, err := q.one()
	if !ok {
		return false, err
	}
	return s.Progress == 1 && s.AmountLeft == 0 && qbitStarted(s.State), nil
}

// Loaded reports whether its one torrent is loaded and no longer being
// checked or fetching metadata, so peers may connect for it.
func (q *Qbittorrent) Loaded() (bool, error) {
	s, ok, err := q.one()
	if !ok {
		return false, err
	}
	return qbitStarted(s.State), nil
}

// qbitStarted reports whether a torrent state is past loading and checking.
func qbitStarted(state string) bool {
	switch state {
	case "checkingUP", "checkingDL", "checkingResumeData", "metaDL", "allocating", "moving", "unknown":
		return false
	}
	return true
}

// one is its one torrent; ok is false while the Web API is not answering
// (err nil) or when the process or torrent has failed (err set).
func (q *Qbittorrent) one() (QbitTorrent, bool, error) {
	list, err := q.Torrents()
	if err != nil {
		if q.Proc.Exited() {
			return QbitTorrent{}, false, err
		}
		return QbitTorrent{}, false, nil
	}
	if len(list) != 1 {
		return QbitTorrent{}, false, nil
	}
	switch list[0].State {
	case "error", "missingFiles":
		return list[0], false, fmt.Errorf("peerclients: qbittorrent torrent state %q", list[0].State)
	}
	return list[0], true, nil
}
