package ui

import (
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// Component is one screen: it handles its own keys and messages, renders
// into the size it was given, and lists its bindings for help (soft-serve's
// common.Component, trimmed to what dialdeck needs).
type Component interface {
	Init() tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(w, h int)
	// KeyGroups lists the screen's bindings for the help screen and the
	// short help line.
	KeyGroups() []keyGroup
	// Editing is true while a text input (the filter) owns the keyboard.
	Editing() bool
	// Refresh refetches what the screen shows (on engine events and ticks).
	Refresh() tea.Cmd
}

// shared is the program context every screen holds (gh-dash style): the
// engine, theme, keys, clock, and the status line and pending confirmation,
// which screens set directly.
type shared struct {
	eng      Engine
	st       styles
	keys     keyMap
	readonly bool
	now      func() time.Time

	status    string
	statusErr bool
	confirm   *confirmation
}

// confirmation is a yes/no question in the status line; yes runs cmd.
type confirmation struct {
	prompt string
	cmd    tea.Cmd
}

func (s *shared) info(msg string) { s.status, s.statusErr = msg, false }
func (s *shared) fail(msg string) { s.status, s.statusErr = msg, true }
func (s *shared) ask(prompt string, cmd tea.Cmd) {
	s.confirm = &confirmation{prompt: prompt + " (y/n)", cmd: cmd}
}

func ref(id uint64) string { return strconv.FormatUint(id, 10) }

// actionDoneMsg reports a lifecycle action's result.
type actionDoneMsg struct {
	action engine.Action
	id     uint64
	name   string
	err    error
}

var pastTense = map[engine.Action]string{
	engine.ActStart: "started", engine.ActPause: "paused", engine.ActResume: "resumed",
	engine.ActStop: "stopped", engine.ActDelete: "deleted",
}

// act runs a lifecycle action on c as a Cmd. The campaign's cached state is
// checked first so a refused key answers at once with the engine's own
// wording; the engine checks again (the state may have moved meanwhile).
// Stop and delete ask first.
func (s *shared) act(c *engine.Campaign, a engine.Action) tea.Cmd {
	if c == nil {
		s.fail("no campaign selected")
		return nil
	}
	if !engine.Can(c.State, a) {
		s.fail((&engine.RefusalError{Campaign: c.Name, State: c.State, Action: a}).Error())
		return nil
	}
	var fn func(string) error
	switch a {
	case engine.ActStart:
		fn = s.eng.Start
	case engine.ActPause:
		fn = s.eng.Pause
	case engine.ActResume:
		fn = s.eng.Resume
	case engine.ActStop:
		fn = s.eng.Stop
	case engine.ActDelete:
		fn = s.eng.DeleteCampaign
	default:
		s.fail("not built yet: " + string(a))
		return nil
	}
	id, name := c.ID, c.Name
	run := func() tea.Msg { return actionDoneMsg{action: a, id: id, name: name, err: fn(ref(id))} }
	switch a {
	case engine.ActStop:
		s.ask("Stop "+strconv.Quote(name)+" for good (live calls hang up)?", run)
		return nil
	case engine.ActDelete:
		s.ask("Delete "+strconv.Quote(name)+" with its leads and attempts?", run)
		return nil
	}
	s.info(string(a) + " " + strconv.Quote(name) + "…")
	return run
}
