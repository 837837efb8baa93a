package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialdeck/dialdeck/engine"
)

// monitorScreen is the live view of one campaign: header, disposition
// counters, calls-per-minute sparkline, active calls and the lead table.
type monitorScreen struct {
	sh   *shared
	cid  uint64
	c    *engine.Campaign // as opened; replaced by each read
	d    *monitorData
	err  error
	seq  int
	busy bool // a header read is running
	more bool // ...and another one is wanted after it

	leads    leadTable
	calls    callPane
	why      *engine.WhyNot
	whyErr   error
	w, h     int
	callRows int
	leadRows int
}

// leadTable is the window of leads on screen. It never holds more than
// the visible rows: the engine is asked for the next window by lead ID.
type leadTable struct {
	filter filterInput
	rows   []*engine.Lead
	after  uint64   // the window holds leads with ID > after
	hist   []uint64 // the afters of the windows before this one (pgup)
	cursor int
	seq    int
	busy   bool
	more   bool
	loaded bool
	err    error
}

func newMonitorScreen(sh *shared, c *engine.Campaign) *monitorScreen {
	return &monitorScreen{sh: sh, cid: c.ID, c: c, calls: callPane{transcripts: map[callKey][]string{}}}
}

func (s *monitorScreen) Init() tea.Cmd { return tea.Batch(s.Refresh(), s.loadLeads(0, false)) }

func (s *monitorScreen) Editing() bool { return s.leads.filter.editing }

func (s *monitorScreen) SetSize(w, h int) {
	old := s.leadRows
	s.w, s.h = w, h
	// Fixed lines: title, 3 header lines, 2 counter lines, sparkline,
	// calls heading, lead column header.
	left := max(h-9, 2)
	s.callRows = 3
	if h >= 30 {
		s.callRows = 8
	}
	s.callRows = min(s.callRows, left-1)
	s.leadRows = max(left-s.callRows, 1)
	if old != 0 && old != s.leadRows {
		s.leads.cursor = min(s.leads.cursor, s.leadRows-1)
	}
}

// Refresh rereads the header data and the current lead window.
func (s *monitorScreen) Refresh() tea.Cmd {
	var cmds []tea.Cmd
	if s.busy {
		s.more = true
	} else {
		s.busy = true
		s.seq++
		cmds = append(cmds, fetchMonitor(s.sh.eng, s.cid, s.seq))
	}
	if s.leads.busy {
		s.leads.more = true
	} else if s.leads.loaded {
		cmds = append(cmds, s.loadLeads(s.leads.after, false))
	}
	return tea.Batch(cmds...)
}

// loadLeads reads the window after `after`. Navigation always asks anew
// (the newest request wins); atEnd puts the cursor on the last row.
func (s *monitorScreen) loadLeads(after uint64, atEnd bool) tea.Cmd {
	s.leads.busy = true
	s.leads.seq++
	return fetchLeads(s.sh.eng, s.cid, after, s.leadRows, s.leads.filter.value, atEnd, s.leads.seq)
}

func (s *monitorScreen) KeyGroups() []keyGroup {
	k := s.sh.keys
	return []keyGroup{
		{"Campaign", []key.Binding{k.Pause, k.Resume, k.Stop, k.Start, k.Edit, k.Import, k.Back}},
		{"Leads", []key.Binding{k.Up, k.Down, k.PgUp, k.PgDown, k.Top, k.Bottom, k.Filter, k.Why}},
		{"Calls", []key.Binding{k.Focus, k.Open}},
		{"General", []key.Binding{k.Webhooks, k.DNC, k.Command, k.Help, k.Quit, k.ForceQuit}},
	}
}

func (s *monitorScreen) campaign() *engine.Campaign {
	if s.d != nil {
		return s.d.c
	}
	return s.c
}

func (s *monitorScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case monitorLoadedMsg:
		if msg.cid != s.cid || msg.seq != s.seq {
			return nil
		}
		s.busy = false
		s.err = msg.err
		if msg.err == nil {
			s.d = msg.d
			s.calls.seen(msg.d.calls, s.sh.now())
		}
		if s.more {
			s.more = false
			return s.Refresh()
		}
	case leadsLoadedMsg:
		return s.leadsLoaded(msg)
	case whyMsg:
		if msg.cid == s.cid {
			s.why, s.whyErr = msg.w, msg.err
		}
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return nil
}

func (s *monitorScreen) leadsLoaded(msg leadsLoadedMsg) tea.Cmd {
	t := &s.leads
	if msg.cid != s.cid || msg.seq != t.seq {
		return nil
	}
	t.busy = false
	t.err = msg.err
	if msg.err != nil {
		return nil
	}
	// Paged past the end (the last window was exactly full): step back.
	if len(msg.leads) == 0 && msg.after > 0 {
		prev := uint64(0)
		if n := len(t.hist); n > 0 {
			prev, t.hist = t.hist[n-1], t.hist[:n-1]
		}
		return s.loadLeads(prev, true)
	}
	t.loaded = true
	t.rows, t.after = msg.leads, msg.after
	if msg.hist != nil || msg.atEnd && msg.after == 0 {
		t.hist = msg.hist
	}
	if msg.atEnd {
		t.cursor = len(t.rows) - 1
	}
	t.cursor = max(0, min(t.cursor, len(t.rows)-1))
	if t.more {
		t.more = false
		return s.loadLeads(t.after, false)
	}
	return nil
}

func (s *monitorScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	t := &s.leads
	if t.filter.editing {
		if t.filter.key(msg) {
			t.hist, t.cursor = nil, 0
			return s.loadLeads(0, false)
		}
		return nil
	}
	if s.calls.open != nil {
		if key.Matches(msg, k.Back, k.Open) {
			s.calls.close()
			return nil
		}
		if !key.Matches(msg, k.Pause, k.Resume, k.Stop, k.Start, k.Help) {
			s.sh.fail("the call view: esc goes back")
			return nil
		}
	}
	if s.calls.focus && key.Matches(msg, k.Up, k.Down, k.Open) {
		return s.calls.key(s, msg)
	}
	full := len(t.rows) >= s.leadRows
	switch {
	case key.Matches(msg, k.Focus):
		s.calls.focus = !s.calls.focus
	case key.Matches(msg, k.Back):
		switch {
		case s.calls.focus:
			s.calls.focus = false
		case s.why != nil || s.whyErr != nil:
			s.why, s.whyErr = nil, nil
		case t.filter.value != "":
			t.filter.value, t.hist, t.cursor = "", nil, 0
			return s.loadLeads(0, false)
		default:
			return func() tea.Msg { return backMsg{} }
		}
	case key.Matches(msg, k.Down):
		if t.cursor < len(t.rows)-1 {
			t.cursor++
		} else if full && !t.busy {
			t.hist = append(t.hist, t.after)
			t.cursor = 0
			return s.loadLeads(t.rows[len(t.rows)-1].ID, false)
		}
	case key.Matches(msg, k.Up):
		if t.cursor > 0 {
			t.cursor--
		} else if t.after > 0 && !t.busy {
			return s.loadLeads(s.prevAfter(), true)
		}
	case key.Matches(msg, k.PgDown):
		if full && !t.busy {
			t.hist = append(t.hist, t.after)
			return s.loadLeads(t.rows[len(t.rows)-1].ID, false)
		}
		t.cursor = max(len(t.rows)-1, 0)
	case key.Matches(msg, k.PgUp):
		if t.after > 0 && !t.busy {
			return s.loadLeads(s.prevAfter(), false)
		}
		t.cursor = 0
	case key.Matches(msg, k.Top):
		t.hist, t.cursor = nil, 0
		return s.loadLeads(0, false)
	case key.Matches(msg, k.Bottom):
		if t.filter.value != "" {
			t.busy = true
			t.seq++
			return fetchLastLeads(s.sh.eng, s.cid, s.leadRows, t.filter.value, t.seq)
		}
		// Unfiltered, lead IDs run 1..N: the last window starts at N-rows.
		var after uint64
		if s.d != nil && s.d.r.Leads > uint64(s.leadRows) {
			after = s.d.r.Leads - uint64(s.leadRows)
		}
		t.hist = nil
		return s.loadLeads(after, true)
	case key.Matches(msg, k.Filter):
		t.filter.start()
	case key.Matches(msg, k.Why):
		if len(t.rows) == 0 {
			s.sh.fail("no lead selected")
			return nil
		}
		return fetchWhy(s.sh.eng, s.cid, t.rows[t.cursor].ID)
	case key.Matches(msg, k.Open):
		return s.calls.openLead(s)
	case key.Matches(msg, k.Pause):
		return s.sh.act(s.campaign(), engine.ActPause)
	case key.Matches(msg, k.Resume):
		return s.sh.act(s.campaign(), engine.ActResume)
	case key.Matches(msg, k.Stop):
		return s.sh.act(s.campaign(), engine.ActStop)
	case key.Matches(msg, k.Start):
		return s.sh.act(s.campaign(), engine.ActStart)
	case key.Matches(msg, k.Delete):
		s.sh.fail("delete from the campaign list (esc, then d)")
	case key.Matches(msg, k.Edit):
		return s.sh.openForm(s.campaign())
	case key.Matches(msg, k.New):
		return s.sh.openForm(nil)
	case key.Matches(msg, k.Import):
		return s.sh.openImport(s.campaign())
	default:
		s.sh.fail(fmt.Sprintf("key %q does nothing here (? shows the keys)", msg.String()))
	}
	return nil
}

// prevAfter is where the window before this one starts. Without history
// (after G) and without a filter, lead IDs are dense, so it is computed.
func (s *monitorScreen) prevAfter() uint64 {
	t := &s.leads
	if n := len(t.hist); n > 0 {
		prev := t.hist[n-1]
		t.hist = t.hist[:n-1]
		return prev
	}
	if t.filter.value == "" && t.after > uint64(s.leadRows) {
		return t.after - uint64(s.leadRows)
	}
	return 0
}

func (s *monitorScreen) View() string {
	st := s.sh.st
	now := s.sh.now()
	c := s.campaign()
	title := st.title.Render("dialdeck") + " › " + c.Name + " · " + st.state[c.State].Render(string(c.State))
	if s.sh.readonly {
		title += "  [read-only]"
	}
	lines := []string{title}
	if s.d == nil {
		if s.err != nil {
			lines = append(lines, st.err.Render("cannot read campaign: "+s.err.Error()))
		} else {
			lines = append(lines, st.dim.Render("loading…"))
		}
		return fit(lines, s.w, s.h)
	}
	d := s.d
	lines = append(lines, s.headerLines(d, now)...)
	lines = append(lines, s.counterLines(d)...)
	lines = append(lines, fmt.Sprintf("calls/min, last 30m %s  now %d",
		sparkline(d.cpm), lastOr0(d.cpm)))
	if s.calls.open != nil {
		lines = append(lines, s.calls.detailLines(s, now, s.h-len(lines))...)
		return fit(lines, s.w, s.h)
	}
	if s.why != nil || s.whyErr != nil {
		lines = append(lines, s.whyLines(now)...)
	} else {
		lines = append(lines, s.callLines(d, now)...)
	}
	lines = append(lines, s.leadLines(d, now)...)
	return fit(lines, s.w, s.h)
}

func lastOr0(v []int) int {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

func (s *monitorScreen) headerLines(d *monitorData, now time.Time) []string {
	r := d.r
	win := "window open (always)"
	switch {
	case r.WindowChangeAt != nil && r.WindowOpen:
		win = fmt.Sprintf("window OPEN, closes in %s (%s)", dur(r.WindowChangeAt.Sub(now)), clockAt(*r.WindowChangeAt, now, d.loc))
	case r.WindowChangeAt != nil:
		win = fmt.Sprintf("window CLOSED, opens in %s (%s)", dur(r.WindowChangeAt.Sub(now)), clockAt(*r.WindowChangeAt, now, d.loc))
	case !r.WindowOpen:
		win = "window closed (never opens)"
	}
	tick := "next tick: engine not running"
	if !d.nextTick.IsZero() {
		tick = "next tick in " + dur(d.nextTick.Sub(now))
	}
	pct := 0
	if r.Leads > 0 {
		pct = int(100 * r.Terminal / r.Leads)
	}
	nums := fmt.Sprintf(" %d/%d done %d%%", r.Terminal, r.Leads, pct)
	barW := min(max(s.w-ansi.StringWidth(nums)-48, 10), 40)
	return []string{
		r.Schedule + " · " + win,
		fmt.Sprintf("%s · calls %d/%d · org capacity %d/%d used · %d attempts", tick, r.Active, r.MaxConcurrent, d.orgUsed, d.orgMax, r.Attempts),
		s.sh.st.barFull.Render(bar(r.Terminal, r.Leads, barW)) + nums + fmt.Sprintf(" · pending %d dialing %d retry %d",
			r.ByStatus[engine.LeadPending], r.ByStatus[engine.LeadDialing], r.ByStatus[engine.LeadRetry]),
	}
}

// counterLines shows every disposition, flowed over two lines (one more
// only if a count grows very large).
func (s *monitorScreen) counterLines(d *monitorData) []string {
	lines := []string{""}
	for _, disp := range engine.Dispositions {
		cell := fmt.Sprintf("%s %d", disp, d.r.ByDisposition[disp])
		last := &lines[len(lines)-1]
		switch {
		case *last == "":
			*last = cell
		case ansi.StringWidth(*last)+3+len(cell) <= s.w:
			*last += " · " + cell
		default:
			lines = append(lines, cell)
		}
	}
	for len(lines) < 2 {
		lines = append(lines, "")
	}
	return lines
}

func (s *monitorScreen) callLines(d *monitorData, now time.Time) []string {
	st := s.sh.st
	head := fmt.Sprintf("ACTIVE CALLS (%d)", len(d.calls))
	if s.calls.focus {
		head += " · enter opens a call"
	}
	if len(d.calls) > s.callRows {
		head += fmt.Sprintf(", %d more not shown", len(d.calls)-s.callRows)
	}
	lines := []string{st.heading.Render(head)}
	if len(d.calls) == 0 {
		lines = append(lines, st.dim.Render("no live calls"))
	}
	for i, c := range d.calls {
		if i >= s.callRows {
			break
		}
		// Before anyone speaks, the carrier's progress (a SIP trunk's
		// "180 Ringing", "486 Busy Here") is the most useful thing to show.
		last := oneLine(c.Progress.LastLine)
		if last == "" {
			last = oneLine(c.Progress.Detail)
		}
		line := pad(engine.MaskPhone(c.Phone), 16) + " " + pad(c.Name, 12) + " " + pad(c.Progress.State, 9) + " " +
			padLeft(dur(now.Sub(c.ClaimedAt)), 6) + "  " + last
		if s.calls.focus && i == s.calls.cursor {
			line = st.selected.Render(pad(line, s.w))
		}
		lines = append(lines, line)
	}
	for len(lines) < s.callRows+1 {
		lines = append(lines, "")
	}
	return lines
}

func (s *monitorScreen) whyLines(now time.Time) []string {
	st := s.sh.st
	if s.whyErr != nil {
		return append([]string{st.heading.Render("WHY NOT DIALED") + "  (esc closes)"}, st.err.Render(s.whyErr.Error()))
	}
	w := s.why
	head := fmt.Sprintf("WHY — lead #%d %s: %s, %d/%d attempts, gate %s", w.LeadID, engine.MaskPhone(w.Phone), w.Status, w.Attempts, w.MaxAttempts, w.Gate)
	if w.Until != nil {
		head += " until " + clockAt(*w.Until, now, time.Local)
	}
	lines := []string{st.heading.Render(head) + st.dim.Render("  (esc closes)")}
	text := w.Message
	if w.LastCall != nil {
		text += "\nlast call: " + w.LastCall.String()
	}
	for _, l := range strings.Split(ansi.Wordwrap(text, s.w, ""), "\n") {
		if len(lines) > s.callRows {
			break
		}
		lines = append(lines, l)
	}
	for len(lines) < s.callRows+1 {
		lines = append(lines, "")
	}
	return lines
}

// Lead table column widths; variables share what is left.
const (
	lcID    = 7
	lcPhone = 15
	lcStat  = 8
	lcDisp  = 14
	lcAtt   = 3
	lcNext  = 10
)

func (s *monitorScreen) leadLines(d *monitorData, now time.Time) []string {
	st := s.sh.st
	t := &s.leads
	var vars []int
	for i := range d.c.Columns {
		if i != d.c.PhoneColumn {
			vars = append(vars, i)
		}
	}
	fixed := lcID + lcPhone + lcStat + lcDisp + lcAtt + lcNext + 6
	varW := 12
	nVars := min(len(vars), max((s.w-fixed)/(varW+1), 0))
	head := pad("LEAD", lcID) + " " + pad("PHONE", lcPhone) + " " + pad("STATUS", lcStat) + " " + pad("DISPOSITION", lcDisp) + " " +
		padLeft("ATT", lcAtt) + " " + pad("NEXT", lcNext)
	for _, v := range vars[:nVars] {
		head += " " + pad(strings.ToUpper(d.c.Columns[v]), varW)
	}
	if t.filter.value != "" || t.filter.editing {
		head = pad(head, s.w-ansi.StringWidth(t.filter.view())-1) + " " + t.filter.view()
	}
	lines := []string{st.heading.Render(head)}
	switch {
	case t.err != nil:
		lines = append(lines, st.err.Render("cannot read leads: "+t.err.Error()))
	case !t.loaded:
		lines = append(lines, st.dim.Render("loading…"))
	case len(t.rows) == 0 && t.filter.value != "":
		lines = append(lines, st.dim.Render("no lead matches the filter (esc clears it)"))
	case len(t.rows) == 0:
		lines = append(lines, st.dim.Render("no leads yet: press i to import a CSV"))
	}
	for i, l := range t.rows {
		next := "-"
		// An ended campaign dials nothing again: a stale due time would
		// suggest otherwise.
		ended := d.c.State == engine.StateCompleted || d.c.State == engine.StateFailed
		if !l.NextAt.IsZero() && !ended {
			if l.NextAt.After(now) {
				next = "in " + dur(l.NextAt.Sub(now))
			} else {
				next = "due"
			}
		}
		line := pad(fmt.Sprintf("#%d", l.ID), lcID) + " " + pad(engine.MaskPhone(l.Phone), lcPhone) + " " + pad(string(l.Status), lcStat) + " " +
			pad(string(l.Disposition), lcDisp) + " " + padLeft(fmt.Sprint(l.Attempts), lcAtt) + " " + pad(next, lcNext)
		for _, v := range vars[:nVars] {
			val := ""
			if v < len(l.Values) {
				val = l.Values[v]
			}
			line += " " + pad(oneLine(val), varW)
		}
		if i == t.cursor {
			line = st.selected.Render(pad(line, s.w))
		}
		lines = append(lines, line)
	}
	return lines
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
