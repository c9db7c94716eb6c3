package dhtindex

import (
	"slices"
	"testing"
	"time"
)

// TestIntakeRetriesFailedFetch: an infohash whose peers failed to give the
// metadata is taken in again after failedRetry, then after twice that,
// and so on up to failedTTL; one indexed (or refreshed) only after
// recentTTL.
func TestIntakeRetriesFailedFetch(t *testing.T) {
	in := newIntake(1000)
	now := time.Now()
	failed, ok := [20]byte{1}, [20]byte{2}
	for _, ih := range [][20]byte{failed, ok} {
		if !in.offer(ih, "198.51.100.1", "", now) {
			t.Fatal("first offer refused")
		}
		in.next()
	}
	in.done(ok, false, false, nil, now)
	at := now
	for i, wait := range []time.Duration{failedRetry, 2 * failedRetry, 4 * failedRetry, 8 * failedRetry, failedTTL, failedTTL} {
		in.done(failed, false, true, nil, at)
		if in.offer(failed, "198.51.100.1", "", at.Add(wait-time.Second)) {
			t.Fatalf("failure %d: taken in again before %v", i+1, wait)
		}
		at = at.Add(wait + time.Second)
		if !in.offer(failed, "198.51.100.1", "", at) {
			t.Fatalf("failure %d: not retried after %v", i+1, wait)
		}
		in.next()
	}
	if in.offer(ok, "198.51.100.1", "", at) {
		t.Fatal("handled infohash taken in again before recentTTL")
	}
	in.done(failed, false, false, nil, at)
	if in.offer(failed, "198.51.100.1", "", at.Add(failedTTL+time.Second)) {
		t.Fatal("fetched at last, yet taken in again before recentTTL")
	}
}

// TestIntakeRetriesNobody: an infohash get_peers found nobody for is taken
// in again after noPeersRetry (the announcer's announce_peer often comes
// after the get_peers that offered it to us), then after twice that, and
// so on up to noPeersTTL while each look finds nobody.
func TestIntakeRetriesNobody(t *testing.T) {
	in := newIntake(1000)
	now := time.Now()
	ih := [20]byte{9}
	if !in.offer(ih, "198.51.100.1", "", now) {
		t.Fatal("first offer refused")
	}
	in.next()
	at := now
	for i, wait := range []time.Duration{noPeersRetry, 2 * noPeersRetry, 4 * noPeersRetry, 8 * noPeersRetry, noPeersTTL, noPeersTTL} {
		in.done(ih, true, false, nil, at)
		if in.offer(ih, "198.51.100.1", "", at.Add(wait-time.Second)) {
			t.Fatalf("look %d found nobody: taken in again before %v", i+1, wait)
		}
		at = at.Add(wait + time.Second)
		if !in.offer(ih, "198.51.100.1", "", at) {
			t.Fatalf("look %d found nobody: not taken in again after %v", i+1, wait)
		}
		in.next()
	}
	in.done(ih, false, false, nil, at)
	if in.offer(ih, "198.51.100.1", "", at.Add(noPeersTTL+time.Second)) {
		t.Fatal("fetched at last, yet taken in again before recentTTL")
	}
}

// TestIntakeOneFetcherPerInfohash: an infohash offered again while a
// fetcher looks at it is not queued a second time; a peer announced
// meanwhile is tried at once if the look found nothing, unless it was
// among the peers already tried.
func TestIntakeOneFetcherPerInfohash(t *testing.T) {
	in := newIntake(1000)
	now := time.Now()
	ih := [20]byte{3}
	in.offer(ih, "198.51.100.1", "", now)
	c, _ := in.next()
	if !in.offer(ih, "198.51.100.2", "", now) {
		t.Fatal("offer while busy refused")
	}
	if _, ok := in.next(); ok {
		t.Fatal("an infohash being looked at was queued again")
	}
	in.offer(ih, "198.51.100.3", "198.51.100.3:6881", now)
	in.offer(ih, "198.51.100.4", "198.51.100.4:6881", now)
	in.done(c.ih, true, false, []string{"198.51.100.4:6881"}, now)
	c, ok := in.next()
	if !ok || len(c.peers) != 1 || c.peers[0] != "198.51.100.3:6881" {
		t.Fatalf("after a look without peers: candidate %v (%v), want one with the peer announced meanwhile", c, ok)
	}
	in.done(c.ih, false, false, c.peers, now)
	if _, ok := in.next(); ok {
		t.Fatal("queued again after it was fetched")
	}
}

// TestIntakeIgnoresKeys: a key the engine uses for its own rendezvous is
// never taken in, announced or not; other infohashes still are.
func TestIntakeIgnoresKeys(t *testing.T) {
	own := [20]byte{0x5e}
	in := newIntake(1000, own)
	now := time.Now()
	if in.offer(own, "198.51.100.1", "", now) || in.offer(own, "198.51.100.1", "198.51.100.1:6881", now) {
		t.Fatal("an ignored key was taken in")
	}
	if !in.offer([20]byte{0x5f}, "198.51.100.1", "", now) {
		t.Fatal("an infohash was refused")
	}
	if c, ok := in.next(); !ok || c.ih != [20]byte{0x5f} {
		t.Fatalf("queued %v (%v), want only the infohash", c, ok)
	}
}

// TestIntakeKeepsHolders: the nodes whose samples named an infohash stay
// with its candidate, each once and at most maxHolders, and an offer from
// a query (no holder) adds none.
func TestIntakeKeepsHolders(t *testing.T) {
	in := newIntake(1 << 20)
	now := time.Now()
	ih := [20]byte{7}
	for _, h := range []string{"198.51.100.1:6881", "198.51.100.1:6881", "198.51.100.2:6881", "[2001:db8::1]:6881", "198.51.100.3:6881"} {
		if !in.offerSample(ih, h, now) {
			t.Fatalf("sample from %s refused", h)
		}
	}
	in.offer(ih, "198.51.100.9", "198.51.100.9:51413", now)
	if in.offerSample([20]byte{8}, "no port", now) {
		t.Fatal("a holder without a port was taken in")
	}
	c, ok := in.next()
	want := []string{"198.51.100.1:6881", "198.51.100.2:6881", "[2001:db8::1]:6881"}
	if !ok || !slices.Equal(c.holders, want) || c.from != "198.51.100.1" {
		t.Fatalf("candidate %+v, want holders %v from 198.51.100.1", c, want)
	}
}

// TestIntakeFreshFirst: candidates are taken by how often their fetch
// failed before, fewest first, in arrival order within each level: an
// infohash offered after a retried one, but never tried, goes first.
// Queued in arrival order alone, a fresh torrent waited behind every
// retry of hopeless ones (the DHT simulation's announce-only infohashes).
func TestIntakeFreshFirst(t *testing.T) {
	in := newIntake(1000)
	now := time.Now()
	once, twice, fresh, fresh2 := [20]byte{1}, [20]byte{2}, [20]byte{3}, [20]byte{4}
	fail := func(ih [20]byte, times int) {
		for range times {
			if !in.offer(ih, "198.51.100.1", "", now) {
				t.Fatalf("%x not taken in", ih[:1])
			}
			if c, ok := in.next(); !ok || c.ih != ih {
				t.Fatalf("next: %v %v, want %x", c, ok, ih[:1])
			}
			in.done(ih, false, true, nil, now)
			now = now.Add(failedTTL + time.Second)
		}
	}
	fail(twice, 2)
	fail(once, 1)
	for _, ih := range [][20]byte{twice, once, fresh, fresh2} {
		if !in.offer(ih, "198.51.100.1", "", now) {
			t.Fatalf("%x not taken in", ih[:1])
		}
	}
	var got [][20]byte
	for {
		c, ok := in.next()
		if !ok {
			break
		}
		got = append(got, c.ih)
	}
	if want := [][20]byte{fresh, fresh2, once, twice}; !slices.Equal(got, want) {
		t.Errorf("taken in order %x, want %x", got, want)
	}
}

// TestIntakeFullEvictsRetries: a queue full of candidates whose fetches
// failed before takes in a fresh infohash by dropping the newest of the
// most-failed ones, while a candidate no fresher than the worst is still
// refused. Before, a full queue refused everything new, however hopeless
// the retries holding it.
func TestIntakeFullEvictsRetries(t *testing.T) {
	in := newIntake(maxPending + 10)
	now := time.Now()
	old := now.Add(-failedTTL - time.Hour) // long enough ago to be retried
	key := func(i int) [20]byte { return [20]byte{byte(i >> 16), byte(i >> 8), byte(i), 0xEE} }
	for i := range maxPending {
		ih := key(i)
		in.recent[ih] = handled{at: old, fails: 3}
		if !in.offer(ih, "198.51.100.1", "", now) {
			t.Fatalf("retry %d not taken in", i)
		}
	}
	worst := key(maxPending)
	in.recent[worst] = handled{at: old, fails: 5}
	if in.offer(worst, "198.51.100.2", "", now) {
		t.Fatal("a full queue took in a retry no fresher than those it holds")
	}
	fresh := [20]byte{0xF1}
	if !in.offer(fresh, "198.51.100.2", "", now) {
		t.Fatal("a full queue of retries refused a fresh infohash")
	}
	if got := len(in.pending); got != maxPending {
		t.Fatalf("%d pending after the eviction, want %d", got, maxPending)
	}
	if in.pending[key(maxPending-1)] != nil {
		t.Error("the newest retry was not the one dropped")
	}
	if c, ok := in.next(); !ok || c.ih != fresh {
		t.Fatalf("next: %v %v, want the fresh infohash first", c, ok)
	}
	if in.evicted != 1 || in.refusedFull != 1 {
		t.Errorf("evicted %d, refused full %d; want 1 and 1", in.evicted, in.refusedFull)
	}
}
