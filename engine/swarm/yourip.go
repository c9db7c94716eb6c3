package swarm

import (
	"net/netip"
	"sync"
	"time"

	"github.com/shoalp2p/shoal/engine/portmap"
)

// Our external IP as peers see it (BEP 10 yourip), by vote: one peer can
// lie or sit on our side of the router, so an address counts only when
// at least MinIPVoters distinct public peer addresses name it and it has
// more votes than every other address together. Each voter address has
// one vote (its latest claim); votes expire after ipVoteTTL, and at most
// maxIPVoters are kept (the oldest goes first).

// MinIPVoters is how many distinct peer addresses must agree on our IP.
const MinIPVoters = 2

const (
	ipVoteTTL   = time.Hour
	maxIPVoters = 512
)

// IPVotes collects yourip claims from every swarm of a node. Its methods
// take only its own lock and never call out, so a swarm may note a claim
// while holding its own lock.
type IPVotes struct {
	mu    sync.Mutex
	votes map[netip.Addr]ipVote // by voter address
	now   func() time.Time
}

type ipVote struct {
	claimed netip.Addr
	at      time.Time
}

// NewIPVotes makes an empty ballot box.
func NewIPVotes() *IPVotes {
	return &IPVotes{votes: map[netip.Addr]ipVote{}, now: time.Now}
}

// Note records that the peer at voter says our address is claimed. It is
// ignored unless both are public addresses of the same family (a peer on
// our LAN sees our private address; a loopback or documentation-only
// claim tells nothing about the Internet), and a nil box ignores all.
func (v *IPVotes) Note(voter, claimed netip.Addr) {
	voter, claimed = voter.Unmap(), claimed.Unmap()
	if v == nil || !portmap.IsPublic(voter) || !portmap.IsPublic(claimed) || voter.Is4() != claimed.Is4() || voter == claimed {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if _, ok := v.votes[voter]; !ok && len(v.votes) >= maxIPVoters {
		v.dropOldest()
	}
	v.votes[voter] = ipVote{claimed: claimed, at: now}
}

// dropOldest removes the oldest vote. Caller holds v.mu.
func (v *IPVotes) dropOldest() {
	var oldest netip.Addr
	var at time.Time
	for k, vote := range v.votes {
		if !oldest.IsValid() || vote.at.Before(at) {
			oldest, at = k, vote.at
		}
	}
	delete(v.votes, oldest)
}

// Agreed returns the IPv4 (v6 false) or IPv6 address the live votes agree
// on and how many distinct peers named it; ok is false when no address
// has MinIPVoters votes and a majority.
func (v *IPVotes) Agreed(v6 bool) (addr netip.Addr, voters int, ok bool) {
	if v == nil {
		return netip.Addr{}, 0, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	count := map[netip.Addr]int{}
	total := 0
	for k, vote := range v.votes {
		if now.Sub(vote.at) > ipVoteTTL {
			delete(v.votes, k)
			continue
		}
		if vote.claimed.Is6() == v6 {
			count[vote.claimed]++
			total++
		}
	}
	for a, n := range count {
		if n > voters {
			addr, voters = a, n
		}
	}
	if voters < MinIPVoters || 2*voters <= total {
		return netip.Addr{}, 0, false
	}
	return addr, voters, true
}
