package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialdeck/dialdeck/engine"
)

// campaignsScreen is the campaign list: one row per campaign with its
// state, window, progress, calls and qualified count.
type campaignsScreen struct {
	sh      *shared
	rows    []campaignRow // every campaign, as last read
	shown   []int         // indexes into rows passing the filter
	cursor  int           // index into shown
	offset  int           // first shown row on screen
	filter  filterInput
	loaded  bool
	err     error
	seq     int
	loading bool
	dirty   bool // an event came while a read was running: read again after
	w, h    int
}

func newCampaignsScreen(sh *shared) *campaignsScreen { return &campaignsScreen{sh: sh} }

func (s *campaignsScreen) Init() tea.Cmd { return s.Refresh() }

func (s *campaignsScreen) SetSize(w, h int) { s.w, s.h = w, h; s.scroll() }

func (s *campaignsScreen) Editing() bool { return s.filter.editing }

// Refresh starts a read unless one is running; then it marks the list
// dirty so one more read follows (events never pile up reads).
func (s *campaignsScreen) Refresh() tea.Cmd {
	if s.loading {
		s.dirty = true
		return nil
	}
	s.loading = true
	s.seq++
	return fetchCampaigns(s.sh.eng, s.seq)
}

func (s *campaignsScreen) KeyGroups() []keyGroup {
	k := s.sh.keys
	return []keyGroup{
		{"Campaign", []key.Binding{k.Open, k.Start, k.Pause, k.Resume, k.Stop, k.Delete, k.New, k.Edit, k.Import}},
		{"Navigate", []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.Filter}},
		{"General", []key.Binding{k.Webhooks, k.DNC, k.Command, k.Help, k.Quit, k.ForceQuit}},
	}
}

func (s *campaignsScreen) selected() *engine.Campaign {
	if s.cursor < 0 || s.cursor >= len(s.shown) {
		return nil
	}
	return s.rows[s.shown[s.cursor]].c
}

func (s *campaignsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case campaignsLoadedMsg:
		if msg.seq != s.seq {
			return nil // an older read: a newer one is on its way
		}
		s.loading = false
		s.loaded = true
		s.err = msg.err
		if msg.err == nil {
			s.setRows(msg.rows)
		}
		if s.dirty {
			s.dirty = false
			return s.Refresh()
		}
		return nil
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return nil
}

func (s *campaignsScreen) setRows(rows []campaignRow) {
	var keep uint64
	if c := s.selected(); c != nil {
		keep = c.ID
	}
	s.rows = rows
	s.applyFilter()
	for i, ix := range s.shown {
		if s.rows[ix].c.ID == keep {
			s.cursor = i
		}
	}
	s.scroll()
}

func (s *campaignsScreen) applyFilter() {
	q := strings.ToLower(s.filter.value)
	s.shown = s.shown[:0]
	for i, r := range s.rows {
		if q == "" || strings.Contains(strings.ToLower(r.c.Name), q) || string(r.c.State) == q {
			s.shown = append(s.shown, i)
		}
	}
	s.cursor = min(max(s.cursor, 0), max(len(s.shown)-1, 0))
	s.scroll()
}

// visible is how many campaign rows fit under the title and column header.
func (s *campaignsScreen) visible() int { return max(s.h-3, 1) }

func (s *campaignsScreen) scroll() {
	s.offset = scrollOffset(s.cursor, s.offset, len(s.shown), s.visible())
}

// moveCursor applies a movement key (up, down, page up/down, top, bottom)
// to a cursor over rows rows with page of them visible; ok is false for any
// other key.
func moveCursor(k *keyMap, msg tea.KeyPressMsg, cursor, page, rows int) (c int, ok bool) {
	switch {
	case key.Matches(msg, k.Up):
		c = cursor - 1
	case key.Matches(msg, k.Down):
		c = cursor + 1
	case key.Matches(msg, k.PgUp):
		c = cursor - page
	case key.Matches(msg, k.PgDown):
		c = cursor + page
	case key.Matches(msg, k.Top):
		c = 0
	case key.Matches(msg, k.Bottom):
		c = rows - 1
	default:
		return cursor, false
	}
	return max(0, min(c, rows-1)), true
}

// scrollOffset is the first row to show so that the cursor row is in view
// with as little movement as possible, for a list of rows with n visible.
func scrollOffset(cursor, offset, rows, n int) int {
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+n {
		offset = cursor - n + 1
	}
	return max(0, min(offset, max(rows-n, 0)))
}

func (s *campaignsScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	if s.filter.editing {
		if s.filter.key(msg) {
			s.applyFilter()
		}
		return nil
	}
	if c, ok := moveCursor(k, msg, s.cursor, s.visible(), len(s.shown)); ok {
		s.cursor = c
		s.scroll()
		return nil
	}
	c := s.selected()
	switch {
	case key.Matches(msg, k.Filter):
		s.filter.start()
	case key.Matches(msg, k.Back):
		if s.filter.value != "" {
			s.filter.value = ""
			s.applyFilter()
		}
	case key.Matches(msg, k.Open):
		if c == nil {
			s.sh.fail("no campaign selected")
			return nil
		}
		return func() tea.Msg { return openMonitorMsg{c: c} }
	case key.Matches(msg, k.Start):
		return s.sh.act(c, engine.ActStart)
	case key.Matches(msg, k.Pause):
		return s.sh.act(c, engine.ActPause)
	case key.Matches(msg, k.Resume):
		return s.sh.act(c, engine.ActResume)
	case key.Matches(msg, k.Stop):
		return s.sh.act(c, engine.ActStop)
	case key.Matches(msg, k.Delete):
		return s.sh.act(c, engine.ActDelete)
	case key.Matches(msg, k.New):
		return s.sh.openForm(nil)
	case key.Matches(msg, k.Edit):
		if c == nil {
			s.sh.fail("no campaign selected")
			return nil
		}
		return s.sh.openForm(c)
	case key.Matches(msg, k.Import):
		return s.sh.openImport(c)
	default:
		s.sh.fail(fmt.Sprintf("key %q does nothing here (? shows the keys)", msg.String()))
	}
	s.scroll()
	return nil
}

// Column widths; the name column takes what is left.
const (
	colState  = 9
	colWindow = 22
	colProg   = 14
	colCalls  = 5
	colQual   = 5
)

func (s *campaignsScreen) View() string {
	st := s.sh.st
	now := s.sh.now()
	title := st.title.Render("dialdeck") + " · campaigns"
	if n := len(s.rows); n > 0 {
		title += fmt.Sprintf(" (%d)", n)
	}
	if s.filter.value != "" || s.filter.editing {
		title += "  " + s.filter.view()
	}
	if s.sh.readonly {
		title += "  [read-only]"
	}
	lines := []string{title}
	nameW := s.w - colState - colWindow - colProg - colCalls - colQual - 5
	lines = append(lines, st.heading.Render(pad("NAME", nameW)+" "+pad("STATE", colState)+" "+pad("WINDOW", colWindow)+" "+
		pad("PROGRESS", colProg)+" "+padLeft("CALLS", colCalls)+" "+padLeft("QUAL", colQual)))
	switch {
	case !s.loaded:
		lines = append(lines, st.dim.Render("loading…"))
	case s.err != nil:
		lines = append(lines, st.err.Render("cannot read campaigns: "+s.err.Error()))
	case len(s.rows) == 0:
		lines = append(lines, "No campaigns yet. Press n to create one (or add a [[campaigns]] table to the config).")
	case len(s.shown) == 0:
		lines = append(lines, st.dim.Render("no campaign matches the filter (esc clears it)"))
	}
	end := min(s.offset+s.visible(), len(s.shown))
	for i := s.offset; i < end; i++ {
		r := s.rows[s.shown[i]]
		line := pad(r.c.Name, nameW) + " " + st.stateWord(r.c.State, colState) + " " +
			pad(windowCell(r, now), colWindow) + " " + pad(progressCell(r.r), colProg) + " " +
			padLeft(fmt.Sprintf("%d/%d", r.r.Active, r.r.MaxConcurrent), colCalls) + " " +
			padLeft(fmt.Sprint(r.r.ByDisposition[engine.DispQualified]), colQual)
		if i == s.cursor {
			line = st.selected.Render(pad(ansi.Strip(line), s.w))
		}
		lines = append(lines, line)
	}
	return fit(lines, s.w, s.h)
}

// windowCell says whether the window is open and until when, in the
// campaign's zone.
func windowCell(r campaignRow, now time.Time) string {
	if r.r.WindowChangeAt == nil {
		if r.r.WindowOpen {
			return "open (always)"
		}
		return "closed (never opens)"
	}
	at := clockAt(*r.r.WindowChangeAt, now, r.loc)
	if r.r.WindowOpen {
		return "open until " + at
	}
	return "closed until " + at
}

// progressCell is a bar and terminal/total leads.
func progressCell(r *engine.Report) string {
	nums := fmt.Sprintf("%d/%d", r.Terminal, r.Leads)
	return bar(r.Terminal, r.Leads, max(colProg-len(nums)-1, 3)) + " " + nums
}

// find resolves a campaign by name from the list as last read: the exact
// name, else the only one that matches case-insensitively or by prefix.
func (s *campaignsScreen) find(name string) (*engine.Campaign, error) {
	low := strings.ToLower(name)
	var ci, prefix []*engine.Campaign
	for _, r := range s.rows {
		switch n := strings.ToLower(r.c.Name); {
		case r.c.Name == name || ref(r.c.ID) == name:
			return r.c, nil
		case n == low:
			ci = append(ci, r.c)
		case strings.HasPrefix(n, low):
			prefix = append(prefix, r.c)
		}
	}
	for _, set := range [][]*engine.Campaign{ci, prefix} {
		switch len(set) {
		case 0:
		case 1:
			return set[0], nil
		default:
			var names []string
			for _, c := range set {
				names = append(names, strconv.Quote(c.Name))
			}
			return nil, fmt.Errorf("%q matches %s: type more of the name", name, strings.Join(names, ", "))
		}
	}
	return nil, fmt.Errorf("no campaign named %q", name)
}
