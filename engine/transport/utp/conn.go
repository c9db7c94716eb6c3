package utp

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sort"
	"time"

	"github.com/anacrolix/missinggo"
)

// Conn is a uTP stream and implements net.Conn. It is owned by a Socket,
// which handles dispatching packets to and from Conns.
type Conn struct {
	recv_id, send_id uint16
	seq_nr, ack_nr   uint16
	lastAck          uint16
	lastTimeDiff     uint32
	peerWndSize      uint32
	cur_window       uint32
	connKey          connKey

	// Data waiting to be Read.
	readBuf         []byte
	readBufNotEmpty missinggo.Event

	socket           *Socket
	remoteSocketAddr net.Addr
	// The uTP timestamp.
	startTimestamp uint32
	// When the conn was allocated.
	created time.Time

	synAcked  bool // Syn is acked by the acceptor. Initiator also tracks it.
	gotFin    missinggo.Event
	wroteFin  missinggo.Event
	err       error
	closed    missinggo.Event
	destroyed missinggo.Event
	canWrite  missinggo.Event

	unackedSends []*send
	peakFlight   int // the most packets ever in unackedSends
	// Inbound payloads, the first is ack_nr+1.
	inbound    []recv
	inboundWnd int
	connDeadlines
	rtt rttEstimator // round trips, for the resend timeout (rtt.go)

	// We need to send state packet.
	pendingSendState              bool
	sendPendingSendSendStateTimer *time.Timer
	// Send state is being delayed until sendPendingSendSendStateTimer
	// fires, which may have been set at the beginning of a batch of
	// received packets.
	sendPendingSendStateTimerActive bool

	// This timer fires when no packet has been received for a period.
	packetReadTimeoutTimer *time.Timer

	// cc is the LEDBAT congestion control (ledbat.go).
	cc ledbat
	// ackFlight is cur_window when the packet being applied arrived,
	// before its acks (for cc.acked).
	ackFlight uint32
}

var (
	_ net.Conn = &Conn{}
)

func (c *Conn) age() time.Duration {
	return time.Since(c.created)
}

func (c *Conn) timestamp() uint32 {
	return nowTimestamp() - c.startTimestamp
}

func (c *Conn) sendPendingSendStateTimerCallback() {
	mu.Lock()
	defer mu.Unlock()
	c.sendPendingSendStateTimerActive = false
	c.sendPendingSendSendStateTimer.Stop()
	c.sendPendingState()
}

// Send a state packet, if one is needed.
func (c *Conn) sendPendingState() {
	if c.destroyed.IsSet() {
		c.sendReset()
	} else {
		c.sendState()
	}
}

// So far as the spec makes clear, this is how many more, as-yet-unacked bytes
// we can fit into our receive buffers.
func (c *Conn) wndSize() uint32 {
	if len(c.readBuf)+c.inboundWnd > readBufferLen {
		return 0
	}
	return uint32(readBufferLen - len(c.readBuf) - c.inboundWnd)
}

func (c *Conn) makePacket(_type st, connID, seqNr uint16, payload []byte) (p []byte) {
	var selAck selectiveAckBitmask
	for i := 1; i < min(len(c.inbound), maxSackBits+1); i++ {
		if c.inbound[i].seen {
			selAck.SetBit(i - 1)
		}
	}
	h := header{
		Type:          _type,
		Version:       1,
		ConnID:        connID,
		SeqNr:         seqNr,
		AckNr:         c.ack_nr,
		WndSize:       c.wndSize(),
		Timestamp:     c.timestamp(),
		TimestampDiff: c.lastTimeDiff,
	}
	if len(selAck.Bytes) != 0 {
		// The spec requires the number of bytes for a selective ACK to be at
		// least 4, and a multiple of 4.
		if len(selAck.Bytes)%4 != 0 {
			panic(len(selAck.Bytes))
		}
		h.Extensions = append(h.Extensions, extensionField{
			Type:  extensionTypeSelectiveAck,
			Bytes: selAck.Bytes,
		})
	}
	p = sendBufferPool.Get().([]byte)[:0:minMTU]
	n := h.Marshal(p)
	p = p[:n]
	// Extension headers are currently fixed in size.
	if n > maxHeaderSize {
		panic("header has unexpected size")
	}
	p = append(p, payload...)
	return
}

// Send the given payload with an up to date header.
func (c *Conn) send(_type st, connID uint16, payload []byte, seqNr uint16) (err error) {
	p := c.makePacket(_type, connID, seqNr, payload)
	n1, err := c.socket.writeTo(p, c.remoteSocketAddr)
	sendBufferPool.Put(p[:0:minMTU])
	if err != nil {
		return
	}
	if n1 != len(p) {
		panic(n1)
	}
	if c.unpendSendState() && _type != stState {
		// We needed to send a state packet, but this packet suppresses that
		// need.
		unsentStatePackets.Add(1)
	}
	return
}

func (c *Conn) unpendSendState() (wasPending bool) {
	wasPending = c.pendingSendState
	c.pendingSendState = false
	c.sendPendingSendSendStateTimer.Stop()
	c.sendPendingSendStateTimerActive = false
	return
}

func (c *Conn) pendSendState() {
	if c.pendingSendState {
		// A state packet is pending but hasn't been sent, and we want to send
		// another.
		unsentStatePackets.Add(1)
	}
	c.pendingSendState = true
	if !c.sendPendingSendStateTimerActive {
		c.sendPendingSendSendStateTimer.Reset(pendingSendStateDelay)
		c.sendPendingSendStateTimerActive = true
	}
}

func (me *Conn) writeSyn() {
	me.write(stSyn, me.recv_id, nil, me.seq_nr)
}

func (c *Conn) write(_type st, connID uint16, payload []byte, seqNr uint16) (n int, err error) {
	switch _type {
	case stSyn, stFin, stData:
	default:
		panic(_type)
	}
	if c.wroteFin.IsSet() {
		panic("can't write after fin")
	}
	if len(payload) > maxPayloadSize {
		payload = payload[:maxPayloadSize]
	}
	err = c.send(_type, connID, payload, seqNr)
	if err != nil {
		c.destroy(fmt.Errorf("error sending packet: %s", err))
		return
	}
	n = len(payload)
	// Copy payload so caller to write can continue to use the buffer.
	if payload != nil {
		payload = append(sendBufferPool.Get().([]byte)[:0:minMTU], payload...)
	}
	send := &send{
		payloadSize: uint32(len(payload)),
		started:     missinggo.MonotonicNow(),
		sentAt:      time.Now(),
		_type:       _type,
		connID:      connID,
		payload:     payload,
		seqNr:       seqNr,
		conn:        c,
	}
	send.resendTimer = time.AfterFunc(c.resendTimeout(), send.timeoutResend)
	c.unackedSends = append(c.unackedSends, send)
	c.peakFlight = max(c.peakFlight, len(c.unackedSends))
	c.cur_window += send.payloadSize
	c.updateCanWrite()
	c.seq_nr++
	return
}

// latency is the smoothed round trip.
func (c *Conn) latency() time.Duration { return c.rtt.rtt() }

func (c *Conn) sendState() {
	c.send(stState, c.send_id, nil, c.seq_nr)
	sentStatePackets.Add(1)
}

func (c *Conn) sendReset() {
	c.send(stReset, c.send_id, nil, c.seq_nr)
}

func (c *Conn) addLatency(l time.Duration) { c.rtt.add(l) }

// Ack our send with the given sequence number.
func (c *Conn) ack(nr uint16) {
	if !seqLess(c.lastAck, nr) {
		// Already acked.
		return
	}
	i := nr - c.lastAck - 1
	if int(i) >= len(c.unackedSends) {
		// Remote has acknowledged receipt of packets we haven't even sent.
		acksReceivedAheadOfSyn.Add(1)
		// log.Printf("got ack ahead of syn (%x > %x)", nr, c.seq_nr-1)
		return
	}
	s := c.unackedSends[i]
	resent := s.numResends != 0 || s.fastResent
	latency, first := s.Ack()
	if first {
		c.cc.acked(s.payloadSize, c.ackFlight)
		c.cur_window -= s.payloadSize
		c.updateCanWrite()
		if !resent {
			// Karn's rule: an ack of a resent packet may answer either
			// copy, so it says nothing of the round trip.
			c.addLatency(latency)
		}
	}
	// Trim sends that aren't needed anymore.
	for len(c.unackedSends) != 0 {
		if !c.unackedSends[0].acked.IsSet() {
			// Can't trim unacked sends any further.
			return
		}
		// Trim the front of the unacked sends.
		c.unackedSends = c.unackedSends[1:]
		c.updateCanWrite()
		c.lastAck++
	}
}

func (c *Conn) ackTo(nr uint16) {
	if !seqLess(nr, c.seq_nr) {
		return
	}
	for seqLess(c.lastAck, nr) {
		c.ack(c.lastAck + 1)
	}
}

// Return the send state for the sequence number. Returns nil if there's no
// outstanding send for that sequence number.
func (c *Conn) seqSend(seqNr uint16) *send {
	if !seqLess(c.lastAck, seqNr) {
		// Presumably already acked.
		return nil
	}
	i := int(seqNr - c.lastAck - 1)
	if i >= len(c.unackedSends) {
		// No such send.
		return nil
	}
	return c.unackedSends[i]
}

// minResendTimeout is the least time a packet waits for its ack before it
// is resent (BEP 29's and libtorrent's utp_min_timeout; see rtt.go).
// Without a floor upstream's timeout, two to four mean round trips, fired
// spuriously on a 100 ms round trip when an ack came a little late, and
// each such timeout dropped the window to two packets.
const minResendTimeout = 500 * time.Millisecond

func (c *Conn) resendTimeout() time.Duration { return c.rtt.rto() }

// dupAcksBeforeResend is how many later packets must be acked before an
// unacked one counts as lost (libutp's DUPLICATE_ACKS_BEFORE_RESEND, TCP's
// three duplicate acks).
const dupAcksBeforeResend = 3

// lostSend resends a packet that later packets overtook (fast
// retransmit) and tells the congestion control. ackedAbove are the
// selectively acked sequence numbers above it, highest first. A packet is
// fast resent once, and again only when its resend is lost too: when
// dupAcksBeforeResend packets sent after the resend are acked while it is
// not (RACK's lost-retransmission rule, RFC 8985). Without that a lost
// resend waited for its resend timer (half a second or more) and the
// timeout dropped the window to its minimum.
func (c *Conn) lostSend(seqNr uint16, ackedAbove []uint16) {
	send := c.seqSend(seqNr)
	if send == nil || send.acked.IsSet() {
		return
	}
	sent := send.sentAt
	if send.fastResent {
		after := sort.Search(len(ackedAbove), func(i int) bool { return seqLess(ackedAbove[i], send.resentBefore) })
		if after < dupAcksBeforeResend {
			return
		}
		sent = send.resentAt
		lostResends.Add(1)
	}
	send.fastResent = true
	c.cc.lost(time.Now(), sent, c.latency())
	ackSkippedResends.Add(1)
	send.resend()
	send.resentAt, send.resentBefore = time.Now(), c.seq_nr
	send.resendTimer.Reset(c.resendTimeout() * time.Duration(send.numResends+1))
}

// Handle a packet destined for this connection.
func (c *Conn) receivePacket(h header, payload []byte) {
	c.packetReadTimeoutTimer.Reset(packetReadTimeout)
	c.processDelivery(h, payload)
}

func (c *Conn) receivePacketTimeoutCallback() {
	mu.Lock()
	c.destroy(errors.New("no packet read timeout"))
	mu.Unlock()
}

func (c *Conn) lazyDestroy() {
	if c.wroteFin.IsSet() && len(c.unackedSends) <= 1 && (c.gotFin.IsSet() || c.closed.IsSet()) {
		c.destroy(errors.New("lazily destroyed"))
	}
}

func (c *Conn) processDelivery(h header, payload []byte) {
	deliveriesProcessed.Add(1)
	defer c.lazyDestroy()
	c.assertHeader(h)
	c.peerWndSize = h.WndSize
	c.cc.sample(h.TimestampDiff, time.Now())
	c.applyAcks(h)
	if h.Timestamp == 0 {
		c.lastTimeDiff = 0
	} else {
		c.lastTimeDiff = c.timestamp() - h.Timestamp
	}

	if h.Type == stReset {
		c.destroy(errors.New("peer reset"))
		return
	}
	if !c.synAcked {
		if h.Type != stState {
			return
		}
		c.synAcked = true
		c.updateCanWrite()
		c.ack_nr = h.SeqNr - 1
		return
	}
	if h.Type == stState {
		return
	}
	// Even if we didn't need or want this packet, we need to inform the peer
	// what our state is, in case they missed something.
	c.pendSendState()
	if !seqLess(c.ack_nr, h.SeqNr) {
		// Already received this packet.
		return
	}
	inboundIndex := int(h.SeqNr - c.ack_nr - 1)
	if inboundIndex < len(c.inbound) && c.inbound[inboundIndex].seen {
		// Already received this packet.
		return
	}
	if inboundIndex >= maxUnackedInbound || inboundIndex > 0 && c.inboundWnd+len(payload) > readBufferLen {
		// Discard packet too far ahead, or one that would take the
		// out-of-order bytes past the window we advertise at most
		// (a peer within our window never sends it). The next packet
		// expected is always taken: it fills the hole the others wait
		// behind, and dropping it stalled the connection for good.
		inboundDropped.Add(1)
		if logLevel >= 1 {
			log.Printf("received packet from %s %d ahead of next seqnr (%x > %x)", c.remoteSocketAddr, inboundIndex, h.SeqNr, c.ack_nr+1)
		}
		return
	}
	// Extend inbound so the new packet has a place.
	for inboundIndex >= len(c.inbound) {
		c.inbound = append(c.inbound, recv{})
	}
	c.inbound[inboundIndex] = recv{true, payload, h.Type}
	c.inboundWnd += len(payload)
	c.processInbound()
}

// applyAcks applies a packet's cumulative and selective acks. The
// selective ack's bits are walked from the highest down: an unset bit
// with at least dupAcksBeforeResend set bits above it is a lost packet;
// unset bits above the highest set one are packets still in flight (the
// bitmask is padded to 32 bits), not losses.
func (c *Conn) applyAcks(h header) {
	c.ackFlight = c.cur_window
	c.ackTo(h.AckNr)
	for _, ext := range h.Extensions {
		if ext.Type != extensionTypeSelectiveAck {
			continue
		}
		bitmask := selectiveAckBitmask{ext.Bytes}
		var buf [64]uint16
		acked := buf[:0] // selectively acked, highest first
		for i := bitmask.NumBits() - 1; i >= 0; i-- {
			nr := h.AckNr + 2 + uint16(i)
			if bitmask.BitIsSet(i) {
				c.ack(nr)
				acked = append(acked, nr)
			} else if len(acked) >= dupAcksBeforeResend {
				c.lostSend(nr, acked)
			}
		}
		if len(acked) >= dupAcksBeforeResend {
			c.lostSend(h.AckNr+1, acked)
		}
	}
}

func (c *Conn) assertHeader(h header) {
	if h.Type == stSyn {
		if h.ConnID != c.send_id {
			panic(fmt.Sprintf("%d != %d", h.ConnID, c.send_id))
		}
	} else {
		if h.ConnID != c.recv_id {
			panic("erroneous delivery")
		}
	}
}

func (c *Conn) updateReadBufNotEmpty() {
	c.readBufNotEmpty.SetBool(len(c.readBuf) != 0)
}

func (c *Conn) processInbound() {
	// Consume consecutive next packets.
	for !c.gotFin.IsSet() && len(c.inbound) > 0 && c.inbound[0].seen && len(c.readBuf) < readBufferLen {
		c.ack_nr++
		p := c.inbound[0]
		c.inbound = c.inbound[1:]
		c.inboundWnd -= len(p.data)
		c.readBuf = append(c.readBuf, p.data...)
		c.updateReadBufNotEmpty()
		if p.Type == stFin {
			c.gotFin.Set()
		}
	}
}

func (c *Conn) waitAck(seq uint16) {
	send := c.seqSend(seq)
	if send == nil {
		return
	}
	missinggo.WaitEvents(&mu, &send.acked, &c.destroyed)
}

// Waits for sent SYN to be ACKed. Returns any errors.
func (c *Conn) recvSynAck() (err error) {
	mu.Lock()
	defer mu.Unlock()
	c.waitAck(1)
	if c.err != nil {
		err = c.err
	}
	c.synAcked = true
	c.updateCanWrite()
	return err
}

func (c *Conn) writeFin() {
	if c.wroteFin.IsSet() {
		return
	}
	c.write(stFin, c.send_id, nil, c.seq_nr)
	c.wroteFin.Set()
}

func (c *Conn) destroy(reason error) {
	c.destroyed.Set()
	if c.err == nil {
		c.err = reason
	}
	c.detach()
}

func (c *Conn) closeNow() (err error) {
	c.closed.Set()
	c.writeFin()
	c.destroy(errors.New("destroyed"))
	return
}

// Close sends FIN and closes the connection; the state is freed once the
// peer has acknowledged what is in flight.
func (c *Conn) Close() (err error) {
	mu.Lock()
	defer mu.Unlock()
	c.closed.Set()
	c.writeFin()
	c.lazyDestroy()
	return
}

// LocalAddr is the address of the socket the connection runs on.
func (c *Conn) LocalAddr() net.Addr {
	return addr{c.socket.Addr()}
}

// Read reads received data, blocking until some arrives, the peer sends
// FIN (io.EOF), the connection fails or the read deadline passes.
func (c *Conn) Read(b []byte) (n int, err error) {
	mu.Lock()
	defer mu.Unlock()
	for {
		n = copy(b, c.readBuf)
		c.readBuf = c.readBuf[n:]
		c.updateReadBufNotEmpty()
		if n != 0 {
			// Inbound packets are backed up when the read buffer is too big.
			c.processInbound()
			return
		}
		if stop, e := c.halted(&c.gotFin, io.EOF, &c.connDeadlines.read.passed); stop {
			if e == nil {
				panic("closed without receiving fin, and no error")
			}
			err = e
			return
		}
		c.wait(&c.gotFin, &c.connDeadlines.read.passed, &c.readBufNotEmpty)
	}
}

// halted says whether a Read or Write blocked on mu must stop, and with
// what: endErr once fin (the FIN that ends that direction) is set or the
// connection is closed, the connection's error once it is destroyed,
// errTimeout once the direction's deadline has passed.
func (c *Conn) halted(fin *missinggo.Event, endErr error, deadline *missinggo.Event) (bool, error) {
	switch {
	case fin.IsSet() || c.closed.IsSet():
		return true, endErr
	case c.destroyed.IsSet():
		return true, c.err
	case deadline.IsSet():
		return true, errTimeout
	}
	return false, nil
}

// wait releases mu until one of halted's events or ready is set.
func (c *Conn) wait(fin, deadline, ready *missinggo.Event) {
	missinggo.WaitEvents(&mu, fin, &c.closed, &c.destroyed, deadline, ready)
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr {
	return addr{c.remoteSocketAddr}
}

// String names the connection by its two addresses and its receive ID,
// for logs.
func (c *Conn) String() string {
	return fmt.Sprintf("<UTPConn %s-%s (%d)>", c.LocalAddr(), c.RemoteAddr(), c.recv_id)
}

func (c *Conn) updateCanWrite() {
	c.canWrite.SetBool(c.synAcked &&
		len(c.unackedSends) < maxSendPackets &&
		c.cur_window <= c.peerWndSize &&
		c.cur_window < c.cc.window())
}

// Write sends p, blocking while the send window is full, until all of p
// is queued, the connection closes or fails, or the write deadline passes.
func (c *Conn) Write(p []byte) (n int, err error) {
	mu.Lock()
	defer mu.Unlock()
	for len(p) != 0 {
		if stop, e := c.halted(&c.wroteFin, errClosed, &c.connDeadlines.write.passed); stop {
			err = e
			return
		}
		// If peerWndSize is 0, we still want to send something, so don't
		// block until we exceed it.
		if c.canWrite.IsSet() {
			var n1 int
			n1, err = c.write(stData, c.send_id, p, c.seq_nr)
			n += n1
			if err != nil {
				break
			}
			if n1 == 0 {
				panic(len(p))
			}
			p = p[n1:]
			continue
		}
		c.wait(&c.wroteFin, &c.connDeadlines.write.passed, &c.canWrite)
	}
	return
}

func (c *Conn) detach() {
	s := c.socket
	_, ok := s.conns[c.connKey]
	if !ok {
		return
	}
	delete(s.conns, c.connKey)
	s.lazyDestroy()
}
