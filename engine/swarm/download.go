package swarm

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/picker"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/wire"
)

const (
	minPipeline = 16
	maxPipeline = 1024
	// defaultReqq is the queue we assume a peer keeps when its extension
	// handshake does not say (libtorrent's assumption too).
	defaultReqq    = 250
	requestTimeout = 20 * time.Second
	// minStallTimeout is the least a peer may stay silent with requests
	// outstanding before its oldest request is asked again.
	minStallTimeout = 2 * time.Second
	snubAfter       = 30 * time.Second
)

// blockSource remembers who sent a block, for blame.
type blockSource struct {
	peer uint64
	ip   string
	key  PeerKey // ban key: peer ID or IP; zero for no block
}

// source is p as a blockSource, made once per connection (after the
// handshake the ID and address do not change). Caller holds s.mu.
func (p *peer) source() blockSource {
	if p.src.key.IsZero() {
		p.src = blockSource{peer: p.id, ip: p.ip, key: p.banKey()}
	}
	return p.src
}

// failedPiece keeps, for each block of a piece that failed its hash, what
// each sender sent, so that when the piece later verifies the liars are known.
type failedPiece struct {
	sent map[int][]sentBlock
}

type sentBlock struct {
	src  blockSource
	hash [32]byte // SHA-256 of the block
}

// hashWorkers is how many goroutines verify pieces for all swarms of the
// process together. They also write verified pieces: twice the CPUs keeps
// hashing going while some of them wait in pwrite.
func hashWorkers() int { return 2 * max(1, runtime.GOMAXPROCS(0)) }

// hashPool runs piece verification for every swarm in the process, in the
// order pieces completed. Its workers start when work arrives and end when
// the queue is empty: an idle process has none.
type hashPool struct {
	mu      sync.Mutex
	queue   []func()
	workers int
}

// hashers is the one pool of hash workers.
var hashers hashPool

// submit queues job, starting a worker if fewer than hashWorkers run.
func (p *hashPool) submit(job func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue = append(p.queue, job)
	if p.workers < hashWorkers() {
		p.workers++
		go p.work()
	}
}

// work runs queued jobs until there are none left.
func (p *hashPool) work() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.queue = nil
			p.workers--
			p.mu.Unlock()
			return
		}
		job := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		job()
	}
}

// pipelineDepth is how many requests a peer may have outstanding. It grows
// like TCP slow start (see grow) up to what two seconds of the peer's
// measured rate can deliver: enough to cover the bandwidth-delay product,
// but not so much that a slow peer sits on blocks a fast one could bring.
func (p *peer) pipelineDepth() int {
	floor := minPipeline
	if time.Since(p.start) < 2*time.Second {
		floor = 4 * minPipeline // no rate measured yet: allow 1 MiB in flight
	}
	ceiling := max(int(2*p.downRate.value/picker.BlockSize), floor)
	return min(max(p.depth, minPipeline), ceiling, maxPipeline, p.queueLimit())
}

// queueLimit is how many requests the peer takes at once without
// rejecting or dropping any: its BEP 10 reqq, lowered when it rejects
// requests while unchoking us. Caller holds s.mu.
func (p *peer) queueLimit() int {
	if p.reqq > 0 {
		return p.reqq
	}
	return defaultReqq
}

// grow widens the pipeline after a block arrived with the queue full: one
// more request per block, so the depth doubles every round trip, like TCP
// slow start. fillRequests tops up in batches of a quarter, so a queue is
// rarely exactly full when a block arrives; for a peer that took longer
// than slowTurnaround to answer, within a batch of full counts as full.
// Without that a peer with a long turnaround (Transmission answers in
// half-second batches) gained one request per top-up, linearly, and a
// download from it crept from 0.2 MB/s up by a quarter of a MB/s a second.
// A fast peer's pipeline is not widened that way: its short turnaround
// shows the depth already covers the round trip, and deeper queues only
// hold more pieces in memory. Caller holds s.mu.
func (p *peer) grow(waited time.Duration) {
	depth := p.pipelineDepth()
	full := len(p.requests)+1 >= depth
	if waited > slowTurnaround {
		full = len(p.requests)+1 >= depth-depth/4
	}
	if full && p.depth < maxPipeline {
		p.depth = max(p.depth, depth) + 1
	}
}

// slowTurnaround is a request-to-block time beyond which a peer's
// pipeline grows from a nearly full queue too.
const slowTurnaround = 100 * time.Millisecond

// fillRequests tops up the requests outstanding to p and wakes its
// writer to send them. Caller holds s.mu.
func (s *Swarm) fillRequests(p *peer) {
	if s.queueRequests(p) {
		p.w.kick()
	}
}

// queueRequests tops up the requests outstanding to p and reports whether
// it queued any; the caller has them sent. Caller holds s.mu.
func (s *Swarm) queueRequests(p *peer) bool {
	if s.pick == nil || s.layers != nil || !p.amInterested || p.dead || s.paused || p.snubbed {
		return false // (no piece can be checked before its layer is in)
	}
	has := p.hasPiece
	if p.peerChoking {
		if len(p.theyAllow) == 0 {
			return false
		}
		has = func(i int) bool { return p.theyAllow[i] && p.hasPiece(i) } // BEP 6: allowed fast while choked
	}
	depth := p.pipelineDepth()
	want := depth - len(p.requests)
	if want < depth/4 && len(p.requests) > 0 {
		return false // batch small top-ups
	}
	now := time.Now()
	blocks := s.pick.Pick(p.id, has, want)
	for _, b := range blocks {
		p.requests[b] = now
		p.w.request(b)
	}
	return len(blocks) > 0
}

// dropRequests forgets everything outstanding to p. Caller holds s.mu.
func (s *Swarm) dropRequests(p *peer) {
	if s.pick != nil {
		s.pick.CancelPeer(p.id)
	}
	clear(p.requests)
}

func (s *Swarm) onReject(p *peer, m wire.Message) {
	b := picker.Block{Piece: int(m.Index), Begin: int(m.Begin), Length: int(m.Length)}
	if _, ok := p.requests[b]; !ok {
		return
	}
	delete(p.requests, b)
	s.pick.Release(p.id, b)
	if !p.peerChoking {
		// Refused while unchoked: its queue is full at what it holds.
		p.reqq = max(minPipeline, min(p.queueLimit(), len(p.requests)))
	}
	s.fillRequests(p)
}

// expireRequest gives up a request to p: cancelled there and released, so
// the picker hands the block out again. Caller holds s.mu.
func (s *Swarm) expireRequest(p *peer, b picker.Block) {
	delete(p.requests, b)
	s.pick.Release(p.id, b)
	p.w.send(wire.Message{ID: wire.Cancel, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)})
}

// oldestRequest returns the request made first among reqs (not empty).
func oldestRequest(reqs map[picker.Block]time.Time) picker.Block {
	var first picker.Block
	var at time.Time
	for b, t := range reqs {
		if at.IsZero() || t.Before(at) {
			first, at = b, t
		}
	}
	return first
}

// noteTurnaround folds one request-to-block time into p's running mean
// and mean deviation, as TCP's round-trip estimator does (RFC 6298).
// Caller holds s.mu.
func (p *peer) noteTurnaround(d time.Duration) {
	d = max(d, time.Microsecond)
	if p.turnMean == 0 {
		p.turnMean, p.turnDev = d, d/2
		return
	}
	p.turnDev += (max(d-p.turnMean, p.turnMean-d) - p.turnDev) / 4
	p.turnMean += (d - p.turnMean) / 8
}

// stallTimeout is how long p may send no block, with requests
// outstanding, before its oldest request is given up and asked again:
// its mean turnaround plus four deviations (libtorrent's rule), within
// minStallTimeout and requestTimeout. Caller holds s.mu.
func (p *peer) stallTimeout() time.Duration {
	if p.turnMean == 0 {
		return requestTimeout
	}
	return min(max(p.turnMean+4*p.turnDev, minStallTimeout), requestTimeout)
}

// expireRequests releases requests that have waited too long and marks
// peers that send nothing as snubbed, so their blocks go elsewhere.
func (s *Swarm) expireRequests() {
	now := time.Now()
	for _, p := range s.peers {
		if len(p.requests) == 0 {
			continue
		}
		if now.Sub(p.lastPiece) > snubAfter {
			p.snubbed = true
			p.note = "snubbed: no data for 30s"
			s.dropRequests(p)
			continue
		}
		if !p.peerChoking && now.Sub(p.lastPiece) > p.stallTimeout() && now.Sub(p.lastStall) > p.stallTimeout() {
			// Silent far longer than it takes to answer: its oldest
			// request was most likely dropped (Transmission sometimes
			// leaves one unanswered for many seconds). Ask again, with
			// no cancel: a peer that still had it sends it once more at
			// worst, where a cancel could bring a reject that would be
			// taken for the answer to the new request.
			p.lastStall = now
			b := oldestRequest(p.requests)
			p.requests[b] = now
			p.w.request(b)
			p.w.kick()
		}
		for b, at := range p.requests {
			if now.Sub(at) > requestTimeout {
				s.expireRequest(p, b)
			}
		}
	}
	for _, p := range s.peers {
		s.fillRequests(p)
	}
}

// onPiece accepts a block: bookkeeping under the lock, the disk write
// outside it, then the piece goes to the hashers when all blocks are in.
func (s *Swarm) onPiece(p *peer, m wire.Message) error {
	b := picker.Block{Piece: int(m.Index), Begin: int(m.Begin), Length: len(m.Payload)}
	// Sleeping here stops reading the socket: TCP pushes back on the sender.
	if err := throttle(s.ctx(), s.cfg.DownLimits, len(m.Payload), nil); err != nil {
		return err
	}
	s.mu.Lock()
	asked, ok := p.requests[b]
	if !ok || s.pick == nil {
		s.mu.Unlock()
		return nil // unrequested or cancelled: ignore, as BEP 6 allows
	}
	now := time.Now()
	p.grow(now.Sub(asked))
	p.noteTurnaround(now.Sub(asked))
	delete(p.requests, b)
	p.lastPiece = now
	p.snubbed = false
	wanted, done, cancels := s.pick.Received(p.id, b)
	var buf []byte
	if wanted {
		buf = s.pieceBuffer(b.Piece)
		put(&s.writing, b.Piece, s.writing[b.Piece]+1)
		s.recordSource(p, b)
		if done {
			put(&s.received, b.Piece, true)
		}
	}
	s.sendCancels(cancels, b)
	send := s.queueRequests(p)
	s.mu.Unlock()
	if send {
		p.w.sendNow() // from here: the writer goroutine may wait long for a CPU
	}

	n := int64(len(m.Payload))
	p.down.Add(n)
	p.unloggedDown.Add(n)
	s.totalDown.Add(n)
	if !wanted {
		return nil
	}
	var werr error
	if buf != nil {
		copy(buf[b.Begin:], m.Payload) // each block its own region: no lock needed
	} else {
		_, werr = s.files.WriteAt(m.Payload, s.layout.PieceOffset(b.Piece)+int64(b.Begin))
	}
	s.mu.Lock()
	put(&s.writing, b.Piece, s.writing[b.Piece]-1)
	ready := s.received[b.Piece] && s.writing[b.Piece] == 0
	if ready {
		delete(s.received, b.Piece)
		delete(s.writing, b.Piece)
	}
	s.mu.Unlock()
	if werr != nil {
		s.fail(fmt.Errorf("write piece %d: %w", b.Piece, werr))
		return werr
	}
	if ready {
		s.queueHash(hashJob{piece: b.Piece, buf: buf})
	}
	return nil
}

// hashJob is a piece whose blocks are all in: in buf (write-back) or on disk.
type hashJob struct {
	piece int
	buf   []byte
}

// queueHash hands a piece to the process's hash workers. A job that
// starts after the swarm began stopping is dropped: the piece was not
// recorded, and is fetched again next time.
func (s *Swarm) queueHash(j hashJob) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1) // under mu, before shutdown can wait
	s.mu.Unlock()
	hashers.submit(func() {
		defer s.wg.Done()
		if s.ctx().Err() != nil {
			return
		}
		if err := s.verify(j); err != nil {
			s.fail(err)
		}
	})
}

// maxBuffered caps the memory held by pieces still being received; beyond
// it blocks go straight to disk.
const maxBuffered = 32 << 20

// pieceBuffer returns the in-memory buffer a piece's blocks are assembled
// in, deciding on the piece's first block whether it is buffered at all.
// Buffered pieces are hashed in memory and written with one call, which
// saves a syscall per block and the read-back for hashing. Caller holds s.mu.
func (s *Swarm) pieceBuffer(piece int) []byte {
	if buf, ok := s.bufs[piece]; ok {
		return buf
	}
	size := s.layout.PieceSize(piece)
	if s.writing[piece] > 0 || s.onDisk[piece] || s.buffered+size > maxBuffered {
		put(&s.onDisk, piece, true)
		return nil
	}
	buf := s.getBuffer(size)
	put(&s.bufs, piece, buf)
	s.buffered += size
	return buf
}

// releaseBuffer forgets a piece's buffer and disk mode, keeping the memory
// for the next piece. Caller holds s.mu.
func (s *Swarm) releaseBuffer(piece int) {
	if buf, ok := s.bufs[piece]; ok {
		s.buffered -= int64(len(buf))
		delete(s.bufs, piece)
		if len(s.freeBufs) < s.bufSlots && int64(cap(buf)) == s.layout.PieceLength {
			s.freeBufs = append(s.freeBufs, buf[:cap(buf)])
		}
	}
	delete(s.onDisk, piece)
}

// getBuffer hands out a piece buffer, from an arena when one is free.
// Caller holds s.mu.
func (s *Swarm) getBuffer(size int64) []byte {
	if len(s.freeBufs) == 0 {
		more := carveBuffers(s.layout, s.bufSlots)
		s.freeBufs = append(s.freeBufs, more...)
		s.bufSlots += len(more)
	}
	if n := len(s.freeBufs); n > 0 && int64(cap(s.freeBufs[n-1])) >= size {
		buf := s.freeBufs[n-1][:size]
		s.freeBufs = s.freeBufs[:n-1]
		return buf
	}
	// Aligned, so a verified piece goes to disk without a page-cache copy.
	// Sized for reuse by any piece, unless pieces are huge (libtorrent
	// loads 512 MiB pieces; a small torrent with one must not cost that).
	n := size
	if s.layout.PieceLength <= maxBuffered {
		n = max(size, s.layout.PieceLength)
	}
	return storage.AlignedBuffer(int(n))[:size]
}

// firstArena is the size of a download's first arena: enough for the few
// pieces a download from the Internet has in flight. A download that needs
// more, a fast one, gets a second arena with the rest of maxBuffered. In a
// long-lived process an arena may reuse heap memory, which Go zeroes, so
// all of it becomes resident at once: a slow download should not hold
// 32 MiB.
const firstArena = 8 << 20

// carveBuffers cuts a new arena into piece buffers aligned for direct
// writes, given that earlier arenas hold carved buffers already: the first
// arena up to firstArena, the second up to maxBuffered in all, never more
// than the torrent has pieces. The arena sits on huge pages where the
// system offers them, and released buffers go back to the free list: a
// download reuses the same few large pages throughout instead of faulting
// in, pinning and collecting fresh 4 KiB pages for every piece (measured:
// 10% more MB/s and 10% less leecher CPU from one Shoal seeder over
// loopback).
func carveBuffers(l *storage.Layout, carved int) [][]byte {
	slot := (l.PieceLength + storage.DirectAlign - 1) / storage.DirectAlign * storage.DirectAlign
	if slot <= 0 {
		return nil
	}
	limit := min(maxBuffered/slot, int64(l.NumPieces))
	if carved == 0 {
		limit = min(limit, max(1, firstArena/slot))
	}
	n := limit - int64(carved)
	if n <= 0 {
		return nil
	}
	arena := storage.HugeBuffer(int(n * slot))
	bufs := make([][]byte, n)
	for i := range bufs {
		at := int64(i) * slot
		bufs[i] = arena[at : at+l.PieceLength : at+l.PieceLength]
	}
	return bufs
}

func (s *Swarm) recordSource(p *peer, b picker.Block) {
	srcs := s.blame[b.Piece]
	if srcs == nil {
		blocks := (s.layout.PieceSize(b.Piece) + picker.BlockSize - 1) / picker.BlockSize
		srcs = make([]blockSource, blocks)
		put(&s.blame, b.Piece, srcs)
	}
	if i := b.Begin / picker.BlockSize; i < len(srcs) {
		srcs[i] = p.source()
	}
}

func (s *Swarm) sendCancels(ids []uint64, b picker.Block) {
	for _, id := range ids {
		if q := s.peers[id]; q != nil {
			delete(q.requests, b)
			q.w.send(wire.Message{ID: wire.Cancel, Index: uint32(b.Piece), Begin: uint32(b.Begin), Length: uint32(b.Length)})
		}
	}
}

// verify checks one piece and applies the result; a buffered piece that
// passes is written to disk here, in one call that bypasses the page cache
// (the piece is final, and filling the cache is the costliest step of a
// fast download on many machines).
func (s *Swarm) verify(j hashJob) error {
	var ok bool
	if j.buf == nil {
		var err error
		if ok, err = s.files.VerifyPiece(j.piece); err != nil {
			return fmt.Errorf("verify piece %d: %w", j.piece, err)
		}
	} else if ok = s.layout.CheckPiece(j.piece, j.buf); ok {
		if _, err := s.files.WriteThrough(j.buf, s.layout.PieceOffset(j.piece)); err != nil {
			return fmt.Errorf("write piece %d: %w", j.piece, err)
		}
	}
	if s.pieceHashed(j.piece, ok, j.buf) && s.cfg.OnComplete != nil {
		s.cfg.OnComplete()
	}
	return nil
}

// pieceHashed applies a verification result; buf holds the piece's data
// if it was assembled in memory, else the data is read back from disk. It
// reports whether the piece was the last one wanted.
func (s *Swarm) pieceHashed(piece int, ok bool, buf []byte) (completed bool) {
	var blockHashes map[int][32]byte
	kept := !ok && s.keepFailed(piece, buf)
	if !ok || s.hasFailedBefore(piece) {
		if buf == nil {
			buf = s.readPiece(piece)
		}
		blockHashes = blockHashesOf(s.layout.PieceFileData(piece, buf))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseBuffer(piece)
	srcs := s.blame[piece]
	delete(s.blame, piece)
	if !ok {
		s.onHashFail(piece, srcs, blockHashes, kept)
		return false
	}
	if fp := s.failed[piece]; fp != nil {
		s.convict(fp, blockHashes)
		delete(s.failed, piece)
	}
	s.pick.MarkHave(piece)
	s.have.Set(piece)
	s.unsynced = append(s.unsynced, piece)
	for _, p := range s.peers {
		p.w.send(wire.Message{ID: wire.Have, Index: uint32(piece)})
		if p.amInterested {
			s.updateInterest(p)
		}
	}
	if s.pick.Complete() && !s.seeding {
		s.seeding = true
		s.logger().Info("download complete")
		return true
	}
	return false
}

func (s *Swarm) hasFailedBefore(piece int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[piece] != nil
}

// readPiece reads a piece back from disk (nil if it cannot).
func (s *Swarm) readPiece(piece int) []byte {
	buf := make([]byte, s.layout.PieceSize(piece))
	if _, err := s.files.ReadAt(buf, s.layout.PieceOffset(piece)); err != nil {
		return nil
	}
	return buf
}

// blockHashesOf hashes each block of a piece's data with SHA-256, for
// blame: compared with the blocks of a later good copy, or for v2 with
// the piece's leaf hashes.
func blockHashesOf(buf []byte) map[int][32]byte {
	if buf == nil {
		return nil
	}
	out := make(map[int][32]byte)
	for i, h := range storage.BlockHashes(buf) {
		out[i] = h
	}
	return out
}

// keepFailed puts a failed v2 piece's data on disk, where its good blocks
// stay while the leaf hashes tell which blocks to fetch again (a buffered
// piece would lose them with its buffer), and reports whether it did. A v1
// piece, or one whose leaves cannot be asked for, is fetched whole again.
func (s *Swarm) keepFailed(piece int, buf []byte) bool {
	if _, ok := s.layout.PieceLeaves(piece); !ok {
		return false
	}
	if buf == nil {
		return true // assembled on disk already
	}
	if _, err := s.files.WriteAt(buf, s.layout.PieceOffset(piece)); err != nil {
		s.logger().Warn("cannot keep failed piece", "piece", piece, "err", err)
		return false
	}
	return true
}

// onHashFail assigns blame and re-queues the piece. A piece that came
// from one peer alone convicts it. For a v2 piece the leaf hashes are
// asked for: they tell which blocks were bad, who sent them, and, when
// the piece was kept, that only those blocks are fetched again. Otherwise
// the whole piece is fetched again and what each peer sent is remembered
// and judged when the piece verifies. Caller holds s.mu.
func (s *Swarm) onHashFail(piece int, srcs []blockSource, hashes map[int][32]byte, kept bool) {
	senders := map[PeerKey]blockSource{}
	fp := s.failed[piece]
	if fp == nil {
		fp = &failedPiece{sent: make(map[int][]sentBlock)}
		put(&s.failed, piece, fp)
	}
	for blk, src := range srcs {
		if src.key.IsZero() {
			continue // not received (the piece failed anyway)
		}
		senders[src.key] = src
		fp.sent[blk] = append(fp.sent[blk], sentBlock{src: src, hash: hashes[blk]})
	}
	s.logger().Warn("piece failed hash check", "piece", piece, "senders", len(senders))
	if len(senders) == 1 {
		for _, src := range senders {
			s.ban(src, fmt.Sprintf("sent piece %d alone and it failed its hash", piece))
		}
	}
	asked := hashes != nil && (len(senders) > 1 || kept) && s.askLeaves(piece, senders, hashes, kept)
	if asked && kept {
		put(&s.onDisk, piece, true) // the good blocks are there; the rest join them
	} else {
		s.pick.MarkFailed(piece)
	}
	if asked || len(senders) == 1 {
		return // the leaf hashes will tell which block was bad
	}
	if s.anyBanned(senders) {
		// A proven liar's blocks explain the failure: a piece it had a
		// share in before its ban (its blocks already in) fails without
		// the others' fault, and striking them banned honest seeds.
		return
	}
	for _, src := range senders {
		s.strike(src, piece)
	}
}

// anyBanned reports whether one of senders is banned. Caller holds s.mu.
func (s *Swarm) anyBanned(senders map[PeerKey]blockSource) bool {
	for key := range senders {
		if _, ok := s.banned[key]; ok {
			return true
		}
	}
	return false
}

// convict bans every peer whose remembered block differs from the good one.
func (s *Swarm) convict(fp *failedPiece, good map[int][32]byte) {
	for blk, sent := range fp.sent {
		for _, sb := range sent {
			if h, ok := good[blk]; ok && h != sb.hash {
				s.ban(sb.src, fmt.Sprintf("sent corrupt block %d", blk))
			}
		}
	}
}

// strike counts a shared failure; enough strikes ban even unproven peers.
func (s *Swarm) strike(src blockSource, piece int) {
	if p := s.peers[src.peer]; p != nil {
		p.strikes++
		if p.strikes >= s.cfg.BanAfter {
			s.ban(src, fmt.Sprintf("%d failed pieces", p.strikes))
			return
		}
	}
	s.reports = append(s.reports, HashReport{Key: src.key, Reason: fmt.Sprintf("shared failed piece %d", piece)})
}

// ban refuses the peer from now on and drops it. Caller holds s.mu.
func (s *Swarm) ban(src blockSource, reason string) {
	if _, already := s.banned[src.key]; already {
		return
	}
	put(&s.banned, src.key, reason)
	s.logger().Warn("peer banned", "peer", src.key, "reason", reason)
	if p := s.peers[src.peer]; p != nil {
		p.close(fmt.Errorf("banned: %s", reason))
	}
	s.reports = append(s.reports, HashReport{Key: src.key, Ban: true, Reason: reason})
}

// fail stops the swarm's transfer with an error visible in Stats.
func (s *Swarm) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		s.logger().Error("transfer failed", "err", err)
	}
	for _, p := range s.peers {
		p.close(err)
	}
}
