package engine

import (
	"github.com/shoalp2p/shoal/engine/dhtindex"
)

// bep51 returns the node's BEP 51 responder, made on first use and shared
// by its DHT servers (one per address family), answering from ps.
func (e *Engine) bep51(ps *peerStore) *dhtindex.Responder {
	if e.responder == nil {
		e.responder = dhtindex.NewResponder(dhtindex.ResponderConfig{
			Source: ps,
			Logger: e.log.With("part", "bep51"),
		})
	}
	return e.responder
}
