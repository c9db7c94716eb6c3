package swarm

import (
	"net/netip"
	"slices"
	"testing"
)

// The test vector from BEP 6.
func TestAllowedFastSetBEP6Vector(t *testing.T) {
	var ih [20]byte
	for i := range ih {
		ih[i] = 0xaa
	}
	ip := netip.MustParseAddr("80.4.4.200")
	if got, want := allowedFastSet(ip, ih, 1313, 7), []int{1059, 431, 808, 1217, 287, 376, 1188}; !slices.Equal(got, want) {
		t.Fatalf("k=7: got %v, want %v", got, want)
	}
	if got, want := allowedFastSet(ip, ih, 1313, 9), []int{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}; !slices.Equal(got, want) {
		t.Fatalf("k=9: got %v, want %v", got, want)
	}
	if got := allowedFastSet(ip, ih, 3, 10); len(got) != 3 {
		t.Fatalf("k larger than the piece count: got %v", got)
	}
}
