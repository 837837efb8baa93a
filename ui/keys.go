package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// keyMap holds every binding of the UI. Help (short and full) is generated
// from these bindings, so what the help says is what the keys do; a disabled
// binding neither matches nor shows in help.
type keyMap struct {
	Up, Down, PgUp, PgDown, Top, Bottom, Open, Back key.Binding
	Filter, Help, Quit, ForceQuit                   key.Binding

	// Actions change something; --readonly disables all of them.
	Start, Pause, Resume, Stop, Delete, New, Edit, Import, Add, Remove key.Binding
	// Webhook outbox actions: replay the selected event, replay every dead
	// one, send a test event.
	Replay, ReplayAll, TestHook key.Binding

	// Screens: the command line and the do-not-call list.
	Command, DNC, Webhooks key.Binding

	Why   key.Binding
	Focus key.Binding
	// Forms and inputs.
	NextField, PrevField, Cancel, Complete key.Binding

	Yes key.Binding
	No  key.Binding
}

func newKeyMap(readonly bool) keyMap {
	k := keyMap{
		Up:        key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PgUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PgDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:       key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:    key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c ×2", "force quit")),

		Start:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
		Pause:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Resume: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resume")),
		Stop:   key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "stop")),
		Delete: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		New:    key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new")),
		Edit:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		Import: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import")),
		Add:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
		Remove: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "remove")),

		Replay:    key.NewBinding(key.WithKeys("r", "enter"), key.WithHelp("r/enter", "replay event")),
		ReplayAll: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "replay all dead")),
		TestHook:  key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "send test event")),

		Command: key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		DNC:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "DNC list")),

		Webhooks: key.NewBinding(key.WithKeys("W"), key.WithHelp("W", "webhooks")),

		Why:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "why not dialed")),
		Focus:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "calls ⇄ leads")),
		NextField: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next / go")),
		Complete:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete path")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),

		Yes: key.NewBinding(key.WithKeys("y", "Y", "enter"), key.WithHelp("y", "yes")),
		No:  key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
	}
	if readonly {
		for _, b := range k.actions() {
			b.SetEnabled(false)
		}
	}
	return k
}

// actions are the bindings that change state.
func (k *keyMap) actions() []*key.Binding {
	return []*key.Binding{&k.Start, &k.Pause, &k.Resume, &k.Stop, &k.Delete, &k.New, &k.Edit, &k.Import, &k.Add, &k.Remove,
		&k.Replay, &k.ReplayAll, &k.TestHook}
}

// isAction tells whether msg is an action key even when the binding is
// disabled, so a read-only session can say why nothing happened instead of
// ignoring the key silently. enter also opens things, so it is never an
// action by itself (the webhook screen refuses it there).
func (k *keyMap) isAction(msg tea.KeyPressMsg) bool {
	if key.Matches(msg, k.Open) {
		return false
	}
	for _, b := range k.actions() {
		for _, s := range b.Keys() {
			if s == msg.String() {
				return true
			}
		}
	}
	return false
}

// keyGroup is a titled set of bindings for the help screen.
type keyGroup struct {
	title    string
	bindings []key.Binding
}

// enabled drops disabled bindings (read-only actions) from help.
func enabled(bs ...key.Binding) []key.Binding {
	var out []key.Binding
	for _, b := range bs {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return out
}

// helpLine renders bindings as one "key desc · key desc" line.
func helpLine(bs []key.Binding) string {
	parts := make([]string, 0, len(bs))
	for _, b := range bs {
		h := b.Help()
		parts = append(parts, h.Key+" "+h.Desc)
	}
	return strings.Join(parts, " · ")
}

// helpView renders the groups side by side (so help fits 80x24),
// generated from the bindings.
func helpView(st styles, groups []keyGroup, w int) []string {
	var cols [][]string
	for _, g := range groups {
		bs := enabled(g.bindings...)
		if len(bs) == 0 {
			continue
		}
		col := []string{st.heading.Render(g.title)}
		for _, b := range bs {
			h := b.Help()
			col = append(col, pad(h.Key, 11)+" "+h.Desc)
		}
		cols = append(cols, col)
	}
	if len(cols) == 0 {
		return nil
	}
	cw := w / len(cols)
	var lines []string
	for i := 0; ; i++ {
		var b strings.Builder
		any := false
		for _, col := range cols {
			cell := ""
			if i < len(col) {
				cell, any = col[i], true
			}
			b.WriteString(pad("  "+cell, cw))
		}
		if !any {
			return lines
		}
		lines = append(lines, b.String())
	}
}
