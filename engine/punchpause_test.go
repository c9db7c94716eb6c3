package engine

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// TestPunchPauseBounded: after an ICMP refusal the next TCP punch attempt
// follows at once, but only maxInstantRetries times: an address this host
// has no route to fails in the connect call itself, and unbounded the
// punch loop would spin a core for all of punchFast. Other refusals pause
// punchFastRetry, and every one punchRetry once the fast phase is over.
func TestPunchPauseBounded(t *testing.T) {
	t.Parallel()
	unreach := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}
	instant := 0
	for i := range maxInstantRetries {
		if p := punchPause(unreach, true, &instant); p != 0 {
			t.Fatalf("ICMP refusal %d: pause %v, want none", i+1, p)
		}
	}
	if p := punchPause(unreach, true, &instant); p != punchFastRetry {
		t.Fatalf("ICMP refusal %d: pause %v, want %v", maxInstantRetries+1, p, punchFastRetry)
	}
	fresh := 0
	if p := punchPause(syscall.ECONNREFUSED, true, &fresh); p != punchFastRetry || fresh != 0 {
		t.Fatalf("a RST: pause %v (instant %d), want %v", p, fresh, punchFastRetry)
	}
	if p := punchPause(syscall.ENETUNREACH, false, &fresh); p != punchRetry {
		t.Fatalf("after the fast phase: pause %v, want %v", p, punchRetry)
	}
}
