package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/shoalp2p/shoal/engine"
)

// runRatio prints the all-time counters of a data folder as JSON; it works
// while a daemon or the app is using the folder.
func runRatio(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ratio", stderr)
	data := fs.String("data", defaultDataDir(), "folder for all state")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := engine.ReadRatio(*data)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"uploaded": r.Uploaded, "downloaded": r.Downloaded, "ratio": finite(r.Value())})
	fmt.Fprintln(stdout, string(b))
	return nil
}

// finite maps +Inf (uploaded with nothing downloaded) to -1 for JSON.
func finite(v float64) float64 {
	if v > 1e300 {
		return -1
	}
	return v
}
