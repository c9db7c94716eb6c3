package utp

import (
	"bytes"
	"crypto/rand"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// shapedPC is a net.PacketConn whose writes cross a shaped link: a
// one-way delay, random loss and a rate cap with a bounded queue, as
// internal/lossylink does between namespaces, here in-process so a uTP
// transfer over a distant lossy link runs in a unit test.
type shapedPC struct {
	net.PacketConn
	delay time.Duration
	loss  float64
	rate  float64 // bytes per second; 0: no cap
	queue time.Duration

	mu       sync.Mutex
	free     time.Time // when the rate cap's queue is next idle
	rng      *mrand.Rand
	out      chan delayed
	drop     func([]byte) bool // drops chosen packets too, if set
	sent     int
	lost     int
	overflow int
}

func (p *shapedPC) WriteTo(b []byte, addr net.Addr) (int, error) {
	now := time.Now()
	p.mu.Lock()
	p.sent++
	if p.rng.Float64() < p.loss || p.drop != nil && p.drop(b) {
		p.lost++
		p.mu.Unlock()
		return len(b), nil
	}
	due := now
	if p.rate > 0 {
		start := now
		if p.free.After(now) {
			start = p.free
		}
		if start.Sub(now) > p.queue {
			p.overflow++
			p.mu.Unlock()
			return len(b), nil
		}
		p.free = start.Add(time.Duration(float64(len(b)+28) / p.rate * float64(time.Second)))
		due = p.free
	}
	p.mu.Unlock()
	p.out <- delayed{append([]byte(nil), b...), addr, due.Add(p.delay)}
	return len(b), nil
}

// delayed is a packet on the link, due at the far end at due.
type delayed struct {
	b   []byte
	to  net.Addr
	due time.Time
}

// deliver writes packets in order, each at its due time (a link does not
// reorder).
func (p *shapedPC) deliver() {
	for d := range p.out {
		time.Sleep(time.Until(d.due))
		p.PacketConn.WriteTo(d.b, d.to)
	}
}

// shapedPair is two Sockets on loopback joined by a shaped link each way.
func shapedPair(t testing.TB, delay time.Duration, loss, rateBits float64, seed uint64) (a, b *Socket, pa, pb *shapedPC) {
	mk := func(s uint64) (*Socket, *shapedPC) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sp := &shapedPC{PacketConn: pc, delay: delay, loss: loss, rate: rateBits / 8, queue: 100 * time.Millisecond, rng: mrand.New(mrand.NewPCG(s, s)), out: make(chan delayed, 1<<16)}
		go sp.deliver()
		sock, err := NewSocketFromPacketConn(sp)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sock.CloseNow() })
		return sock, sp
	}
	a, pa = mk(seed)
	b, pb = mk(seed + 1)
	return
}

// transferOver sends size bytes from a to b and returns how long it took
// and the sender's congestion state at the end.
func transferOver(t testing.TB, a, b *Socket, size int) (time.Duration, ledbat) {
	data := make([]byte, size)
	rand.Read(data)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := b.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	start := time.Now()
	c, err := a.Dial(b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := <-accepted
	defer r.Close()
	go func() { c.Write(data) }()
	got := make([]byte, size)
	r.SetReadDeadline(time.Now().Add(5 * time.Minute))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	took := time.Since(start)
	if !bytes.Equal(got, data) {
		t.Fatal("received bytes differ")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, sc := range a.conns {
		return took, sc.cc
	}
	return took, ledbat{}
}

// TestLossyDistantTransfer measures (UTP_LOSSY=1) a transfer over a
// 100 ms RTT, 0.5% loss, 40 Mbit/s link.
func TestLossyDistantTransfer(t *testing.T) {
	if os.Getenv("UTP_LOSSY") == "" {
		t.Skip("UTP_LOSSY=1 measures a transfer over a shaped link")
	}
	for seed := uint64(1); seed <= 3; seed++ {
		a, b, pa, pb := shapedPair(t, 50*time.Millisecond, 0.005, 40e6, seed)
		took, cc := transferOver(t, a, b, 8<<20)
		t.Logf("seed %d: 8 MiB in %v (%.2f MB/s); a→b %d sent %d lost %d overflow; b→a %d sent %d lost; fast resends %d; cc cuts %d (random losses %d) timeouts %d cwnd %.0f",
			seed, took.Round(time.Millisecond), 8.0*1.048576/took.Seconds(), pa.sent, pa.lost, pa.overflow, pb.sent, pb.lost, ackSkippedResends.Value(), cc.cuts, cc.randomLosses, cc.timeouts, cc.cwnd)
	}
}

// dropDataSeq returns a drop hook losing the first data packet with
// sequence number seq (once: its resend gets through).
func dropDataSeq(seq uint16) func([]byte) bool { return dropDataSeqTimes(seq, 1) }

// dropDataSeqTimes loses the first n transmissions of data packet seq.
func dropDataSeqTimes(seq uint16, n int) func([]byte) bool {
	return func(b []byte) bool {
		var h header
		if n == 0 || len(b) < 20 {
			return false
		}
		if _, err := h.Unmarshal(b); err != nil || h.Type != stData || h.SeqNr != seq {
			return false
		}
		n--
		return true
	}
}

// TestOneLossFastRetransmit: one data packet lost in a bulk transfer over
// a 100 ms round trip with no queue is resent when three later packets
// are selectively acked, is taken for a random loss (no cut), and causes
// no resend timeout (a fast resend once re-armed its timer at zero, which
// fired at once and dropped the window to its minimum). Packets in flight
// past the highest acked one (the selective ack's padding bits) are not
// taken for losses.
func TestOneLossFastRetransmit(t *testing.T) {
	a, b, pa, _ := shapedPair(t, 50*time.Millisecond, 0, 40e6, 7)
	pa.mu.Lock()
	pa.drop = dropDataSeq(40) // the dialer's first data packet is seq 2
	pa.mu.Unlock()
	fast0 := ackSkippedResends.Value()
	_, cc := transferOver(t, a, b, 512<<10)
	fast := ackSkippedResends.Value() - fast0
	t.Logf("fast resends %d, window cuts %d, random losses %d, resend timeouts %d, window %.0f bytes", fast, cc.cuts, cc.randomLosses, cc.timeouts, cc.cwnd)
	if fast != 1 || cc.cuts != 0 || cc.randomLosses != 1 || cc.timeouts != 0 {
		t.Errorf("one lost packet: %d fast resends, %d cuts, %d random losses, %d timeouts; want 1, 0, 1, 0", fast, cc.cuts, cc.randomLosses, cc.timeouts)
	}
}

// TestLostResendResentAgain: a data packet lost, then its fast resend
// lost too, is resent a second time once three packets sent after the
// first resend are selectively acked (RACK's lost-retransmission rule),
// not by the resend timer: no resend timeout, so the window never drops
// to its minimum. Without the rule the second resend waited for the timer
// (half a second or more) and the timeout cut the window to two packets.
func TestLostResendResentAgain(t *testing.T) {
	a, b, pa, _ := shapedPair(t, 50*time.Millisecond, 0, 40e6, 9)
	pa.mu.Lock()
	pa.drop = dropDataSeqTimes(40, 2)
	pa.mu.Unlock()
	fast0, lost0 := ackSkippedResends.Value(), lostResends.Value()
	_, cc := transferOver(t, a, b, 1<<20)
	fast, lost := ackSkippedResends.Value()-fast0, lostResends.Value()-lost0
	t.Logf("fast resends %d (of lost resends %d), window cuts %d, resend timeouts %d, window %.0f bytes", fast, lost, cc.cuts, cc.timeouts, cc.cwnd)
	if fast != 2 || lost != 1 || cc.timeouts != 0 {
		t.Errorf("a packet and its resend lost: %d fast resends (%d of a lost resend), %d timeouts; want 2 (1), 0", fast, lost, cc.timeouts)
	}
}

// TestLongLinkWindow: with a congestion window of 1 MiB and a peer that
// advertises 1 MiB, a sender on a 100 ms round trip puts the whole window
// in flight (about 750 packets), not the 256 packets of the old fixed cap
// (maxUnackedSends), which held a 40 Mbit/s link with that round trip to
// 3.5 MB/s whatever the window. The window's first data packet is lost,
// so the rest of the window arrives behind a hole, and the receiver keeps
// all of it (it used to discard what was more than 256 packets ahead, so
// one loss cost the rest of the window). The window is set, not grown, so
// the machine's load, which slows the link's delivery and so ends slow
// start early, does not decide the outcome.
func TestLongLinkWindow(t *testing.T) {
	a, b, pa, _ := shapedPair(t, 50*time.Millisecond, 0, 0, 11)
	pa.mu.Lock()
	pa.drop = dropDataSeq(2) // the dialer's first data packet
	pa.mu.Unlock()
	dropped0 := inboundDropped.Value()
	const size = 4 << 20
	data := make([]byte, size)
	rand.Read(data)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := b.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	nc, err := a.Dial(b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := nc.(*Conn)
	mu.Lock()
	c.cc.cwnd, c.cc.slowStart = ledbatMaxCwnd, false
	mu.Unlock()
	r := <-accepted
	defer r.Close()
	go func() { c.Write(data) }()
	got := make([]byte, size)
	r.SetReadDeadline(time.Now().Add(5 * time.Minute))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("received bytes differ")
	}
	mu.Lock()
	peak := c.peakFlight
	mu.Unlock()
	dropped := inboundDropped.Value() - dropped0
	t.Logf("peak %d packets in flight; receiver discarded %d", peak, dropped)
	if want := ledbatMaxCwnd / maxPayloadSize * 9 / 10; peak < want {
		t.Errorf("at most %d packets in flight with a 1 MiB window; want at least %d", peak, want)
	}
	if dropped != 0 {
		t.Errorf("the receiver discarded %d packets behind one lost packet; want none", dropped)
	}
}

// TestHoleFilledWhenBufferFull: with a full receive window of packets
// waiting behind a missing one (a window of 1 MiB plus the one packet a
// sender may go over), the missing packet is still taken when it comes:
// it is what lets the others be read. The bound on out-of-order bytes
// once dropped it too, and the connection stalled until the sender gave
// up on it.
func TestHoleFilledWhenBufferFull(t *testing.T) {
	a, b, _, _ := shapedPair(t, 0, 0, 0, 13)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := b.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	nc, err := a.Dial(b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := (<-accepted).(*Conn)
	defer r.Close()
	mu.Lock()
	payload := make([]byte, maxPayloadSize)
	next := r.ack_nr + 1
	h := header{Type: stData, Version: 1, ConnID: r.recv_id, AckNr: r.seq_nr - 1, WndSize: readBufferLen}
	behind := readBufferLen/maxPayloadSize + 1
	for i := 1; i <= behind; i++ {
		h.SeqNr = next + uint16(i)
		r.processDelivery(h, payload)
	}
	queued := r.inboundWnd
	h.SeqNr = next
	r.processDelivery(h, payload)
	got := len(r.readBuf)
	mu.Unlock()
	t.Logf("%d bytes behind the hole (of %d sent); %d bytes readable once it is filled", queued, behind*maxPayloadSize, got)
	if want := queued + maxPayloadSize; queued < readBufferLen-maxPayloadSize || got != want {
		t.Errorf("%d bytes readable after the missing packet came, want %d", got, want)
	}
}
