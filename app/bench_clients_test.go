package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Other BitTorrent clients for the bench, each kept to 127.0.0.1 with DHT,
// PEX, LSD and UPnP off, as /work/shared/PEERS.md describes.

// benchAria2Args are the options every aria2c run gets.
func benchAria2Args(port int) []string {
	return []string{"--no-conf", "--enable-dht=false", "--enable-dht6=false",
		"--enable-peer-exchange=false", "--bt-enable-lpd=false", "--disable-ipv6=true",
		"--interface=127.0.0.1", "--listen-port=" + strconv.Itoa(port),
		"--summary-interval=0", "--show-console-readout=false", "--enable-color=false",
		"--console-log-level=warn", "--file-allocation=none"}
}

// startBenchAria2 runs aria2c on torrent with content in dir: a seeder seeds
// forever, a leecher exits 0 once the download is complete and verified.
func startBenchAria2(t *testing.T, torrent, dir string, seed bool) (*benchProc, error) {
	bin := benchBin("aria2c")
	if bin == "" {
		return nil, benchNotInstalled("aria2c")
	}
	port := benchFreePort(t)
	args := benchAria2Args(port)
	if seed {
		args = append(args, "--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false")
	} else {
		args = append(args, "--seed-time=0")
	}
	p := startBenchProc(t, bin, append(args, "-d", dir, torrent)...)
	if seed {
		return p, benchWaitTCP(p, "127.0.0.1:"+strconv.Itoa(port), 15*time.Second)
	}
	return p, nil
}

// benchQbit is a qbittorrent-nox with one torrent, driven through its Web API.
type benchQbit struct {
	proc *benchProc
	api  string
}

const benchQbitConf = `[LegalNotice]
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

// startBenchQbit runs qbittorrent-nox on torrent saving into dir; a seeder skips
// the hash check of content already there.
func startBenchQbit(t *testing.T, torrent, dir string, seed bool) (*benchQbit, error) {
	bin := benchBin("qbittorrent-nox")
	if bin == "" {
		return nil, benchNotInstalled("qbittorrent-nox")
	}
	profile := t.TempDir()
	peerPort, webPort := benchFreePort(t), benchFreePort(t)
	conf := filepath.Join(profile, "qBittorrent", "config", "qBittorrent.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, fmt.Appendf(nil, benchQbitConf, peerPort, webPort), 0o644); err != nil {
		return nil, err
	}
	args := []string{"--profile=" + profile, "--webui-port=" + strconv.Itoa(webPort), "--save-path=" + dir}
	if seed {
		args = append(args, "--skip-hash-check")
	}
	q := &benchQbit{proc: startBenchProc(t, bin, append(args, torrent)...),
		api: "http://127.0.0.1:" + strconv.Itoa(webPort) + "/api/v2"}
	return q, nil
}

// done reports whether the torrent is complete; errors while the Web UI
// is still starting are not errors.
func (q *benchQbit) done() (bool, error) {
	if q.proc.exited() {
		return false, fmt.Errorf("qbittorrent-nox exited (%v): %s", q.proc.err, q.proc.out.tail(2000))
	}
	resp, err := benchHTTP.Get(q.api + "/torrents/info")
	if err != nil {
		return false, nil
	}
	defer resp.Body.Close()
	var list []struct {
		Progress   float64 `json:"progress"`
		AmountLeft int64   `json:"amount_left"`
		State      string  `json:"state"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 1 {
		return false, nil
	}
	switch list[0].State {
	case "error", "missingFiles":
		return false, fmt.Errorf("qbittorrent state %q", list[0].State)
	}
	return list[0].Progress == 1 && list[0].AmountLeft == 0 && list[0].State != "checkingUP", nil
}

// benchTransmission is a transmission-daemon on 127.0.0.1 driven through its
// JSON RPC (what transmission-remote uses).
type benchTransmission struct {
	proc     *benchProc
	peerAddr string
	rpcURL   string
	session  string
}

// startBenchTransmission runs a fresh daemon with discovery and NAT traversal off.
func startBenchTransmission(t *testing.T) (*benchTransmission, error) {
	bin := benchBin("transmission-daemon")
	if bin == "" {
		return nil, benchNotInstalled("transmission-daemon")
	}
	cfgDir := t.TempDir()
	peerPort, rpcPort := benchFreePort(t), benchFreePort(t)
	settings := map[string]any{
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
		"port-forwarding-enabled": false, "utp-enabled": false,
		"bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
		"peer-port": peerPort, "peer-port-random-on-start": false,
		"rpc-enabled": true, "rpc-bind-address": "127.0.0.1", "rpc-port": rpcPort,
		"rpc-authentication-required": false, "rpc-whitelist": "127.0.0.1",
		"rpc-whitelist-enabled": true, "rpc-host-whitelist-enabled": false,
		"download-dir": t.TempDir(), "incomplete-dir-enabled": false,
		"rename-partial-files": false, "ratio-limit-enabled": false,
		"idle-seeding-limit-enabled": false, "speed-limit-up-enabled": false,
		"speed-limit-down-enabled": false, "download-queue-enabled": false,
		"seed-queue-enabled": false, "queue-stalled-enabled": false,
		"start-added-torrents": true, "blocklist-enabled": false, "message-level": 1,
	}
	b, _ := json.Marshal(settings)
	if err := os.WriteFile(filepath.Join(cfgDir, "settings.json"), b, 0o600); err != nil {
		return nil, err
	}
	tr := &benchTransmission{proc: startBenchProc(t, bin, "-f", "-g", cfgDir),
		peerAddr: "127.0.0.1:" + strconv.Itoa(peerPort),
		rpcURL:   fmt.Sprintf("http://127.0.0.1:%d/transmission/rpc", rpcPort)}
	// The peer port is not probed: Transmission would reset the next
	// connection from an address whose handshake it still tracks.
	return tr, benchWaitTCP(tr.proc, "127.0.0.1:"+strconv.Itoa(rpcPort), 15*time.Second)
}

// call makes one RPC call, fetching the CSRF session id first if needed.
func (tr *benchTransmission) call(method string, args, out any) error {
	body, _ := json.Marshal(map[string]any{"method": method, "arguments": args})
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, tr.rpcURL, bytes.NewReader(body))
		req.Header.Set("X-Transmission-Session-Id", tr.session)
		resp, err := benchHTTP.Do(req)
		if err != nil {
			return fmt.Errorf("transmission %s: %w", method, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict {
			tr.session = resp.Header.Get("X-Transmission-Session-Id")
			continue
		}
		var r struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.Result != "success" {
			return fmt.Errorf("transmission %s: HTTP %d: %s", method, resp.StatusCode, raw)
		}
		if out != nil {
			return json.Unmarshal(r.Arguments, out)
		}
		return nil
	}
	return fmt.Errorf("transmission %s: no session id accepted", method)
}

// add gives Transmission a .torrent whose content is (or goes) in dir.
func (tr *benchTransmission) add(torrent, dir string) error {
	mi, err := os.ReadFile(torrent)
	if err != nil {
		return err
	}
	return tr.call("torrent-add", map[string]any{"metainfo": base64.StdEncoding.EncodeToString(mi),
		"download-dir": dir, "paused": false}, nil)
}

// benchTrState is the part of torrent-get the bench reads.
type benchTrState struct {
	Status         int    `json:"status"`
	LeftUntilDone  int64  `json:"leftUntilDone"`
	HaveValid      int64  `json:"haveValid"`
	Error          int    `json:"error"`
	ErrorString    string `json:"errorString"`
	PeersConnected int    `json:"peersConnected"`
}

const benchTrSeeding = 6

func (tr *benchTransmission) state() (benchTrState, error) {
	var out struct {
		Torrents []benchTrState `json:"torrents"`
	}
	err := tr.call("torrent-get", map[string]any{"fields": []string{"status", "leftUntilDone",
		"haveValid", "error", "errorString", "peersConnected"}}, &out)
	if err != nil || len(out.Torrents) != 1 {
		return benchTrState{}, fmt.Errorf("transmission torrent-get: %d torrents, %v", len(out.Torrents), err)
	}
	if s := out.Torrents[0]; s.Error == 3 {
		return s, fmt.Errorf("transmission: local error: %s", s.ErrorString)
	}
	return out.Torrents[0], nil
}

// seed adds a torrent whose content is complete in dir and waits until
// Transmission has verified it and seeds.
func (tr *benchTransmission) seed(torrent, dir string, timeout time.Duration) error {
	if err := tr.add(torrent, dir); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return benchWaitUntil(ctx, "transmission verifies and seeds", func() (bool, error) {
		s, err := tr.state()
		return err == nil && s.Status == benchTrSeeding && s.LeftUntilDone == 0, err
	})
}
