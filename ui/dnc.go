package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// dncScreen is the do-not-call list: filter, add, remove (confirm) and
// import a file. Numbers typed without +country take a region word typed
// with them ("020 7946 0018 GB").
type dncScreen struct {
	sh      *shared
	rows    []engine.DNCEntry
	total   int
	cursor  int
	offset  int
	filter  filterInput
	input   lineInput
	mode    dncMode
	compSeq int
	loaded  bool
	err     error
	seq     int
	w, h    int
}

type dncMode int

const (
	dncList dncMode = iota
	dncAdding
	dncImporting
)

// dncLimit bounds the entries read for the list.
const dncLimit = 1000

type dncLoadedMsg struct {
	seq   int
	rows  []engine.DNCEntry
	total int
	err   error
}

// dncDoneMsg reports an add, remove or import.
type dncDoneMsg struct {
	what string
	err  error
}

func newDNCScreen(sh *shared) *dncScreen { return &dncScreen{sh: sh} }

func (s *dncScreen) Init() tea.Cmd    { return s.Refresh() }
func (s *dncScreen) SetSize(w, h int) { s.w, s.h = w, h; s.scroll() }
func (s *dncScreen) Editing() bool    { return s.filter.editing || s.mode != dncList }

func (s *dncScreen) Refresh() tea.Cmd {
	s.seq++
	seq, eng, f := s.seq, s.sh.eng, strings.TrimSpace(s.filter.value)
	return func() tea.Msg {
		rows, total, err := eng.DNCList(f, dncLimit)
		return dncLoadedMsg{seq: seq, rows: rows, total: total, err: err}
	}
}

func (s *dncScreen) KeyGroups() []keyGroup {
	k := s.sh.keys
	return []keyGroup{
		{"Do not call", []key.Binding{k.Add, k.Remove, k.Import, k.Filter, k.Back}},
		{"Navigate", []key.Binding{k.Up, k.Down, k.PgUp, k.PgDown, k.Top, k.Bottom}},
		{"General", []key.Binding{k.Command, k.Help, k.Quit, k.ForceQuit}},
	}
}

func (s *dncScreen) visible() int { return max(s.h-3, 1) }

func (s *dncScreen) scroll() {
	s.cursor = max(0, min(s.cursor, len(s.rows)-1))
	s.offset = scrollOffset(s.cursor, s.offset, len(s.rows), s.visible())
}

func (s *dncScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dncLoadedMsg:
		if msg.seq != s.seq {
			return nil
		}
		s.loaded, s.err = true, msg.err
		if msg.err == nil {
			s.rows, s.total = msg.rows, msg.total
		}
		s.scroll()
	case dncDoneMsg:
		if msg.err != nil {
			s.sh.fail(msg.err.Error())
		} else {
			s.sh.info(msg.what)
		}
		return s.Refresh()
	case completeMsg:
		if msg.seq == s.compSeq && s.mode == dncImporting {
			if msg.err != nil {
				s.sh.fail(msg.err.Error())
			} else {
				s.input.value = msg.value
				if len(msg.choices) > 0 {
					s.sh.info(strings.Join(msg.choices, "  "))
				}
			}
		}
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return nil
}

func (s *dncScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	if s.filter.editing {
		if s.filter.key(msg) {
			s.cursor = 0
			return s.Refresh()
		}
		return nil
	}
	if s.mode != dncList {
		return s.inputKey(msg)
	}
	if c, ok := moveCursor(k, msg, s.cursor, s.visible(), len(s.rows)); ok {
		s.cursor = c
		s.scroll()
		return nil
	}
	switch {
	case key.Matches(msg, k.Back):
		if s.filter.value != "" {
			s.filter.value, s.cursor = "", 0
			return s.Refresh()
		}
		return func() tea.Msg { return closeMsg{} }
	case key.Matches(msg, k.Filter):
		s.filter.start()
	case key.Matches(msg, k.Add):
		s.mode, s.input.value = dncAdding, ""
	case key.Matches(msg, k.Import):
		s.mode, s.input.value = dncImporting, ""
	case key.Matches(msg, k.Remove):
		if len(s.rows) == 0 {
			s.sh.fail("no number selected")
			return nil
		}
		phone, eng := s.rows[s.cursor].Phone, s.sh.eng
		s.sh.ask("Remove "+phone+" from the do-not-call list (it may be dialed again)?", func() tea.Msg {
			removed, err := eng.DNCRemove([]string{phone}, "")
			if err == nil && len(removed) == 0 {
				err = fmt.Errorf("%s was not on the list", phone)
			}
			return dncDoneMsg{what: "removed " + phone + " from the do-not-call list", err: err}
		})
	default:
		s.sh.fail(fmt.Sprintf("key %q does nothing here (? shows the keys)", msg.String()))
	}
	s.scroll()
	return nil
}

// inputKey edits the add or import line: enter runs it, esc cancels.
func (s *dncScreen) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	switch {
	case key.Matches(msg, k.Cancel):
		s.mode = dncList
		s.sh.info("cancelled")
	case s.mode == dncImporting && key.Matches(msg, k.Complete):
		s.compSeq++
		return completePath(s.input.value, s.compSeq)
	case key.Matches(msg, k.NextField):
		v := strings.TrimSpace(s.input.value)
		if v == "" {
			s.sh.fail("type a number, or esc")
			return nil
		}
		mode, eng := s.mode, s.sh.eng
		s.mode = dncList
		if mode == dncAdding {
			nums, region := splitNumbers(v)
			return func() tea.Msg {
				added, err := eng.DNCAdd(nums, region, "tui")
				return dncDoneMsg{what: fmt.Sprintf("added %d numbers to the do-not-call list", len(added)), err: err}
			}
		}
		path, region := splitPathRegion(v)
		s.sh.info("importing " + filepath.Base(path) + "…")
		return func() tea.Msg {
			f, err := os.Open(path)
			if err != nil {
				return dncDoneMsg{err: err}
			}
			defer f.Close()
			sum, err := eng.DNCImport(f, region, "import:"+path)
			if err != nil {
				return dncDoneMsg{err: err}
			}
			what := fmt.Sprintf("imported %s: %d added, %d invalid", filepath.Base(path), sum.Added, sum.Invalid)
			if len(sum.Errors) > 0 {
				what += fmt.Sprintf(" (first: line %d %s)", sum.Errors[0].Line, sum.Errors[0].Reason)
			}
			return dncDoneMsg{what: what}
		}
	default:
		s.input.key(msg)
	}
	return nil
}

// splitNumbers takes the numbers typed (comma or space separated, a
// number may hold spaces) and a trailing two-letter region.
func splitNumbers(v string) (nums []string, region string) {
	words := strings.Fields(strings.ReplaceAll(v, ",", " , "))
	if n := len(words); n > 1 && isRegionWord(words[n-1]) {
		region, words = strings.ToUpper(words[n-1]), words[:n-1]
	}
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			nums = append(nums, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, w := range words {
		if w == "," || strings.HasPrefix(w, "+") {
			flush()
		}
		if w != "," {
			cur = append(cur, w)
		}
	}
	flush()
	return nums, region
}

func splitPathRegion(v string) (path, region string) {
	if i := strings.LastIndexByte(v, ' '); i > 0 && isRegionWord(v[i+1:]) {
		return strings.TrimSpace(v[:i]), strings.ToUpper(v[i+1:])
	}
	return v, ""
}

func isRegionWord(w string) bool {
	if len(w) != 2 {
		return false
	}
	for _, r := range w {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

func (s *dncScreen) View() string {
	st := s.sh.st
	title := st.title.Render("dialdeck") + " · do not call"
	if s.loaded {
		title += fmt.Sprintf(" (%d)", s.total)
	}
	if s.filter.value != "" || s.filter.editing {
		title += "  " + s.filter.view()
	}
	lines := []string{title}
	switch s.mode {
	case dncAdding:
		lines = append(lines, st.heading.Render("add › ")+s.input.value+"▏"+st.dim.Render("  numbers with +country, or add a region (… GB) · enter adds · esc"))
	case dncImporting:
		lines = append(lines, st.heading.Render("import file › ")+s.input.value+"▏"+st.dim.Render("  one number a line · tab completes · enter imports"))
	default:
		lines = append(lines, st.heading.Render(pad("PHONE", 18)+" "+pad("ADDED", 17)+" SOURCE"))
	}
	switch {
	case !s.loaded:
		lines = append(lines, st.dim.Render("loading…"))
	case s.err != nil:
		lines = append(lines, st.err.Render("cannot read the list: "+s.err.Error()))
	case len(s.rows) == 0 && s.filter.value != "":
		lines = append(lines, st.dim.Render("no number matches the filter (esc clears it)"))
	case len(s.rows) == 0:
		lines = append(lines, st.dim.Render("the list is empty: a to add numbers, i to import a file"))
	}
	end := min(s.offset+s.visible(), len(s.rows))
	for i := s.offset; i < end; i++ {
		e := s.rows[i]
		line := pad(e.Phone, 18) + " " + pad(e.AddedAt.UTC().Format("2006-01-02 15:04"), 17) + " " + oneLine(e.Source)
		if i == s.cursor {
			line = st.selected.Render(pad(line, s.w))
		}
		lines = append(lines, line)
	}
	if len(s.rows) < s.total && s.filter.value == "" {
		lines = append(lines, st.dim.Render(fmt.Sprintf("showing the first %d of %d: / filters", len(s.rows), s.total)))
	}
	return fit(lines, s.w, s.h)
}
