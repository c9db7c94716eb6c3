package transport

import (
	"context"
	"errors"
)

// Trace is told how an outgoing connection attempt progresses, as
// net/http/httptrace tells an HTTP client. The caller attaches it to the
// context it passes to Dialer.Connect.
type Trace struct {
	// Opened is called when a transport connection to the peer opens
	// (a TCP connect or a uTP SYN answered), before the handshake over
	// it; network is "tcp" or "utp". It may be called more than once
	// (a retry over the other transport or in plain) and from any
	// goroutine.
	Opened func(network string)
}

type traceKey struct{}

type tcpOnlyKey struct{}

// ErrUTPHeld is a dial that WithTCPOnly kept off uTP while uTP is the only
// transport: nothing was sent.
var ErrUTPHeld = errors.New("transport: uTP held back for a hole punch")

// WithTCPOnly returns ctx telling the Dialer to leave uTP out of this
// connect. A uTP SYN to a peer behind a router whose own stack answers it
// leaves a connection-tracking entry on that router for 30 s that spoils
// a later uTP hole punch (see engine's doc); a TCP SYN leaves none.
func WithTCPOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, tcpOnlyKey{}, true)
}

// tcpOnly reports whether ctx came from WithTCPOnly.
func tcpOnly(ctx context.Context) bool {
	v, _ := ctx.Value(tcpOnlyKey{}).(bool)
	return v
}

// WithTrace returns ctx carrying t for the Dialer.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// opened tells ctx's Trace, if any, that a connection over network opened.
func opened(ctx context.Context, network string) {
	if t, _ := ctx.Value(traceKey{}).(*Trace); t != nil && t.Opened != nil {
		t.Opened(network)
	}
}
