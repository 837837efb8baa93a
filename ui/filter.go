package ui

import tea "charm.land/bubbletea/v2"

// filterInput is the one-line "/" filter: it owns the keyboard while
// editing; enter keeps the text, esc clears it.
type filterInput struct {
	value   string
	editing bool
	before  string // value when editing started
}

func (f *filterInput) start() { f.editing, f.before = true, f.value }

// key edits the filter; it reports whether the value changed (the list
// filters as you type).
func (f *filterInput) key(msg tea.KeyPressMsg) bool {
	old := f.value
	switch msg.String() {
	case "enter":
		f.editing = false
	case "esc":
		f.editing, f.value = false, ""
	case "backspace":
		if r := []rune(f.value); len(r) > 0 {
			f.value = string(r[:len(r)-1])
		}
	case "ctrl+u":
		f.value = ""
	default:
		if msg.Text != "" {
			f.value += msg.Text
		}
	}
	return f.value != old
}

func (f *filterInput) view() string {
	if f.editing {
		return "/" + f.value + "▏"
	}
	return "filter: " + f.value
}
