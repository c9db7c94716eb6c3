package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/units"
)

func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("get", stderr)
	var c common
	c.register(fs)
	out := fs.String("out", ".", "folder to download into")
	var peers multiFlag
	fs.Var(&peers, "peer", "peer HOST:PORT to dial (repeatable)")
	seed := fs.Bool("seed", false, "keep seeding after the download completes")
	timeout := fs.Duration("timeout", 0, "give up after this long (0 = never)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("get: want exactly one MAGNET, FILE.torrent or INFOHASH")
	}
	cfg, err := c.config(stderr)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	e, stop, err := startEngine(ctx, cfg)
	if err != nil {
		return err
	}
	defer stop()
	ih, err := e.Download(ctx, engine.DownloadRequest{Source: fs.Arg(0), Dir: dir, Peers: peers})
	if err != nil {
		return err
	}
	t, err := waitDownload(ctx, e, ih, *quiet, stderr)
	if err != nil {
		return err
	}
	if !*seed {
		stop() // the final flush makes the session byte count exact
	}
	fmt.Fprintf(stdout, "complete %s %q %d bytes in %s; downloaded %d this run\n",
		ih, t.Name, t.Size, filepath.Join(dir, t.Name), e.Snapshot().Ratio.SessionDownloaded)
	if *seed {
		fmt.Fprintln(stderr, "seeding; Ctrl-C to stop")
		<-ctx.Done()
	}
	return nil
}

// waitDownload polls the engine until the transfer completes or fails.
// It looks every 50 ms and as soon as the engine announces a completed
// download (Changed), so a script learns of the end at once; progress
// lines still come every 2 s.
func waitDownload(ctx context.Context, e *engine.Engine, ih engine.InfoHash, quiet bool, stderr io.Writer) (engine.TransferSnapshot, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastPrint := time.Time{}
	reported := map[engine.PeerKey]bool{}
	for {
		changed := e.Changed() // before the snapshot, so no change is missed
		var t engine.TransferSnapshot
		for _, x := range e.Snapshot().Transfers {
			if x.InfoHash == ih {
				t = x
			}
		}
		for _, b := range t.Banned {
			if !reported[b.Key] {
				reported[b.Key] = true
				fmt.Fprintf(stderr, "banned peer %s: %s\n", b.Key, b.Reason)
			}
		}
		switch {
		case t.State == engine.StateError:
			return t, fmt.Errorf("get: %s", t.Err)
		case t.Done():
			return t, nil
		}
		if !quiet && time.Since(lastPrint) >= 2*time.Second {
			lastPrint = time.Now()
			fmt.Fprintf(stderr, "%s %5.1f%% %s from %d peers\n", t.State, 100*t.Progress(), units.Rate(t.DownRate), t.Peers)
		}
		select {
		case <-ctx.Done():
			return t, fmt.Errorf("get: stopped at %.1f%% (%d peers): %w", 100*t.Progress(), t.Peers, ctx.Err())
		case <-tick.C:
		case <-changed:
		}
	}
}
