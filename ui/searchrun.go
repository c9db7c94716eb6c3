package ui

import (
	"fmt"
	"strings"

	"github.com/shoalp2p/shoal/engine"
)

// stopSearch ends the running search (the Stop button): what arrived so
// far stays, anything still on its way is dropped.
func (s *searchTab) stopSearch() {
	if s.state != searchRunning && s.state != searchBatch {
		return
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.gen++ // drop batches already on their way
	s.state = searchStopped
	s.stop.Disable()
	s.info.SetText(stoppedInfo(len(s.shown), len(s.hits)-len(s.shown)))
}

// loadHistory fills the search box's list of recent searches from the
// engine, once, while the window is built (one read of at most 20 rows);
// after that the tab keeps the list itself (rememberSearch).
func (s *searchTab) loadHistory() {
	s.history = s.u.eng.SearchHistory()
	s.entry.SetOptions(s.history)
	setEnabled(s.clear, len(s.history) > 0)
}

// clearHistory forgets the past searches, in the engine and in the search
// box's list (the Clear history button).
func (s *searchTab) clearHistory() {
	s.u.act("clear the search history", s.u.eng.ClearSearchHistory, func() {
		s.history = nil
		s.entry.SetOptions(nil)
		setEnabled(s.clear, false)
	})
}

// rememberSearch puts words first in the drop-down, as the engine puts
// them first in its history.
func (s *searchTab) rememberSearch(words string) {
	list := []string{words}
	for _, w := range s.history {
		if !strings.EqualFold(w, words) && len(list) < engine.SearchHistoryLen {
			list = append(list, w)
		}
	}
	s.history = list
	s.entry.SetOptions(list)
	setEnabled(s.clear, true)
}

// searchInfo is the line under the results: how many there are, how many
// the filters hide, and how far the search got among the supernodes.
func searchInfo(n, hidden int, done bool, p engine.SearchProgress) string {
	text := searchSummary(n, hidden, done)
	switch {
	case p.Refused:
		return text + " A supernode turned the search down because too many searches came at once; wait a few seconds and search again."
	case p.Asked == 0:
		return text
	case !done:
		return text + fmt.Sprintf(" %d of %s answered.", p.Answered, plural(p.Asked, "supernode"))
	case p.TimedOut:
		return text + fmt.Sprintf(" %d of %s did not answer in time; search again to ask them again.", p.Asked-p.Answered, plural(p.Asked, "supernode"))
	}
	return text + fmt.Sprintf(" Asked %s.", plural(p.Asked, "supernode"))
}

// stoppedInfo is the line under the results of a stopped search.
func stoppedInfo(n, hidden int) string {
	text := "Stopped with " + plural(n, "result")
	if hidden > 0 {
		text += fmt.Sprintf(", %d hidden by filters", hidden)
	}
	return text + "."
}
