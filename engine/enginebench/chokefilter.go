package enginebench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shoalp2p/shoal/internal/netguard"
)

// BitTorrent message IDs the filter looks at (BEP 3, BEP 6).
const (
	msgUnchoke     = 1
	msgPiece       = 7
	msgAllowedFast = 0x11
	msgExtended    = 20
	handshakeLen   = 68
	maxFilterMsg   = 1<<20 + 64
)

// ChokeFilter is a loopback TCP relay that turns one side of each
// connection through it into a free-rider: it drops every unchoke and
// allowed-fast message that side sends, so the other side may never request
// a block from it. Extension messages are dropped both ways (see relay);
// everything else passes unchanged, so the free-rider
// still downloads normally.
type ChokeFilter struct {
	ln         net.Listener
	target     string
	targetFree bool // the free-rider is the target (else the dialer)
	pieceBytes atomic.Int64
	wg         sync.WaitGroup
	mu         sync.Mutex
	conns      []net.Conn
}

// NewChokeFilter listens on a free 127.0.0.1 port and relays to target; the
// free-rider is the target when targetFree is set, else whoever dials the
// filter. It closes when the test ends.
func NewChokeFilter(t testing.TB, target string, targetFree bool) *ChokeFilter {
	t.Helper()
	guard := netguard.Policy{LoopbackOnly: true}
	ln, err := guard.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("enginetest: choke filter: %v", err)
	}
	f := &ChokeFilter{ln: ln, target: target, targetFree: targetFree}
	f.wg.Add(1)
	go f.accept(guard)
	t.Cleanup(f.Close)
	return f
}

// Addr is where peers dial to reach the target.
func (f *ChokeFilter) Addr() string { return f.ln.Addr().String() }

// PieceBytes is the piece payload that left the target through the filter.
func (f *ChokeFilter) PieceBytes() int64 { return f.pieceBytes.Load() }

// Close stops the relay and every connection through it.
func (f *ChokeFilter) Close() {
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *ChokeFilter) track(c net.Conn) {
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
}

func (f *ChokeFilter) accept(guard netguard.Policy) {
	defer f.wg.Done()
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		out, err := guard.Dial(context.Background(), "tcp", f.target)
		if err != nil {
			in.Close()
			continue
		}
		f.track(in)
		f.track(out)
		f.wg.Add(2)
		go f.relay(out, in, !f.targetFree) // dialer to target
		go f.relay(in, out, f.targetFree)  // target to dialer
	}
}

// relay copies src to dst through the filter. Extension messages are
// dropped both ways: otherwise peer exchange and the listen port in the
// extension handshake would let the free-rider and the others find each
// other's real addresses and connect around the filter.
func (f *ChokeFilter) relay(dst, src net.Conn, free bool) {
	defer f.wg.Done()
	f.filter(dst, src, free)
	dst.Close()
	src.Close()
}

// drop reports whether a message leaves out of the relay: extension
// messages always, and from the free-rider also what would let the other
// side request blocks.
func drop(id byte, free bool) bool {
	return id == msgExtended || free && (id == msgUnchoke || id == msgAllowedFast)
}

// filter copies one side's handshake, then its messages minus the dropped
// ones; free says the side is the free-rider, whose piece bytes are counted.
func (f *ChokeFilter) filter(dst io.Writer, src io.Reader, free bool) error {
	br := bufio.NewReaderSize(src, 64<<10)
	bw := bufio.NewWriterSize(dst, 64<<10)
	hs := make([]byte, handshakeLen)
	if _, err := io.ReadFull(br, hs); err != nil {
		return err
	}
	if _, err := bw.Write(hs); err != nil {
		return err
	}
	var hdr [4]byte
	buf := make([]byte, 0, 32<<10)
	for {
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxFilterMsg {
			return errors.New("enginetest: choke filter: oversized message")
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		if n > 0 && drop(buf[0], free) {
			continue
		}
		if free && n > 9 && buf[0] == msgPiece {
			f.pieceBytes.Add(int64(n - 9))
		}
		bw.Write(hdr[:])
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
}
