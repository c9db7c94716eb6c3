package transport

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/anacrolix/torrent/mse"

	"github.com/shoalp2p/shoal/engine/wire"
)

// SniffLen is how many bytes IsPlain needs to peek.
const SniffLen = 1 + len(wire.Protocol)

// IsPlain peeks at an incoming stream: true if it opens with a plain BEP 3
// handshake (19, "BitTorrent protocol"), false for anything else, which
// Receive takes for MSE. It waits for SniffLen bytes only when the first
// is 19.
func IsPlain(br *bufio.Reader) (bool, error) {
	first, err := br.Peek(1)
	if err != nil {
		return false, failed(stepBT, err)
	}
	if first[0] != byte(len(wire.Protocol)) {
		return false, nil
	}
	b, err := br.Peek(SniffLen)
	if err != nil {
		return false, failed(stepBT, err)
	}
	return string(b[1:]) == wire.Protocol, nil
}

// Receiver accepts incoming peer connections under an encryption mode.
type Receiver struct {
	// Mode returns the current encryption mode; nil means Off.
	Mode func() Encryption
	// SKeys lists the infohashes an MSE peer may ask for.
	SKeys func() [][20]byte
}

// Incoming is an accepted connection past the head of the peer's BEP 3
// handshake: the reserved bits and the infohash it wants. Our reply and
// its peer ID are the swarm's business.
type Incoming struct {
	*Conn
	Reserved [8]byte
	InfoHash [20]byte
}

// Receive runs the incoming handshake on conn, whose first bytes br holds
// unread, within timeout (or until ctx ends): plain or MSE as IsPlain
// tells, refused as the mode says. The caller closes conn on error.
func (r *Receiver) Receive(ctx context.Context, conn net.Conn, br *bufio.Reader, timeout time.Duration) (*Incoming, error) {
	conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer watchdog(conn, timeout)()
	mode := Off
	if r.Mode != nil {
		mode = r.Mode()
	}
	plain, err := IsPlain(br)
	if err != nil {
		return nil, err
	}
	in := &Incoming{Conn: &Conn{Conn: conn, Network: networkOf(conn), Encryption: EncNone}}
	var skey []byte
	switch {
	case plain && mode == Require:
		return nil, failedAs(ErrPlainPeer, stepBT, nil)
	case plain:
		in.Reader = bufio.NewReaderSize(br, readBufSize)
	case mode == Off:
		return nil, failedAs(ErrEncryptedPeer, stepMSE, nil)
	default:
		if skey, err = r.receiveMSE(in.Conn, br, mode); err != nil {
			return nil, err
		}
	}
	if in.Reserved, in.InfoHash, err = wire.ReadHandshakeHead(in.Reader); err != nil {
		return nil, failed(stepBT, err)
	}
	if skey != nil && string(skey) != string(in.InfoHash[:]) {
		return nil, failedAs(ErrWrongInfoHash, stepBT, fmt.Errorf("its encrypted handshake named %x, its BitTorrent handshake %x", skey, in.InfoHash))
	}
	if !stop() {
		return nil, failed(stepBT, ctx.Err())
	}
	conn.SetDeadline(time.Time{})
	return in, nil
}

// receiveMSE runs MSE as receiver and sets c's streams; it returns the
// infohash the peer used as SKEY.
func (r *Receiver) receiveMSE(c *Conn, br *bufio.Reader, mode Encryption) ([]byte, error) {
	var keys [][20]byte
	if r.SKeys != nil {
		keys = r.SKeys()
	}
	var skey []byte
	iter := func(yield func([]byte) bool) {
		for i := range keys {
			if !yield(keys[i][:]) {
				skey = keys[i][:] // mse stops at the key that matched
				return
			}
		}
	}
	refusedPlain := false
	sel := func(offered mse.CryptoMethod) mse.CryptoMethod {
		m := mode.selector()(offered)
		refusedPlain = m == 0 && offered&mse.CryptoMethodPlaintext != 0
		return m
	}
	rw, method, err := mse.ReceiveHandshake(context.Background(), readWriter{br, c.Conn}, iter, sel)
	if err != nil && refusedPlain {
		return nil, failedAs(ErrPlainPeer, stepMSE, fmt.Errorf("it offered only unencrypted data after the handshake"))
	}
	if err != nil {
		return nil, failed(stepMSE, err)
	}
	c.Encryption = encName(method)
	if method == mse.CryptoMethodRC4 {
		c.Conn = &cipherConn{Conn: c.Conn, rw: rw}
	}
	c.Reader = bufio.NewReaderSize(rw, readBufSize)
	return skey, nil
}
