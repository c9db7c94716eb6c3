package overlay

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// fastRoles makes role changes quick enough for tests.
func fastRoles(p Promotion) Promotion {
	if p.MinUptime == 0 {
		p.MinUptime = time.Millisecond
	}
	if p.AloneAfter == 0 {
		p.AloneAfter = time.Hour
	}
	p.InviteEvery = 100 * time.Millisecond
	p.CheckInterval = 50 * time.Millisecond
	p.Capable = func() bool { return true }
	return p
}

// startAuto runs an automatic node: its Supernode starts inactive and its
// leaf looks for supernodes through leafFinder.
func startAuto(t *testing.T, p Promotion, snFinder, leafFinder Finder) (*testNode, *Leaf) {
	t.Helper()
	n := listenNode(t).start(t, SupernodeConfig{Auto: true, Finder: snFinder, Promotion: fastRoles(p), MaxLeaves: 10})
	l := runLeaf(t, LeafConfig{PeerAddr: n.addr, Dial: loopback.Dial, Finder: leafFinder, Local: n.sn})
	return n, l
}

func TestAloneNodePromotes(t *testing.T) {
	t.Parallel()
	n, l := startAuto(t, Promotion{AloneAfter: 100 * time.Millisecond}, nil, StaticFinder{})
	if n.sn.Active() {
		t.Fatal("an automatic node must start as a leaf")
	}
	changed := n.sn.RoleChanged()
	waitFor(t, 5*time.Second, "promotion", n.sn.Active)
	select {
	case <-changed:
	default:
		t.Fatal("RoleChanged not closed")
	}
	waitFor(t, 5*time.Second, "leaf through the local supernode", func() bool {
		return slices.Equal(l.Supernodes(), []string{n.addr})
	})
	if st := n.sn.Stats(); st.Promotions != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestAloneUnreachableStaysLeaf: a node that finds no supernode but is not
// known to be reachable does not make itself a supernode nobody can reach;
// it keeps looking, says so, and promotes once it learns it is reachable.
func TestAloneUnreachableStaysLeaf(t *testing.T) {
	t.Parallel()
	var reachable atomic.Bool
	n, _ := startAuto(t, Promotion{AloneAfter: 50 * time.Millisecond, Reachable: reachable.Load}, nil, StaticFinder{})
	waitFor(t, 5*time.Second, "alone and unreachable noted", n.sn.AloneUnreachable)
	time.Sleep(300 * time.Millisecond) // several role checks
	if n.sn.Active() {
		t.Fatal("an unreachable node promoted itself")
	}
	reachable.Store(true)
	waitFor(t, 5*time.Second, "promotion once reachable", n.sn.Active)
	if n.sn.AloneUnreachable() {
		t.Fatal("AloneUnreachable still set on a supernode")
	}
}

// TestInvitePromotes: a supernode over InviteAbove probes a capable leaf,
// finds it reachable and invites it; the leaf's node promotes itself and
// links to its old supernode as a neighbour.
func TestInvitePromotes(t *testing.T) {
	t.Parallel()
	hub := listenNode(t).start(t, SupernodeConfig{Promotion: fastRoles(Promotion{InviteAbove: 1})})
	n, l := startAuto(t, Promotion{}, nil, StaticFinder{hub.addr})
	waitFor(t, 5*time.Second, "invited and promoted", n.sn.Active)
	if !n.sn.Reachable() || hub.sn.Stats().Invites == 0 {
		t.Fatalf("reachable %v, hub %+v", n.sn.Reachable(), hub.sn.Stats())
	}
	waitFor(t, 5*time.Second, "new supernode linked to the hub", func() bool {
		return slices.Equal(n.sn.Neighbours(), []string{hub.addr})
	})
	waitFor(t, 5*time.Second, "leaf moved in-process", func() bool {
		return slices.Equal(l.Supernodes(), []string{n.addr}) && hub.sn.Leaves() == 0
	})
}

// TestDemotion: an automatic supernode with too few leaves, while others
// have room, steps down; its remote leaf is told where to go and moves.
func TestDemotion(t *testing.T) {
	t.Parallel()
	hubs := startNodes(t, 2, func(i int, addrs []string) SupernodeConfig {
		return SupernodeConfig{Finder: StaticFinder(addrs), MaxLeaves: 10}
	})
	waitNeighbours(t, hubs, 1, 1)
	p := Promotion{AloneAfter: 50 * time.Millisecond, MinSupernodes: 2, DemoteBelow: 2,
		DemoteAfter: 500 * time.Millisecond, Cooldown: time.Hour}
	n, _ := startAuto(t, p, StaticFinder{hubs[0].addr, hubs[1].addr}, StaticFinder{})
	waitFor(t, 5*time.Second, "alone node promoted", n.sn.Active)
	l := startLeaf(t, "127.0.0.1:40301", 1, n.addr)
	waitFor(t, 5*time.Second, "leaf on the new supernode", func() bool { return slices.Equal(l.Supernodes(), []string{n.addr}) })
	waitFor(t, 10*time.Second, "demotion", func() bool { return !n.sn.Active() })
	waitFor(t, 10*time.Second, "leaf moved to a hub", func() bool {
		got := l.Supernodes()
		return len(got) == 1 && (got[0] == hubs[0].addr || got[0] == hubs[1].addr)
	})
	if st := n.sn.Stats(); st.Demotions != 1 || st.Supernodes != 0 {
		t.Fatalf("%+v", st)
	}
	// Demoted, it turns leaves and supernodes away.
	_, reply := dialRaw(t, n.addr, leafHello())
	if reply.Type != typeError || reply.Code != CodeNotSupernode || len(reply.Supernodes) == 0 {
		t.Fatalf("reply %+v", reply)
	}
}

// TestRoleLoopBacksOff: an idle node's role check backs off instead of
// running every CheckInterval, yet a pending change still happens on
// time: a node alone promotes at its deadline (here well before the first
// CheckInterval), and a leaf linking is looked at at once.
func TestRoleLoopBacksOff(t *testing.T) {
	t.Parallel()
	p := fastRoles(Promotion{})
	p.CheckInterval = 10 * time.Millisecond
	n := listenNode(t).start(t, SupernodeConfig{Promotion: p, MaxLeaves: 10})
	time.Sleep(time.Second)
	// Every 10 ms would be 100 looks; doubling to 160 ms makes about 10.
	if got := n.sn.stats.roleChecks.Load(); got > 30 {
		t.Fatalf("an idle supernode looked at its role %d times in 1 s with CheckInterval 10 ms, want a back-off", got)
	}
	before := n.sn.stats.roleChecks.Load()
	runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:9", Dial: loopback.Dial, Finder: StaticFinder{n.addr}})
	waitFor(t, 5*time.Second, "a look after the leaf linked", func() bool {
		return n.sn.Leaves() == 1 && n.sn.stats.roleChecks.Load() > before
	})

	q := fastRoles(Promotion{AloneAfter: 100 * time.Millisecond})
	q.CheckInterval = time.Minute
	alone := listenNode(t).start(t, SupernodeConfig{Auto: true, Promotion: q, MaxLeaves: 10})
	runLeaf(t, LeafConfig{PeerAddr: alone.addr, Dial: loopback.Dial, Finder: StaticFinder{}, Local: alone.sn})
	start := time.Now()
	waitFor(t, 20*time.Second, "promotion when alone", alone.sn.Active)
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("a node alone promoted after %v with AloneAfter 100-200 ms, want it at its deadline, not at a CheckInterval of a minute", took)
	}
}

// TestHeldPromotionDoesNotBackOff: a node alone past its deadline but not
// known to be reachable keeps looking every CheckInterval (the owner's
// word on reachability is only seen by looking), instead of backing off to
// 16 of them and promoting up to that late once it is reachable.
func TestHeldPromotionDoesNotBackOff(t *testing.T) {
	t.Parallel()
	var looks atomic.Int64
	reachable := func() bool { looks.Add(1); return false }
	p := fastRoles(Promotion{AloneAfter: 10 * time.Millisecond, Reachable: reachable})
	p.CheckInterval = 20 * time.Millisecond
	n := listenNode(t).start(t, SupernodeConfig{Auto: true, Promotion: p, MaxLeaves: 10})
	runLeaf(t, LeafConfig{PeerAddr: n.addr, Dial: loopback.Dial, Finder: StaticFinder{}, Local: n.sn})
	waitFor(t, 5*time.Second, "alone and unreachable noted", n.sn.AloneUnreachable)
	before := looks.Load()
	time.Sleep(3 * time.Second)
	// Every 20 ms is 150 looks; backing off to 320 ms makes about 12.
	if got := looks.Load() - before; got < 40 {
		t.Fatalf("a node alone and waiting to be reachable looked %d times in 3 s with CheckInterval 20 ms: it backed off", got)
	}
}

// lateFinder names nobody until set.
type lateFinder struct{ addr atomic.Pointer[string] }

func (f *lateFinder) FindSupernodes(context.Context) ([]string, error) {
	if a := f.addr.Load(); a != nil {
		return []string{*a}, nil
	}
	return nil, nil
}

// TestAdvertKicksRoleCheck: a change in the neighbourhood is looked at
// when it happens, not at the next (backed-off) tick. An automatic
// supernode with no leaves cannot step down while it knows no other
// supernode; once one links and advertises room for its leaves, it steps
// down at once, though its CheckInterval is an hour.
func TestAdvertKicksRoleCheck(t *testing.T) {
	t.Parallel()
	var find lateFinder
	p := fastRoles(Promotion{AloneAfter: 50 * time.Millisecond, MinSupernodes: 1, DemoteBelow: 2,
		DemoteAfter: 200 * time.Millisecond, Cooldown: time.Hour})
	p.CheckInterval = time.Hour
	n := listenNode(t).start(t, SupernodeConfig{Auto: true, Finder: &find, Promotion: p, MaxLeaves: 10})
	runLeaf(t, LeafConfig{PeerAddr: n.addr, Dial: loopback.Dial, Finder: StaticFinder{}, Local: n.sn})
	waitFor(t, 5*time.Second, "alone node promoted", n.sn.Active)
	time.Sleep(time.Second) // past DemoteAfter: only another supernode is missing
	if !n.sn.Active() {
		t.Fatal("stepped down with no other supernode known")
	}
	hub := listenNode(t).start(t, SupernodeConfig{MaxLeaves: 10})
	find.addr.Store(&hub.addr)
	n.sn.wake()
	waitFor(t, 10*time.Second, "demotion once another supernode is known", func() bool { return !n.sn.Active() })
}
