package overlay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// leafIdleTick is how often runRemote looks once its looks change nothing.
const leafIdleTick = 8 * time.Second

// runRemote keeps cfg.Links supernode links up until ctx ends. It looks
// every leafTick while its links change, and backs off by doubling to
// leafIdleTick while a look changes nothing (no supernode to find, or all
// links up), so an idle node wakes rarely; a link ending looks at once.
// A leaf short of links that knows a supernode it is only waiting to
// retry (a failed dial's back-off) looks again when that back-off ends,
// not at the next backed-off tick.
func (l *Leaf) runRemote(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTimer(leafTick)
	defer t.Stop()
	wait := leafTick
	for {
		before := l.linkCount()
		l.fill(ctx, &wg)
		l.report(ctx)
		if l.linkCount() != before {
			wait = leafTick
		} else {
			wait = min(2*wait, leafIdleTick)
		}
		t.Reset(l.nextLook(time.Now(), wait))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-l.linkEnd:
			wait = leafTick
		}
	}
}

// nextLook is how long runRemote may sleep: wait, or until the first
// back-off of a known supernode ends while we are short of links.
func (l *Leaf) nextLook(now time.Time, wait time.Duration) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.links) >= l.cfg.Links {
		return wait
	}
	for _, a := range slices.Concat(l.redirects, l.found) {
		if until := l.backoff[a].Sub(now); l.links[a] == nil && until > 0 && until < wait {
			wait = max(until, leafTick/10)
		}
	}
	return wait
}

// report tells the node's own supernode how linked we are (it promotes
// itself when we stay alone) and the Finder's cache what we are linked to.
func (l *Leaf) report(ctx context.Context) {
	linked := l.Supernodes()
	if l.cfg.Local != nil && l.cfg.Local.cfg.Auto {
		l.cfg.Local.noteLeafLinks(len(linked), time.Now())
	}
	rememberChanged(ctx, l.cfg.Finder, &l.mu, &l.cached, linked)
}

// recentLinks returns the supernodes linked lately.
func (l *Leaf) recentLinks() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recent)
}

// fill dials candidates until the leaf has cfg.Links links or none are left.
func (l *Leaf) fill(ctx context.Context, wg *sync.WaitGroup) {
	for _, addr := range l.candidates(ctx) {
		if ctx.Err() != nil || l.linkCount() >= l.cfg.Links {
			return
		}
		l.connect(ctx, addr, wg)
	}
}

func (l *Leaf) linkCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.links)
}

// candidates returns supernodes worth dialling now: redirects from full
// supernodes first, then the Finder's answer (reused for leafRefind).
func (l *Leaf) candidates(ctx context.Context) []string {
	if l.linkCount() >= l.cfg.Links {
		return nil
	}
	now := time.Now()
	out := l.usable(now)
	if len(out) > 0 && now.Sub(l.foundTime()) < leafRefind {
		return out
	}
	fctx, cancel := context.WithTimeout(ctx, finderTimeout)
	found, err := l.cfg.Finder.FindSupernodes(fctx)
	cancel()
	if err != nil {
		l.log.Debug("overlay: find supernodes", "err", err)
	}
	l.mu.Lock()
	l.found, l.foundAt = found, now
	l.mu.Unlock()
	return l.usable(now)
}

func (l *Leaf) foundTime() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.foundAt
}

// usable filters redirects and the last Finder answer.
func (l *Leaf) usable(now time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, a := range slices.Concat(l.redirects, l.found) {
		if a == l.cfg.PeerAddr || l.links[a] != nil || now.Before(l.backoff[a]) || slices.Contains(out, a) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// connect links to addr and starts serving the link. The first link is
// the primary, later ones standbys.
func (l *Leaf) connect(ctx context.Context, addr string, wg *sync.WaitGroup) {
	port, _ := peerPort(l.cfg.PeerAddr) // checked by Run
	l.mu.Lock()
	standby := l.primaryLocked() != nil
	l.mu.Unlock()
	hello := &message{Type: typeHello, Role: roleLeaf, Port: port, Standby: standby}
	if s := l.cfg.Local; s != nil && s.cfg.Auto {
		hello.Capable = s.cfg.Promotion.Capable()
		hello.Reachable = s.Reachable()
		hello.Uptime = int(time.Since(s.started) / time.Second)
	}
	ln, _, err := dialOverlay(ctx, l.cfg.Dial, addr, hello)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.redirects = slices.DeleteFunc(l.redirects, func(a string) bool { return a == addr })
	if err != nil {
		l.noteDialError(addr, err)
		return
	}
	ln.count = &l.sent
	delete(l.fails, addr)
	ll := &leafLink{addr: addr, ln: ln, kick: make(chan struct{}, 1), standby: standby}
	if !standby && l.primaryLocked() != nil {
		ll.standby = true // another link became primary meanwhile
		ln.trySend(&message{Type: typeMode, Standby: true})
	}
	l.links[addr] = ll
	l.recent = append(slices.DeleteFunc(l.recent, func(a string) bool { return a == addr }), addr)
	l.recent = l.recent[max(0, len(l.recent)-maxListedSupers):]
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.serveLink(ctx, ll)
	}()
}

// noteDialError backs off from addr and keeps the alternatives a full
// supernode offered. l.mu is held.
func (l *Leaf) noteDialError(addr string, err error) {
	l.log.Debug("overlay: link to supernode", "addr", addr, "err", err)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeFull && re.Code != CodeNotSupernode {
		// Each failure in a row doubles the wait: on a starved machine
		// dials and handshakes time out, and retrying every few seconds
		// only adds to the load that makes them time out.
		if len(l.fails) >= maxFailsTracked {
			clear(l.fails)
		}
		n := min(l.fails[addr], leafFailDoublings)
		l.fails[addr]++
		l.backoff[addr] = time.Now().Add(leafFailBackoff << n)
		return
	}
	l.backoff[addr] = time.Now().Add(leafFullBackoff)
	l.addRedirectsLocked(re.Supernodes)
}

// addRedirectsLocked keeps supernodes another one told us to try. l.mu is held.
func (l *Leaf) addRedirectsLocked(addrs []string) {
	for _, a := range addrs {
		if len(l.redirects) < maxRedirects && !slices.Contains(l.redirects, a) {
			l.redirects = append(l.redirects, a)
		}
	}
}

// serveLink runs one supernode link with its share-sync goroutine.
func (l *Leaf) serveLink(ctx context.Context, ll *leafLink) {
	var inner sync.WaitGroup
	inner.Add(1)
	go func() {
		defer inner.Done()
		l.syncLoop(ctx, ll)
	}()
	err := ll.ln.run(ctx, func(m *message) error { return l.handle(ll, m) })
	inner.Wait()
	l.log.Debug("overlay: supernode link ended", "addr", ll.addr, "err", err)
	l.mu.Lock()
	delete(l.links, ll.addr)
	l.backoff[ll.addr] = time.Now().Add(leafFailBackoff)
	l.replacePrimaryLocked(ll)
	l.mu.Unlock()
	poke(l.linkEnd)
}

// primaryLocked returns the primary link, if any. l.mu is held.
func (l *Leaf) primaryLocked() *leafLink {
	for _, ll := range l.links {
		if !ll.standby {
			return ll
		}
	}
	return nil
}

// replacePrimaryLocked makes a standby the primary when the primary gone
// ended, and sends it the searches still running. l.mu is held.
func (l *Leaf) replacePrimaryLocked(gone *leafLink) {
	next := l.primaryLocked()
	if next == nil {
		for _, ll := range l.links {
			if next == nil || ll.addr < next.addr {
				next = ll
			}
		}
		if next == nil {
			return
		}
		next.standby = false
		next.ln.trySend(&message{Type: typeMode})
	}
	for id, srch := range l.searches {
		if srch.via == gone.addr {
			srch.via = next.addr
			srch.post(searchEvent{reset: true})
			next.ln.trySend(&message{Type: typeQuery, ID: id.String(), Words: srch.words})
		}
	}
}

// syncLoop sends the full share list, then the changes after each SetShares.
func (l *Leaf) syncLoop(ctx context.Context, ll *leafLink) {
	sent := map[[20]byte]Entry{}
	for {
		add, del := diffShares(l.snapshot(), sent)
		if err := sendShares(ctx, ll.ln, add, del); err != nil {
			ll.ln.close()
			return
		}
		applyDiff(sent, add, del)
		select {
		case <-ll.ln.done:
			return
		case <-ll.kick:
		}
	}
}

// sendShares queues share frames: removals first, then additions in
// frames of bounded size.
func sendShares(ctx context.Context, ln *link, add []Entry, del [][20]byte) error {
	for len(del) > 0 {
		n := min(len(del), maxShareItems)
		hs := make([]hash20, n)
		for i := range hs {
			hs[i] = del[i]
		}
		if err := ln.send(ctx, &message{Type: typeShare, Del: hs}); err != nil {
			return err
		}
		del = del[n:]
	}
	wire := make([]wireEntry, len(add))
	for i, e := range add {
		wire[i] = toWireEntry(e)
	}
	for _, b := range batchBySize(wire, shareFrameBudget, maxShareItems) {
		if err := ln.send(ctx, &message{Type: typeShare, Add: b}); err != nil {
			return err
		}
	}
	return nil
}

// handle processes one frame from a supernode.
func (l *Leaf) handle(ll *leafLink, m *message) error {
	switch m.Type {
	case typeHits:
		l.deliverHits(m)
		return nil
	case typeInvite:
		if s := l.cfg.Local; s != nil && s.cfg.Auto {
			s.invite()
		}
		return nil
	case typeError:
		l.log.Info("overlay: supernode error", "addr", ll.addr, "code", m.Code, "text", m.Text)
		l.refuseSearch(m)
		if m.Code == CodeNotSupernode || m.Code == CodeFull {
			l.mu.Lock()
			l.addRedirectsLocked(m.Supernodes)
			l.mu.Unlock()
		}
		return nil
	}
	ll.ln.fail(CodeProtocol, "unexpected "+m.Type, nil)
	return fmt.Errorf("overlay: supernode %s sent %q: %w", ll.addr, m.Type, errors.ErrUnsupported)
}
