package ui

import (
	"os"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// NoColor reports whether the NO_COLOR convention asks for a mono screen.
// Bubble Tea reads NO_COLOR with strconv.ParseBool, so NO_COLOR=yes would
// still get colour there; no-color.org says any non-empty value counts, and
// so do we (the mono theme below carries no colour at all).
func NoColor(getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	return strings.TrimSpace(getenv("NO_COLOR")) != ""
}

// styles is the theme. The mono theme uses only bold, faint and reverse, so
// every piece of information (state, selection, errors) survives without
// colour: states are always written as words too.
type styles struct {
	mono     bool
	title    lipgloss.Style
	heading  lipgloss.Style
	selected lipgloss.Style
	dim      lipgloss.Style
	err      lipgloss.Style
	info     lipgloss.Style
	prompt   lipgloss.Style
	barFull  lipgloss.Style
	state    map[engine.CampaignState]lipgloss.Style
	outbox   map[engine.OutboxState]lipgloss.Style
}

func newStyles(mono bool) styles {
	s := styles{
		mono:    mono,
		title:   lipgloss.NewStyle().Bold(true),
		heading: lipgloss.NewStyle().Bold(true),
		dim:     lipgloss.NewStyle().Faint(true),
		err:     lipgloss.NewStyle().Bold(true),
		info:    lipgloss.NewStyle(),
		prompt:  lipgloss.NewStyle().Bold(true).Reverse(true),
		barFull: lipgloss.NewStyle(),
		state:   map[engine.CampaignState]lipgloss.Style{},
		outbox:  map[engine.OutboxState]lipgloss.Style{},
	}
	s.selected = lipgloss.NewStyle().Reverse(true)
	if mono {
		for _, st := range []engine.CampaignState{engine.StateDraft, engine.StateScheduled, engine.StateRunning,
			engine.StatePaused, engine.StateCompleted, engine.StateFailed} {
			s.state[st] = lipgloss.NewStyle().Bold(st == engine.StateRunning || st == engine.StateFailed)
		}
		s.outbox[engine.OutboxPending] = lipgloss.NewStyle()
		s.outbox[engine.OutboxFailing] = lipgloss.NewStyle().Bold(true)
		s.outbox[engine.OutboxDead] = lipgloss.NewStyle().Bold(true).Underline(true)
		return s
	}
	s.title = s.title.Foreground(lipgloss.Color("12"))
	s.heading = s.heading.Foreground(lipgloss.Color("14"))
	s.err = s.err.Foreground(lipgloss.Color("9"))
	s.info = s.info.Foreground(lipgloss.Color("10"))
	s.prompt = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("11"))
	s.barFull = s.barFull.Foreground(lipgloss.Color("10"))
	s.state[engine.StateDraft] = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	s.state[engine.StateScheduled] = lipgloss.NewStyle().Foreground(lipgloss.Color("14"))
	s.state[engine.StateRunning] = lipgloss.NewStyle().Foreground(lipgloss.Color("10")).Bold(true)
	s.state[engine.StatePaused] = lipgloss.NewStyle().Foreground(lipgloss.Color("11"))
	s.state[engine.StateCompleted] = lipgloss.NewStyle().Foreground(lipgloss.Color("12"))
	s.state[engine.StateFailed] = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	s.outbox[engine.OutboxPending] = lipgloss.NewStyle().Foreground(lipgloss.Color("14"))
	s.outbox[engine.OutboxFailing] = lipgloss.NewStyle().Foreground(lipgloss.Color("11")).Bold(true)
	s.outbox[engine.OutboxDead] = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	return s
}

// stateWord renders a state coloured and as a word, padded to w cells.
func (s styles) stateWord(st engine.CampaignState, w int) string {
	return s.state[st].Render(pad(string(st), w))
}
