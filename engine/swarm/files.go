package swarm

// FileInfo is one file of the torrent as the owner shows it.
type FileInfo struct {
	Index  int    // the file's index in the torrent (padding files are left out)
	Path   string // relative to the download folder
	Size   int64
	Have   int64 // bytes of verified pieces inside this file
	Wanted bool
}

// SetSkipped marks files (by index) not to download. A piece is still
// fetched if it also holds bytes of a wanted file.
func (s *Swarm) SetSkipped(skip map[int]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skip = skip
	s.applySkips()
}

// applySkips recomputes which pieces are wanted. Caller holds s.mu.
func (s *Swarm) applySkips() {
	if s.layout == nil {
		return
	}
	wanted := make([]bool, s.layout.NumPieces)
	for i := range s.layout.Files {
		if s.skip[i] {
			continue
		}
		first, last := s.layout.PiecesForFile(i)
		for p := first; p <= last; p++ {
			wanted[p] = true
		}
	}
	for p, w := range wanted {
		s.pick.SetWanted(p, w)
	}
	s.seeding = s.pick.Complete()
	for _, p := range s.peers {
		s.updateInterest(p)
	}
}

// Files lists the torrent's files with their progress (nil before metadata).
func (s *Swarm) Files() []FileInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.layout == nil {
		return nil
	}
	var out []FileInfo
	for i, f := range s.layout.Files {
		if f.Pad {
			continue
		}
		fi := FileInfo{Index: i, Path: f.Path, Size: f.Length, Wanted: !s.skip[i]}
		first, last := s.layout.PiecesForFile(i)
		for p := first; p <= last; p++ {
			if s.pick.Have(p) {
				start := max(f.Offset, s.layout.PieceOffset(p))
				end := min(f.Offset+f.Length, s.layout.PieceOffset(p)+s.layout.PieceSize(p))
				fi.Have += end - start
			}
		}
		out = append(out, fi)
	}
	return out
}

// wantedBytes sums the sizes of wanted pieces and of those verified.
// Caller holds s.mu.
func (s *Swarm) wantedBytes() (wanted, have int64) {
	for i := 0; i < s.layout.NumPieces; i++ {
		if !s.pick.Wanted(i) {
			continue
		}
		size := s.layout.PieceSize(i)
		wanted += size
		if s.pick.Have(i) {
			have += size
		}
	}
	wanted = s.layout.ContentBytes(wanted, s.pick.Wanted)
	have = s.layout.ContentBytes(have, func(i int) bool { return s.pick.Wanted(i) && s.pick.Have(i) })
	return wanted, have
}
