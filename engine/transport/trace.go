package transport

import "context"

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
