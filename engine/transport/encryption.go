package transport

import (
	"errors"
	"io"
	"net"
	"sync"

	"github.com/anacrolix/torrent/mse"
)

// Encryption is the MSE/PE policy (see the package doc).
type Encryption uint8

// The encryption modes.
const (
	Prefer  Encryption = iota // offer encryption, accept plain
	Require                   // encrypt (RC4) or refuse the peer
	Off                       // plain BEP 3 only
)

// String is the mode's name, as engine.Encryption spells it.
func (m Encryption) String() string {
	switch m {
	case Require:
		return "require"
	case Off:
		return "off"
	}
	return "prefer"
}

// provides is what we offer as MSE initiator.
func (m Encryption) provides() mse.CryptoMethod {
	if m == Require {
		return mse.CryptoMethodRC4
	}
	return mse.AllSupportedCrypto
}

// selector picks the method as MSE receiver: plain data when the peer
// offers it and we do not require RC4 (the header is hidden either way),
// else RC4; 0 (refuse) when nothing we accept is offered.
func (m Encryption) selector() mse.CryptoSelector {
	return func(offered mse.CryptoMethod) mse.CryptoMethod {
		switch {
		case m != Require && offered&mse.CryptoMethodPlaintext != 0:
			return mse.CryptoMethodPlaintext
		case offered&mse.CryptoMethodRC4 != 0:
			return mse.CryptoMethodRC4
		}
		return 0
	}
}

// What a connection's stream carries, as Conn.Encryption reports it.
const (
	EncNone       = "none"       // plain BEP 3
	EncObfuscated = "obfuscated" // MSE handshake, then plain data
	EncRC4        = "rc4"        // MSE handshake, then RC4
)

// encName names a negotiated MSE method.
func encName(m mse.CryptoMethod) string {
	if m == mse.CryptoMethodRC4 {
		return EncRC4
	}
	return EncObfuscated
}

// errBrokenStream: an earlier write was cut short, so the RC4 key stream
// no longer matches the peer's and the connection cannot be used.
var errBrokenStream = errors.New("transport: encrypted stream broken by a short write")

// cipherConn is a net.Conn whose bytes go through MSE's RC4 streams.
// Reads and writes may run on two goroutines, but writes on one at a time
// (as the swarm's writer does).
type cipherConn struct {
	net.Conn
	rw     io.ReadWriter
	mu     sync.Mutex
	broken bool
}

func (c *cipherConn) Read(b []byte) (int, error) { return c.rw.Read(b) }

func (c *cipherConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return 0, errBrokenStream
	}
	n, err := c.rw.Write(b)
	if n < len(b) {
		c.broken = true // mse's writer has encrypted bytes the peer will never see
		if err == nil {
			err = io.ErrShortWrite
		}
	}
	return n, err
}

// readWriter joins a reader and a writer.
type readWriter struct {
	io.Reader
	io.Writer
}
