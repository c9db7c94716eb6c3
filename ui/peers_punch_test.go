package ui

import (
	"testing"

	"github.com/shoalp2p/shoal/engine"
)

// TestLinkWordsNamePunchedConnections: a connection made by a BEP 55 hole
// punch says so in the Link column and names its relay in the hover text.
func TestLinkWordsNamePunchedConnections(t *testing.T) {
	cases := []struct {
		pe           engine.PeerSnapshot
		text, detail string
	}{
		{engine.PeerSnapshot{Network: "utp", Encryption: "rc4", Via: "203.0.113.50:42040"},
			"uTP, RC4, punched", "over uTP hole punched via 203.0.113.50:42040, encrypted (RC4)"},
		{engine.PeerSnapshot{Network: "tcp", Encryption: "none", Via: "203.0.113.50:42040"},
			"TCP, punched", "over TCP hole punched via 203.0.113.50:42040, not encrypted"},
		{engine.PeerSnapshot{Network: "tcp", Encryption: "none"}, "TCP", "over TCP, not encrypted"},
	}
	for _, tc := range cases {
		if got := linkText(tc.pe); got != tc.text {
			t.Errorf("linkText(%+v) = %q, want %q", tc.pe, got, tc.text)
		}
		if got := linkDetail(tc.pe); got != tc.detail {
			t.Errorf("linkDetail(%+v) = %q, want %q", tc.pe, got, tc.detail)
		}
	}
}
