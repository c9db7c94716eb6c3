package lossylink

import (
	"testing"
	"time"
)

// TestAdmitSerialises checks the rate cap's arithmetic: back-to-back
// packets leave one serialisation time apart, then overflow the queue.
func TestAdmitSerialises(t *testing.T) {
	var d direction
	cfg := Config{Delay: 10 * time.Millisecond, Rate: 8e6, Queue: 5 * time.Millisecond} // 1 byte per µs
	now := time.Unix(1000, 0)
	for i := 1; i <= 5; i++ {
		due, ok := d.admit(now, 1000, cfg)
		want := now.Add(time.Duration(i)*time.Millisecond + cfg.Delay)
		if !ok || !due.Equal(want) {
			t.Fatalf("packet %d: due %v ok %v, want %v", i, due.Sub(now), ok, want.Sub(now))
		}
	}
	if _, ok := d.admit(now, 1000, cfg); ok {
		t.Fatal("a sixth millisecond-long packet fit a 5 ms queue")
	}
	if st := d.stats(); st.Overflow != 1 {
		t.Fatalf("overflow counted %d, want 1", st.Overflow)
	}
	// Once the queue has drained, a packet waits only for itself.
	later := now.Add(time.Second)
	if due, ok := d.admit(later, 1000, cfg); !ok || !due.Equal(later.Add(time.Millisecond+cfg.Delay)) {
		t.Fatalf("after idle: due %v ok %v", due.Sub(later), ok)
	}
}

// TestAdmitLoss checks the random loss rate over many packets.
func TestAdmitLoss(t *testing.T) {
	var d direction
	const n = 100000
	for range n {
		d.admit(time.Now(), 100, Config{Loss: 0.01})
	}
	if got := float64(d.stats().Lost) / n; got < 0.008 || got > 0.012 {
		t.Fatalf("lost %.4f of packets, want 0.01", got)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{{Delay: -1}, {Loss: 1.5}, {Loss: -0.1}, {Rate: -1}, {Queue: -1}, {Delay: 2 * time.Minute}}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
	if err := (Config{Delay: 50 * time.Millisecond, Loss: 0.005, Rate: 40e6}).Validate(); err != nil {
		t.Error(err)
	}
}
