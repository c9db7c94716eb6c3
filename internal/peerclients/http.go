package peerclients

import (
	"net/http"
	"time"

	"github.com/shoalp2p/shoal/internal/netguard"
)

// loopbackHTTP is an HTTP client that can reach only loopback addresses
// and never uses a proxy.
func loopbackHTTP() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: netguard.Policy{LoopbackOnly: true}.Dial, Proxy: nil}}
}
