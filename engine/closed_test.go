package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCommandsOnAStoppedEngineSayClosed: once Run has returned, every
// command returns ErrClosed, as documented, instead of an error from a
// closed database or socket, and changes nothing.
func TestCommandsOnAStoppedEngineSayClosed(t *testing.T) {
	ctx := context.Background()
	e, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	ih, err := e.ShareSync(ctx, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go e.Run(runCtx)
	stop()
	<-e.Stopped()

	magnet := "magnet:?xt=urn:btih:" + ih.String()
	_, errDownload := e.Download(ctx, DownloadRequest{Source: magnet})
	_, errShareSync := e.ShareSync(ctx, file, nil)
	_, errSearch := e.Search(ctx, "hello")
	cmds := map[string]error{
		"Download":           errDownload,
		"Pause":              e.Pause(ih),
		"Resume":             e.Resume(ih),
		"Remove":             e.Remove(ih, true),
		"AddPeers":           e.AddPeers(ih, "127.0.0.1:1"),
		"Share":              e.Share(file),
		"ShareSync":          errShareSync,
		"Search":             errSearch,
		"SetSettings":        e.SetSettings(e.Settings()),
		"SetTransferOptions": e.SetTransferOptions(ih, TransferOptions{}),
	}
	for name, err := range cmds {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a stopped engine: %v, want ErrClosed", name, err)
		}
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("Remove on a stopped engine touched the shared file: %v", err)
	}
}
