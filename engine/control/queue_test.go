package control_test

import (
	"context"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/control"
	"github.com/shoalp2p/shoal/engine/enginetest"
)

// TestStatusShowsQueue: with one active download allowed, the second
// magnet added waits, and status says "queued" with its place in line.
func TestStatusShowsQueue(t *testing.T) {
	n := enginetest.Start(t, enginetest.Config(t))
	s := n.Settings()
	s.MaxActiveDownloads = 1
	if err := n.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	dir := n.Config.DataDir
	srv, err := control.Listen(dir, n.Engine, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	second := "1123456789abcdef0123456789abcdef01234567"
	for _, ih := range []string{testIH, second} {
		if _, err := control.Add(ctx(t), dir, "magnet:?xt=urn:btih:"+ih); err != nil {
			t.Fatal(err)
		}
	}
	enginetest.WaitFor(t, "the second download queued", 10*time.Second, func() bool {
		st, err := control.GetStatus(ctx(t), dir)
		if err != nil || len(st.Transfers) != 2 {
			return false
		}
		first, last := st.Transfers[0], st.Transfers[1]
		if first.InfoHash != testIH {
			first, last = last, first
		}
		return first.State != "queued" && first.Queued == 0 && last.State == "queued" && last.Queued == 1
	})
}
