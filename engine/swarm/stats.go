package swarm

import (
	"cmp"
	"context"
	"slices"
)

// Stats is a plain-value view of the swarm for the owner's snapshot.
type Stats struct {
	Name       string
	Size       int64 // content bytes, padding left out
	Files      int   // files, padding left out
	Have       int64
	Wanted     int64 // bytes of pieces to download (Size unless files are skipped)
	WantedHave int64
	Pieces     int
	PiecesHave int
	HasInfo    bool
	Seeding    bool
	Paused     bool
	Checking   bool
	Err        error
	DownRate   float64
	UpRate     float64
	TotalDown  int64 // payload bytes this session
	TotalUp    int64
	Peers      []PeerStats
}

// PeerStats describes one connection.
type PeerStats struct {
	Key         PeerKey // ban/credit key
	PeerID      [20]byte
	Addr        string
	Client      string
	Network     string // "tcp" or "utp"
	Encryption  string // "none", "obfuscated" (MSE header only) or "rc4"
	Progress    float64
	DownRate    float64
	UpRate      float64
	Downloaded  int64
	Uploaded    int64
	Choked      bool
	ChokingUs   bool
	Interested  bool // the peer wants data we have
	Interesting bool // we want data the peer has
	Seed        bool
	Note        string
	// Via is the relay whose BEP 55 hole punch brought this connection
	// ("" for an ordinary one).
	Via string
}

// Stats copies the current state.
func (s *Swarm) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Paused: s.paused, Err: s.err, Seeding: s.seeding, Checking: s.checking,
		TotalDown: s.totalDown.Load(), TotalUp: s.totalUp.Load()}
	if s.layout != nil {
		st.HasInfo = true
		st.Name = s.layout.Name
		st.Size = s.layout.ContentLength // padding is never stored or shown
		st.Files = s.layout.ContentFiles
		st.Pieces = s.layout.NumPieces
		st.PiecesHave = s.pick.NumHave()
		st.Have = s.haveBytes()
		st.Wanted, st.WantedHave = s.wantedBytes()
	}
	for _, p := range s.peers {
		ps := PeerStats{Key: p.banKey(), PeerID: p.peerID, Addr: p.addr, Client: p.client,
			Network: p.network, Encryption: p.encryption, DownRate: p.downRate.value, UpRate: p.upRate.value,
			Downloaded: p.down.Load(), Uploaded: p.up.Load(), Choked: p.amChoking, ChokingUs: p.peerChoking, Note: p.note,
			Interested: p.peerInterested, Interesting: p.amInterested, Via: p.via}
		if st.Pieces > 0 {
			ps.Seed = p.isSeed(st.Pieces)
			ps.Progress = float64(p.numHave) / float64(st.Pieces)
			if p.haveAll {
				ps.Progress = 1
			}
		}
		st.DownRate += ps.DownRate
		st.UpRate += ps.UpRate
		st.Peers = append(st.Peers, ps)
	}
	slices.SortFunc(st.Peers, func(a, b PeerStats) int { return cmp.Compare(b.DownRate, a.DownRate) })
	return st
}

// haveBytes is the content bytes (padding left out) of the pieces had.
func (s *Swarm) haveBytes() int64 {
	var n int64
	for i := 0; i < s.layout.NumPieces; i++ {
		if s.pick.Have(i) {
			n += s.layout.PieceSize(i)
		}
	}
	return s.layout.ContentBytes(n, s.pick.Have)
}

// Traffic is payload moved with one peer since the last drain.
type Traffic struct {
	PeerID [20]byte
	Key    PeerKey // ban/credit key; zero for data with no peer
	Up     int64
	Down   int64
}

// DrainTraffic returns bytes moved since the previous call, per peer, so the
// owner can add them to its persistent ledger.
func (s *Swarm) DrainTraffic() []Traffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.closedTraffic
	s.closedTraffic = nil
	for _, p := range s.peers {
		up, down := p.unloggedUp.Swap(0), p.unloggedDown.Swap(0)
		if up != 0 || down != 0 {
			out = append(out, Traffic{PeerID: p.peerID, Key: p.banKey(), Up: up, Down: down})
		}
	}
	return out
}

// Progress is what Checkpoint reports.
type Progress struct {
	// Have lists the verified pieces, every one of them durable; nil
	// before the metadata is known, and while shutdown closes storage.
	Have []bool
	// Changed says pieces were added to Have since the previous call.
	Changed bool
	// Checked says the Recheck pass is over (or was not asked for): the
	// pieces already on disk are all in Have.
	Checked bool
}

// Checkpoint makes every verified piece durable (fsync) and reports the
// pieces that may now be recorded as complete. Take it before DrainTraffic:
// every byte of a piece in Have has then been counted by the drain.
func (s *Swarm) Checkpoint() (Progress, error) {
	s.mu.Lock()
	if s.closing && !s.filesClosed {
		// Shutdown is making the pieces durable: they are recorded at
		// the next checkpoint, once it has (filesClosed).
		s.mu.Unlock()
		return Progress{}, nil
	}
	pieces := s.unsynced
	s.unsynced = nil
	files := s.files
	p := Progress{Changed: len(pieces) > 0, Checked: s.rechecked}
	if s.pick != nil {
		p.Have = make([]bool, s.pick.NumPieces())
		for i := range p.Have {
			p.Have[i] = s.pick.Have(i)
		}
	}
	closed := s.filesClosed
	s.mu.Unlock()
	if len(pieces) == 0 || closed { // shutdown synced what it closed
		return p, nil
	}
	if err := files.SyncPieces(pieces); err != nil {
		s.mu.Lock()
		s.unsynced = append(s.unsynced, pieces...)
		s.mu.Unlock()
		return Progress{}, err
	}
	return p, nil
}

// Complete reports whether every piece is verified.
func (s *Swarm) Complete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pick != nil && s.pick.Complete()
}

// ctx is the context Run was given (Background before Run).
func (s *Swarm) ctx() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runCtx == nil {
		return context.Background()
	}
	return s.runCtx
}

// SetSequential switches the picker to in-order download (media).
func (s *Swarm) SetSequential(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sequential = on
	if s.pick != nil {
		s.pick.SetSequential(on)
	}
}

// OnlySeed reports whether no connected peer has the whole content.
func (s *Swarm) OnlySeed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pick == nil {
		return false
	}
	for _, p := range s.peers {
		if p.isSeed(s.pick.NumPieces()) {
			return false
		}
	}
	return true
}

// Undrained is what moved but was not yet collected by DrainTraffic.
func (s *Swarm) Undrained() (up, down int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		up += p.unloggedUp.Load()
		down += p.unloggedDown.Load()
	}
	for _, t := range s.closedTraffic {
		up += t.Up
		down += t.Down
	}
	return up, down
}

// Bans lists the peers this swarm banned (key -> reason), newest knowledge
// included; bans loaded at start are not repeated.
func (s *Swarm) Bans() map[PeerKey]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[PeerKey]string)
	for k, v := range s.banned {
		if _, old := s.cfg.Banned[k]; !old {
			out[k] = v
		}
	}
	return out
}

// NumPeers reports how many peers are connected.
func (s *Swarm) NumPeers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}
