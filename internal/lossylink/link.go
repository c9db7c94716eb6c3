package lossylink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Config shapes both directions of a link alike.
type Config struct {
	// Delay is the one-way delay added to every packet.
	Delay time.Duration
	// Loss is the probability (0 to 1) that a packet is dropped at random.
	Loss float64
	// Rate caps each direction in bits per second; 0 means no cap.
	Rate int64
	// Queue is the longest a packet may wait for the rate cap before it is
	// dropped; 0 means DefaultQueue. It has no effect without a Rate.
	Queue time.Duration
}

// DefaultQueue is the queue bound when Config.Queue is 0: a router
// buffer of 100 ms at the capped rate.
const DefaultQueue = 100 * time.Millisecond

// Validate reports a configuration that cannot be applied.
func (c Config) Validate() error {
	switch {
	case c.Delay < 0 || c.Delay > time.Minute:
		return fmt.Errorf("lossylink: delay %v: want 0 to 1m", c.Delay)
	case c.Loss < 0 || c.Loss > 1:
		return fmt.Errorf("lossylink: loss %v: want 0 to 1", c.Loss)
	case c.Rate < 0:
		return fmt.Errorf("lossylink: rate %d: want 0 (no cap) or more bits/s", c.Rate)
	case c.Queue < 0:
		return fmt.Errorf("lossylink: queue %v: want 0 (default) or more", c.Queue)
	}
	return nil
}

func (c Config) queue() time.Duration {
	if c.Queue == 0 {
		return DefaultQueue
	}
	return c.Queue
}

// Stats counts one direction's packets.
type Stats struct {
	Packets  int64 // read from the sending side
	Bytes    int64 // bytes of those packets
	Lost     int64 // dropped at random (Loss)
	Overflow int64 // dropped because the queue was full (Rate, Queue)
	Sent     int64 // written to the receiving side
	// SentBytes is the bytes of the packets written (IP headers included).
	SentBytes int64
}

// Link forwards packets between two packet devices, A and B, each a
// reader and writer of whole packets (a TUN device's file).
type Link struct {
	a, b   io.ReadWriter
	cfg    atomic.Pointer[Config]
	ab, ba direction
}

// New makes a link between a and b with cfg; Run starts it.
func New(a, b io.ReadWriter, cfg Config) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Link{a: a, b: b}
	l.cfg.Store(&cfg)
	return l, nil
}

// SetConfig changes the link's shape for packets read from now on.
func (l *Link) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.cfg.Store(&cfg)
	return nil
}

// Config is the link's current shape.
func (l *Link) Config() Config { return *l.cfg.Load() }

// Stats returns the counts of the A→B and B→A directions.
func (l *Link) Stats() (ab, ba Stats) { return l.ab.stats(), l.ba.stats() }

// Run forwards in both directions until ctx ends or a device fails. The
// caller closes the devices after Run returns (closing them earlier also
// ends it, with the device's error).
func (l *Link) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- l.ab.run(ctx, l.a, l.b, l.Config) }()
	go func() { errs <- l.ba.run(ctx, l.b, l.a, l.Config) }()
	err := <-errs
	cancel()
	err2 := <-errs
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return err2
	}
	return err
}

// maxPacket is the largest packet read: a TUN device's MTU is at most
// 64 KiB.
const maxPacket = 65535

// pending is a packet waiting for its delivery time.
type pending struct {
	due time.Time
	buf []byte
}

// direction is one way through the link.
type direction struct {
	packets, bytes, lost, overflow, sent atomic.Int64
	sentBytes                            atomic.Int64
	mu                                   sync.Mutex
	depart                               time.Time // when the queue's last packet leaves
}

func (d *direction) stats() Stats {
	return Stats{Packets: d.packets.Load(), Bytes: d.bytes.Load(), Lost: d.lost.Load(),
		Overflow: d.overflow.Load(), Sent: d.sent.Load(), SentBytes: d.sentBytes.Load()}
}

// run reads packets from in, shapes them and writes them to out.
func (d *direction) run(ctx context.Context, in io.Reader, out io.Writer, cfg func() Config) error {
	q := make(chan pending, 1<<16)
	werr := make(chan error, 1)
	go func() { werr <- d.deliver(ctx, q, out) }()
	rerr := d.read(ctx, in, q, cfg)
	close(q)
	if err := <-werr; err != nil && rerr == nil {
		return err
	}
	return rerr
}

// read admits packets to q until ctx ends or in fails.
func (d *direction) read(ctx context.Context, in io.Reader, q chan<- pending, cfg func() Config) error {
	buf := make([]byte, maxPacket)
	for ctx.Err() == nil {
		n, err := in.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("lossylink: read: %w", err)
		}
		if n == 0 {
			continue
		}
		d.packets.Add(1)
		d.bytes.Add(int64(n))
		due, ok := d.admit(time.Now(), n, cfg())
		if !ok {
			continue
		}
		select {
		case q <- pending{due: due, buf: append([]byte(nil), buf[:n]...)}:
		default:
			d.overflow.Add(1) // the delay line itself is full
		}
	}
	return ctx.Err()
}

// admit decides a packet's fate: when it is due at the far side, or not
// at all (lost or overflowed).
func (d *direction) admit(now time.Time, size int, c Config) (time.Time, bool) {
	if c.Loss > 0 && rand.Float64() < c.Loss {
		d.lost.Add(1)
		return time.Time{}, false
	}
	if c.Rate <= 0 {
		return now.Add(c.Delay), true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	start := d.depart
	if start.Before(now) {
		start = now
	}
	depart := start.Add(time.Duration(float64(size*8) / float64(c.Rate) * float64(time.Second)))
	if depart.Sub(now) > c.queue() {
		d.overflow.Add(1)
		return time.Time{}, false
	}
	d.depart = depart
	return depart.Add(c.Delay), true
}

// deliver writes each packet of q to out at its due time, in order.
func (d *direction) deliver(ctx context.Context, q <-chan pending, out io.Writer) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for p := range q {
		if wait := time.Until(p.due); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil
			}
		}
		if _, err := out.Write(p.buf); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("lossylink: write: %w", err)
		}
		d.sent.Add(1)
		d.sentBytes.Add(int64(len(p.buf)))
	}
	return nil
}
