package peerclients

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Transmission is a transmission-daemon on 127.0.0.1 driven through its
// JSON RPC (the interface transmission-remote uses). Transmission 3.00
// never dials a loopback peer, so the other side must dial PeerAddr.
type Transmission struct {
	Proc     *Proc
	PeerAddr string // where it accepts peers
	RPCURL   string

	client  *http.Client
	mu      sync.Mutex
	session string // X-Transmission-Session-Id (the RPC's CSRF token)
}

// Transmission's torrent status codes (RPC spec, section 3.3).
const (
	TransmissionChecking    = 2
	TransmissionDownloading = 4
	TransmissionSeeding     = 6
)

// ErrTransmissionLocal: Transmission reports a local error (error 3) on a
// torrent, such as missing or unreadable data.
var ErrTransmissionLocal = errors.New("transmission: local error")

// TransmissionTorrent is the part of a torrent-get answer callers read.
type TransmissionTorrent struct {
	Status         int     `json:"status"`
	PercentDone    float64 `json:"percentDone"`
	LeftUntilDone  int64   `json:"leftUntilDone"`
	HaveValid      int64   `json:"haveValid"`
	Error          int     `json:"error"`
	ErrorString    string  `json:"errorString"`
	PeersConnected int     `json:"peersConnected"`
}

// transmissionSettings is settings.json for a daemon kept to 127.0.0.1
// with every discovery and NAT feature off.
func transmissionSettings(peerPort, rpcPort int, downloadDir string) map[string]any {
	return map[string]any{
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
		"port-forwarding-enabled": false, "utp-enabled": false,
		"bind-address-ipv4": Host, "bind-address-ipv6": "::1",
		"peer-port": peerPort, "peer-port-random-on-start": false,
		"rpc-enabled": true, "rpc-bind-address": Host, "rpc-port": rpcPort,
		"rpc-authentication-required": false, "rpc-whitelist": Host,
		"rpc-whitelist-enabled": true, "rpc-host-whitelist-enabled": false,
		"download-dir": downloadDir, "incomplete-dir-enabled": false,
		"rename-partial-files": false, "ratio-limit-enabled": false,
		"idle-seeding-limit-enabled": false, "speed-limit-up-enabled": false,
		"speed-limit-down-enabled": false, "download-queue-enabled": false,
		"seed-queue-enabled": false, "queue-stalled-enabled": false,
		"start-added-torrents": true, "blocklist-enabled": false,
		"message-level": 2,
	}
}

// StartTransmission runs a fresh daemon (it tracks peers by IP, so one
// daemon serves one loopback leecher reliably) and waits for its RPC.
func StartTransmission(tb testing.TB) (*Transmission, error) {
	return StartTransmissionWith(tb, TransmissionOptions{Encryption: 1})
}

// TransmissionOptions changes the daemon's settings.
type TransmissionOptions struct {
	// Encryption is settings.json's "encryption": 0 tolerate, 1 prefer
	// (Transmission's default), 2 require.
	Encryption int
	// CfgDir is the configuration folder (default: a fresh one). Given
	// again, a daemon stopped earlier starts with the torrents it had
	// (with fresh ports in its settings.json).
	CfgDir string
	// DownloadDir is the default download folder (default: a fresh one).
	DownloadDir string
}

// StartTransmissionWith is StartTransmission with options.
func StartTransmissionWith(tb testing.TB, o TransmissionOptions) (*Transmission, error) {
	bin, ports, err := binAndPorts("transmission-daemon", 2)
	if err != nil {
		return nil, err
	}
	cfgDir, downloadDir := o.CfgDir, o.DownloadDir
	if cfgDir == "" {
		cfgDir = tb.TempDir()
	}
	if downloadDir == "" {
		downloadDir = tb.TempDir()
	}
	settings := transmissionSettings(ports[0], ports[1], downloadDir)
	settings["encryption"] = o.Encryption
	b, err := json.MarshalIndent(settings, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("peerclients: transmission settings: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "settings.json"), b, 0o600); err != nil {
		return nil, fmt.Errorf("peerclients: transmission settings: %w", err)
	}
	p, err := Start(tb, bin, "-f", "-g", cfgDir)
	if err != nil {
		return nil, err
	}
	tr := &Transmission{Proc: p, PeerAddr: addr(ports[0]), client: loopbackHTTP(),
		RPCURL: fmt.Sprintf("http://%s/transmission/rpc", addr(ports[1]))}
	// The peer port is not probed: Transmission resets the next incoming
	// connection from an address whose handshake it is still tracking.
	return tr, p.WaitListening(addr(ports[1]), 15*time.Second)
}

// Call makes one RPC call and decodes its arguments into out (if not nil),
// fetching the session id first when Transmission asks for it.
func (tr *Transmission) Call(method string, args, out any) error {
	body, err := json.Marshal(map[string]any{"method": method, "arguments": args})
	if err != nil {
		return fmt.Errorf("peerclients: transmission %s: %w", method, err)
	}
	for range 3 {
		status, raw, err := tr.post(body)
		if err != nil {
			return fmt.Errorf("peerclients: transmission %s: %w", method, err)
		}
		if status == http.StatusConflict {
			continue // post stored the new session id
		}
		var r struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.Result != "success" {
			return fmt.Errorf("peerclients: transmission %s: HTTP %d, result %q, err %v: %s", method, status, r.Result, err, raw)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(r.Arguments, out); err != nil {
			return fmt.Errorf("peerclients: transmission %s: decode %s: %w", method, r.Arguments, err)
		}
		return nil
	}
	return fmt.Errorf("peerclients: transmission %s: no session id accepted", method)
}

// post sends one RPC request body, remembering a new session id.
func (tr *Transmission) post(body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, tr.RPCURL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	tr.mu.Lock()
	req.Header.Set("X-Transmission-Session-Id", tr.session)
	tr.mu.Unlock()
	resp, err := tr.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusConflict {
		tr.mu.Lock()
		tr.session = resp.Header.Get("X-Transmission-Session-Id")
		tr.mu.Unlock()
	}
	return resp.StatusCode, raw, err
}

// Add gives Transmission a .torrent whose content is (or will be) in dir,
// and returns the infohash it reports.
func (tr *Transmission) Add(torrent, dir string) ([20]byte, error) {
	mi, err := os.ReadFile(torrent)
	if err != nil {
		return [20]byte{}, fmt.Errorf("peerclients: transmission add: %w", err)
	}
	return tr.AddMetainfo(mi, dir)
}

// AddMetainfo is Add for the bytes of a .torrent file.
func (tr *Transmission) AddMetainfo(mi []byte, dir string) ([20]byte, error) {
	var ih [20]byte
	var out map[string]struct {
		HashString string `json:"hashString"`
	}
	if err := tr.Call("torrent-add", map[string]any{
		"metainfo": base64.StdEncoding.EncodeToString(mi), "download-dir": dir, "paused": false,
	}, &out); err != nil {
		return ih, err
	}
	added, ok := out["torrent-added"]
	if !ok {
		return ih, fmt.Errorf("peerclients: transmission torrent-add: no torrent-added in %v", out)
	}
	if n, err := hex.Decode(ih[:], []byte(added.HashString)); err != nil || n != 20 {
		return ih, fmt.Errorf("peerclients: transmission torrent-add: hash %q: %v", added.HashString, err)
	}
	return ih, nil
}

// Get reads ih's state; a local error on the torrent is ErrTransmissionLocal.
func (tr *Transmission) Get(ih [20]byte) (TransmissionTorrent, error) {
	var out struct {
		Torrents []TransmissionTorrent `json:"torrents"`
	}
	if err := tr.Call("torrent-get", map[string]any{"ids": []string{hex.EncodeToString(ih[:])}, "fields": []string{
		"status", "percentDone", "leftUntilDone", "haveValid", "error", "errorString", "peersConnected"}}, &out); err != nil {
		return TransmissionTorrent{}, err
	}
	if len(out.Torrents) != 1 {
		return TransmissionTorrent{}, fmt.Errorf("peerclients: transmission has %d torrents for %x", len(out.Torrents), ih)
	}
	s := out.Torrents[0]
	if s.Error == 3 {
		return s, fmt.Errorf("%w on %x: %s", ErrTransmissionLocal, ih, s.ErrorString)
	}
	return s, nil
}

// WaitFor polls ih's state until cond holds, an RPC fails or timeout passes.
func (tr *Transmission) WaitFor(ih [20]byte, what string, timeout time.Duration, cond func(TransmissionTorrent) bool) error {
	var last TransmissionTorrent
	err := PollFor(timeout, "transmission "+what, func() (bool, error) {
		var err error
		last, err = tr.Get(ih)
		return err == nil && cond(last), err
	})
	if err != nil {
		return fmt.Errorf("peerclients: %w; last state %+v", err, last)
	}
	return nil
}

// Seed adds a torrent whose complete content is in dir and waits until
// Transmission has verified it and seeds.
func (tr *Transmission) Seed(torrent, dir string, timeout time.Duration) ([20]byte, error) {
	ih, err := tr.Add(torrent, dir)
	if err != nil {
		return ih, err
	}
	return ih, tr.WaitFor(ih, "to verify and seed", timeout, func(s TransmissionTorrent) bool {
		return s.Status == TransmissionSeeding && s.LeftUntilDone == 0 && s.PercentDone == 1
	})
}
