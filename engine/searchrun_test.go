package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/engine/overlay"
)

// TestSearchDoneWhenAnswered: on real engines (a supernode S, A sharing, B
// searching), a search ends as soon as the supernodes it went to have
// answered, well before the answer timeout, with its hit, and without a
// timeout; the words land first in B's search history. A search stopped at
// once ends at once, marked stopped.
func TestSearchDoneWhenAnswered(t *testing.T) {
	a, b := enginetest.StartSearchNet(t)
	src := enginetest.RandomFile(t, t.TempDir(), "Quokka Holiday Photos.zip", 64<<10)
	ih, err := a.ShareSync(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	enginetest.WaitFor(t, "a hit for 'quokka'", 60*time.Second, func() bool {
		defer time.Sleep(time.Second / overlay.DefaultQueryRate) // stay inside the supernode's rate limit
		_, found := searchOnce(t, b, "quokka", ih, false)
		return found
	})

	time.Sleep(time.Second)
	start := time.Now()
	p, found := searchOnce(t, b, "quokka", ih, true)
	took := time.Since(start)
	if !found || !p.Done || p.TimedOut || p.Stopped || p.Asked == 0 || p.Answered != p.Asked {
		t.Fatalf("progress %+v, found %v", p, found)
	}
	if took >= overlay.DefaultAnswerTimeout {
		t.Fatalf("search took %v, as long as the answer timeout", took)
	}
	t.Logf("search done after %v: %+v", took, p)
	if h := b.SearchHistory(); len(h) == 0 || h[0] != "quokka" {
		t.Fatalf("history %q", h)
	}

	time.Sleep(time.Second)
	run, err := b.StartSearch(context.Background(), "quokka  holiday")
	if err != nil {
		t.Fatal(err)
	}
	before := run.Progress()
	run.Stop()
	select {
	case <-drain(run.Hits):
	case <-time.After(2 * time.Second):
		t.Fatal("a stopped search still streams")
	}
	if p := run.Progress(); !before.Done && (!p.Stopped || p.Done) {
		t.Fatalf("stopped search: %+v", p)
	}
	if h := b.SearchHistory(); !slices.Equal(h[:2], []string{"quokka holiday", "quokka"}) {
		t.Fatalf("history %q", h)
	}
	if err := b.ClearSearchHistory(); err != nil || len(b.SearchHistory()) != 0 {
		t.Fatalf("clear: %v, left %q", err, b.SearchHistory())
	}
}

// searchOnce runs one search to its end (bounded by a test timeout) and
// reports its progress and whether ih was found.
func searchOnce(t *testing.T, n *enginetest.Node, words string, ih engine.InfoHash, must bool) (engine.SearchProgress, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*overlay.DefaultAnswerTimeout)
	defer cancel()
	run, err := n.StartSearch(ctx, words)
	if err != nil {
		if must {
			t.Fatal(err)
		}
		return engine.SearchProgress{}, false
	}
	found := false
	for h := range run.Hits {
		found = found || h.InfoHash == ih
	}
	return run.Progress(), found
}

func drain(ch <-chan engine.Hit) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	return done
}
