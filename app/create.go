package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/storage"
)

func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("create", stderr)
	pieceLength := fs.Int64("piece-length", 0, "piece length in bytes (0 = automatic)")
	var trackers multiFlag
	fs.Var(&trackers, "tracker", "announce URL (repeatable)")
	out := fs.String("o", "", "output .torrent file")
	v1 := fs.Bool("v1", false, "make a v1-only torrent (BEP 3) instead of a hybrid")
	v2 := fs.Bool("v2", false, "make a v2-only torrent (BEP 52) instead of a hybrid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" || (*v1 && *v2) {
		return errors.New("create: usage: shoal create [--v1 | --v2] [--piece-length N] [--tracker URL]... -o FILE.torrent PATH " +
			"(hybrid v1+v2 unless --v1 or --v2)")
	}
	format := storage.Hybrid
	if *v1 {
		format = storage.V1Only
	} else if *v2 {
		format = storage.V2Only
	}
	mi, err := storage.Create(ctx, fs.Arg(0), storage.CreateOptions{PieceLength: *pieceLength,
		Trackers: trackers, CreatedBy: engine.CreatedBy, Format: format}, nil)
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
	fmt.Fprintln(stdout, createdLine(mi, format, *out))
	return nil
}

// createdLine names what create wrote: the v1 infohash, the v2 one, or
// both for a hybrid, then the file.
func createdLine(mi *metainfo.MetaInfo, format storage.Format, out string) string {
	v1 := mi.HashInfoBytes().HexString()
	v2 := sha256.Sum256(mi.InfoBytes)
	switch format {
	case storage.V1Only:
		return v1 + " " + out
	case storage.V2Only:
		return hex.EncodeToString(v2[:]) + " " + out
	}
	return v1 + " " + hex.EncodeToString(v2[:]) + " " + out
}
