package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/anacrolix/torrent/mse"

	"github.com/shoalp2p/shoal/engine/wire"
)

// What went wrong in a handshake: the Kind of a *HandshakeError.
var (
	// ErrRefused: nothing accepted the connection at that address.
	ErrRefused = errors.New("the peer refused the connection")
	// ErrReset: the peer reset the connection.
	ErrReset = errors.New("the peer reset the connection")
	// ErrClosed: the peer closed the connection before the handshake ended.
	ErrClosed = errors.New("the peer closed the connection during the handshake")
	// ErrTimeout: the peer did not finish the handshake in time.
	ErrTimeout = errors.New("the peer did not finish the handshake in time")
	// ErrPlainPeer: the peer does not encrypt, and encryption is required.
	ErrPlainPeer = errors.New("the peer does not encrypt, and encryption is required")
	// ErrEncryptedPeer: the peer encrypts, and encryption is turned off.
	ErrEncryptedPeer = errors.New("the peer wants encryption, which is turned off")
	// ErrWrongInfoHash: the peer asked for or answered with another torrent.
	ErrWrongInfoHash = errors.New("the peer is not sharing this torrent")
	// ErrNotBitTorrent: what the peer sent is not a BitTorrent handshake.
	ErrNotBitTorrent = errors.New("the peer does not speak BitTorrent")
	// ErrHandshake: any other failure.
	ErrHandshake = errors.New("the handshake failed")
)

// HandshakeError says what failed (Kind), in which step, and the cause.
type HandshakeError struct {
	Kind error  // one of the Err* values of this package
	Step string // "tcp connect", "utp connect", "encrypted handshake", "BitTorrent handshake"
	Err  error  // the underlying error, if any
}

// Error reads as a sentence: the kind, the step, then the detail.
func (e *HandshakeError) Error() string {
	s := e.Kind.Error() + " (" + e.Step + ")"
	if e.Err != nil && e.Err != e.Kind {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives errors.Is both the kind and the cause.
func (e *HandshakeError) Unwrap() []error { return []error{e.Kind, e.Err} }

// failed wraps err from step as a *HandshakeError, classifying it unless it
// already is one.
func failed(step string, err error) error {
	if err == nil {
		return nil
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		return err
	}
	return &HandshakeError{Kind: classify(err), Step: step, Err: err}
}

// failedAs wraps err from step with a known kind.
func failedAs(kind error, step string, err error) error {
	return &HandshakeError{Kind: kind, Step: step, Err: err}
}

// classify names what an I/O error means for a handshake.
func classify(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.ErrClosedPipe):
		return ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	case errors.Is(err, wire.ErrBadProtocol):
		return ErrNotBitTorrent
	case errors.Is(err, mse.ErrNoSecretKeyMatch):
		return ErrWrongInfoHash
	}
	return ErrHandshake
}

// Kind returns the Kind of a *HandshakeError in err's chain, or nil.
func Kind(err error) error {
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Kind
	}
	return nil
}
