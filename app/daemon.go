package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/storage"
)

// readyLine is what the daemon prints, as one JSON line, once it serves.
type readyLine struct {
	PeerAddr      string            `json:"peer_addr"`
	DHTAddr       string            `json:"dht_addr"`
	PeerAddr6     string            `json:"peer_addr6,omitempty"` // IPv6, with a host-less --listen
	DHTAddr6      string            `json:"dht_addr6,omitempty"`
	SupernodeAddr string            `json:"supernode_addr,omitempty"`
	Shared        map[string]string `json:"shared,omitempty"` // path -> infohash
	DataDir       string            `json:"data_dir"`
}

func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("daemon", stderr)
	var c common
	c.register(fs)
	var shares multiFlag
	fs.Var(&shares, "share", "file or folder to share (repeatable)")
	format := fs.String("share-format", "", shareFormatHelp)
	supernode := fs.Bool("supernode", false, "always be a search supernode (default: automatic)")
	leaf := fs.Bool("leaf", false, "never become a search supernode (default: automatic)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := c.config(stderr)
	if err != nil {
		return err
	}
	if *supernode && *leaf {
		return fmt.Errorf("daemon: --supernode and --leaf exclude each other")
	}
	cfg.Supernode, cfg.Leaf = *supernode, *leaf
	if cfg.ShareFormat, err = parseShareFormat(*format); err != nil {
		return err
	}
	e, stop, err := startEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	line := readyLine{Shared: map[string]string{}, DataDir: cfg.DataDir}
	for _, p := range shares {
		ih, err := e.ShareSync(ctx, p, nil)
		if err != nil {
			return err
		}
		line.Shared[p] = ih.String()
	}
	line.PeerAddr, line.DHTAddr, line.SupernodeAddr = e.Addrs()
	line.PeerAddr6, line.DHTAddr6 = e.Addrs6()
	b, _ := json.Marshal(line)
	fmt.Fprintln(stdout, string(b))
	startIdleProfile()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-usr1:
			printRuntime(stdout)
			writeHeapProfile(os.Getenv("SHOAL_HEAPPROFILE"), stderr)
		}
	}
}

// runtimeLine is what the daemon prints, as one JSON line, on SIGUSR1: the
// figures of its own that the idle-library bench reads.
type runtimeLine struct {
	Goroutines   int `json:"goroutines"`
	StorageFiles int `json:"storage_files"` // descriptors held by torrent storage
	// PiecesHashed counts pieces read back from disk to be hashed since
	// the start: 0 when a start trusted its records (no rehash).
	PiecesHashed int64 `json:"pieces_hashed"`
}

// writeHeapProfile writes a heap profile (for `go tool pprof`) to path,
// when set: SHOAL_HEAPPROFILE=FILE and SIGUSR1 show what an idle daemon
// holds.
func writeHeapProfile(path string, stderr io.Writer) {
	if path == "" {
		return
	}
	runtime.GC() // the profile shows live memory as of the last collection
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "shoal: heap profile:", err)
	}
}

func printRuntime(w io.Writer) {
	files, _ := storage.OpenFiles()
	b, _ := json.Marshal(runtimeLine{Goroutines: runtime.NumGoroutine(), StorageFiles: files,
		PiecesHashed: storage.PiecesHashed()})
	fmt.Fprintln(w, string(b))
}

// shareFormatHelp explains --share-format.
const shareFormatHelp = "what sharing makes of each file or folder: hybrid (v1 and v2 in one, as qBittorrent makes them), " +
	"v1 (for Transmission 3 and aria2, which cannot download v2 or hybrid torrents) or v2 (v2 only, for the newest clients); " +
	"empty = the choice saved in Settings > Sharing, hybrid at first"

// parseShareFormat reads --share-format: nil keeps the saved setting.
func parseShareFormat(s string) (*engine.TorrentFormat, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	f, err := engine.ParseTorrentFormat(s)
	if err != nil {
		return nil, fmt.Errorf("--share-format %q: choose hybrid (v1 and v2 in one, the default), "+
			"v1 (works with every client) or v2 (v2 only)", s)
	}
	return &f, nil
}
