package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// transcriptLines is how many transcript lines a call keeps.
const transcriptLines = 200

// callKey names one call: a lead's attempt.
type callKey struct {
	lead    uint64
	attempt int
}

// callPane is the monitor's active-call list focus and the open call. The
// engine reports only each call's latest transcript line, so the lines are
// gathered here as they arrive (a line spoken and replaced between two
// reads is missed).
type callPane struct {
	focus       bool // tab: j/k and enter work on the calls
	cursor      int
	open        *callKey
	last        engine.ActiveCall // the open call as last seen
	ended       bool              // the open call is no longer live
	endedAt     time.Time         // when the open call was first seen gone
	transcripts map[callKey][]string
}

// seen records the calls of a monitor read: new transcript lines are
// appended; calls that ended are forgotten unless one is open.
func (p *callPane) seen(calls []engine.ActiveCall, now time.Time) {
	live := map[callKey]bool{}
	for _, c := range calls {
		k := callKey{c.LeadID, c.Attempt}
		live[k] = true
		ls := p.transcripts[k]
		if line := oneLine(c.Progress.LastLine); line != "" && (len(ls) == 0 || ls[len(ls)-1] != line) {
			ls = append(ls, line)
			if len(ls) > transcriptLines {
				ls = ls[len(ls)-transcriptLines:]
			}
		}
		p.transcripts[k] = ls
		if p.open != nil && *p.open == k {
			p.last = c
		}
	}
	for k := range p.transcripts {
		if !live[k] && (p.open == nil || *p.open != k) {
			delete(p.transcripts, k)
		}
	}
	if p.open != nil && !live[*p.open] && !p.ended {
		p.ended, p.endedAt = true, now
	}
	p.cursor = max(0, min(p.cursor, len(calls)-1))
}

func (p *callPane) key(s *monitorScreen, msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	var calls []engine.ActiveCall
	if s.d != nil {
		calls = s.d.calls
	}
	switch {
	case key.Matches(msg, k.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(msg, k.Down):
		p.cursor = max(min(p.cursor+1, len(calls)-1), 0)
	case key.Matches(msg, k.Open):
		if p.cursor >= len(calls) {
			s.sh.fail("no live call")
			return nil
		}
		p.show(calls[p.cursor])
	}
	return nil
}

// openLead opens the live call of the selected lead.
func (p *callPane) openLead(s *monitorScreen) tea.Cmd {
	t := &s.leads
	if len(t.rows) == 0 || s.d == nil {
		s.sh.fail("no lead selected")
		return nil
	}
	l := t.rows[t.cursor]
	for _, c := range s.d.calls {
		if c.LeadID == l.ID {
			p.show(c)
			return nil
		}
	}
	s.sh.fail(fmt.Sprintf("lead #%d has no live call (tab selects among the live calls)", l.ID))
	return nil
}

// close leaves the call view; an ended call's transcript goes with it.
func (p *callPane) close() {
	if p.ended {
		delete(p.transcripts, *p.open)
	}
	p.open, p.ended = nil, false
}

func (p *callPane) show(c engine.ActiveCall) {
	p.open = &callKey{c.LeadID, c.Attempt}
	p.last, p.ended = c, false
}

func (p *callPane) detailLines(s *monitorScreen, now time.Time, h int) []string {
	st := s.sh.st
	c := p.last
	state := c.Progress.State
	if p.ended {
		// The call's length stops at its end, not at the screen's clock.
		state, now = "ended", p.endedAt
	}
	head := fmt.Sprintf("CALL — lead #%d %s %s · attempt %d · %s · %s", c.LeadID, engine.MaskPhone(c.Phone), c.Name,
		c.Attempt, state, dur(now.Sub(c.ClaimedAt)))
	lines := []string{st.heading.Render(head) + st.dim.Render("  (esc closes)")}
	if c.Progress.Detail != "" {
		lines = append(lines, st.dim.Render(c.Progress.Detail))
	}
	ts := p.transcripts[*p.open]
	if len(ts) == 0 {
		lines = append(lines, st.dim.Render("no transcript yet"))
	}
	room := max(h-len(lines)-1, 1)
	var wrapped []string
	for _, l := range ts {
		wrapped = append(wrapped, strings.Split(wrapText(l, s.w-2), "\n")...)
	}
	if len(wrapped) > room {
		wrapped = wrapped[len(wrapped)-room:]
	}
	for _, l := range wrapped {
		lines = append(lines, "  "+l)
	}
	if p.ended {
		lines = append(lines, st.dim.Render("the call has ended; its outcome is in the lead table"))
	}
	return lines
}
