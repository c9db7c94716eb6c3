package peerclients

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// createTimeout bounds one .torrent maker run.
const createTimeout = 2 * time.Minute

// CreateTransmission makes out, a .torrent of src (a file or a folder),
// with transmission-create (from transmission-cli) and the given trackers.
func CreateTransmission(src, out string, trackers ...string) error {
	args := []string{"-o", out}
	for _, tr := range trackers {
		args = append(args, "-t", tr)
	}
	return runMaker("transmission-create", append(args, src)...)
}

// CreateMktorrent makes out, a .torrent of src (a file or a folder), with
// mktorrent and the given trackers. out must not exist yet.
func CreateMktorrent(src, out string, trackers ...string) error {
	args := []string{"-o", out}
	for _, tr := range trackers {
		args = append(args, "-a", tr)
	}
	return runMaker("mktorrent", append(args, src)...)
}

// runMaker runs a .torrent maker to completion.
func runMaker(name string, args ...string) error {
	bin, err := Bin(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("peerclients: %s: %w: %s", name, err, out)
	}
	return nil
}
