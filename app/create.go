package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/shoalp2p/shoal/engine/storage"
)

func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pieceLength := fs.Int64("piece-length", 0, "piece length in bytes (0 = automatic)")
	var trackers multiFlag
	fs.Var(&trackers, "tracker", "announce URL (repeatable)")
	out := fs.String("o", "", "output .torrent file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return errors.New("create: usage: shoal create [--piece-length N] [--tracker URL]... -o FILE.torrent PATH")
	}
	mi, err := storage.Create(ctx, fs.Arg(0), storage.CreateOptions{PieceLength: *pieceLength,
		Trackers: trackers, CreatedBy: "Shoal 0.1"}, nil)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if err := mi.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("create: write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(stdout, "%s %s\n", mi.HashInfoBytes().HexString(), *out)
	return nil
}
