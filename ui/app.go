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

// MinWidth and MinHeight are the smallest terminal the layout fits.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Options configure the UI.
type Options struct {
	// ReadOnly disables every action key (and hides it from help).
	ReadOnly bool
	// Mono renders without colour (see NoColor).
	Mono bool
	// Now is the clock for countdowns and durations; nil: the engine's clock.
	Now func() time.Time
	// Refresh is how often the screen refetches without engine events (for
	// countdowns and call durations); 0: every second, <0: never (tests).
	Refresh time.Duration
}

// Model is the root model: it owns the screens, the status line, the
// confirmation prompt, help and quitting.
type Model struct {
	sh        *shared
	campaigns *campaignsScreen
	monitor   *monitorScreen // nil unless a campaign is open
	top       Component      // a screen over the others (form, import, DNC), or nil
	showHelp  bool
	width     int
	height    int
	refresh   time.Duration
	ctrlC     bool
	quitting  bool
	cmdline   *lineInput // the ":" command line while it is open
}

// New builds the root model over eng.
func New(eng Engine, o Options) *Model {
	sh := &shared{eng: eng, st: newStyles(o.Mono), keys: newKeyMap(o.ReadOnly), readonly: o.ReadOnly, now: o.Now}
	if sh.now == nil {
		sh.now = eng.Now
	}
	m := &Model{sh: sh, refresh: o.Refresh, width: MinWidth, height: MinHeight}
	if m.refresh == 0 {
		m.refresh = time.Second
	}
	m.campaigns = newCampaignsScreen(sh)
	m.layout()
	return m
}

// Quitting reports whether the user asked to quit (as opposed to the
// program being killed).
func (m *Model) Quitting() bool { return m.quitting }

type tickMsg time.Time

// openMonitorMsg opens the live monitor of a campaign; backMsg closes it.
type openMonitorMsg struct{ c *engine.Campaign }
type backMsg struct{}

// openMsg puts a screen on top (form, import, DNC); closeMsg takes it off.
type openMsg struct{ scr Component }
type closeMsg struct{}

func (m *Model) tick() tea.Cmd {
	if m.refresh < 0 {
		return nil
	}
	return tea.Tick(m.refresh, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *Model) Init() tea.Cmd { return tea.Batch(m.campaigns.Init(), m.tick()) }

func (m *Model) active() Component {
	if m.top != nil {
		return m.top
	}
	if m.monitor != nil {
		return m.monitor
	}
	return m.campaigns
}

// body is the height left to a screen: the status and help lines are ours.
func (m *Model) layout() {
	m.campaigns.SetSize(m.width, m.height-2)
	if m.monitor != nil {
		m.monitor.SetSize(m.width, m.height-2)
	}
	if m.top != nil {
		m.top.SetSize(m.width, m.height-2)
	}
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tickMsg:
		return m, tea.Batch(m.active().Refresh(), m.tick())
	case EventsMsg:
		for _, e := range msg.Events {
			switch e.Kind {
			case engine.EventError:
				m.sh.fail("engine: " + e.Message)
			case engine.EventLog:
				if e.Message != "" {
					m.sh.info(e.Message)
				}
			}
		}
		// Only the visible screen refetches; the list refreshes when shown.
		return m, m.active().Refresh()
	case actionDoneMsg:
		if msg.err != nil {
			m.sh.fail(msg.err.Error())
		} else {
			m.sh.info(fmt.Sprintf("%s %q", pastTense[msg.action], msg.name))
		}
		if msg.err == nil && msg.action == engine.ActDelete && m.monitor != nil && m.monitor.cid == msg.id {
			m.monitor = nil
		}
		return m, m.active().Refresh()
	case openMonitorMsg:
		m.monitor = newMonitorScreen(m.sh, msg.c)
		m.layout()
		return m, m.monitor.Init()
	case openMsg:
		m.top = msg.scr
		m.layout()
		return m, m.top.Init()
	case closeMsg:
		m.top = nil
		return m, m.active().Refresh()
	case backMsg:
		m.monitor = nil
		return m, m.campaigns.Refresh()
	case quitMsg:
		m.quitting = true
		return m, tea.Quit
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	// Data messages go to every screen: each drops what is not its own.
	cmd := m.campaigns.Update(msg)
	if m.monitor != nil {
		cmd = tea.Batch(cmd, m.monitor.Update(msg))
	}
	if m.top != nil {
		cmd = tea.Batch(cmd, m.top.Update(msg))
	}
	return m, cmd
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.sh.keys
	if key.Matches(msg, k.ForceQuit) {
		return m.ctrlCPressed()
	}
	m.ctrlC = false
	if c := m.sh.confirm; c != nil {
		switch {
		case key.Matches(msg, k.Yes):
			m.sh.confirm = nil
			m.sh.info("")
			return c.cmd
		case key.Matches(msg, k.No):
			m.sh.confirm = nil
			m.sh.info("cancelled")
		}
		return nil
	}
	if m.showHelp {
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			m.showHelp = false
		}
		return nil
	}
	if m.cmdline != nil {
		return m.cmdKey(msg)
	}
	scr := m.active()
	if scr.Editing() {
		return scr.Update(msg)
	}
	switch {
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Quit):
		return m.askQuit()
	case key.Matches(msg, k.Command):
		m.cmdline = &lineInput{}
		return nil
	case key.Matches(msg, k.DNC):
		return m.openDNC()
	case key.Matches(msg, k.Webhooks) && m.top == nil:
		if m.monitor != nil {
			return m.sh.openWebhooks(m.monitor.campaign())
		}
		return m.sh.openWebhooks(m.campaigns.selected())
	}
	if m.sh.readonly && k.isAction(msg) {
		m.sh.fail("read-only session (--readonly): actions are disabled")
		return nil
	}
	return scr.Update(msg)
}

// askQuit quits at once when nothing is live, else asks first: quitting
// stops dialing and hangs up the live calls.
func (m *Model) askQuit() tea.Cmd {
	if n := m.sh.eng.ActiveCount(0); n > 0 {
		m.sh.ask(fmt.Sprintf("%d calls are live: hang them up (each a failed attempt) and quit?", n), m.quit())
		return nil
	}
	return m.quit()
}

// quitMsg is handled in Update so the model is only ever changed there.
type quitMsg struct{}

func (m *Model) quit() tea.Cmd { return func() tea.Msg { return quitMsg{} } }

// ctrlCPressed: the first Ctrl+C behaves like q (asks while calls are
// live); a second one in a row forces the quit.
func (m *Model) ctrlCPressed() tea.Cmd {
	if m.ctrlC {
		m.quitting = true
		return tea.Quit
	}
	m.ctrlC = true
	if m.sh.eng.ActiveCount(0) == 0 {
		m.quitting = true
		return tea.Quit
	}
	m.sh.confirm = &confirmation{prompt: fmt.Sprintf("%d calls are live: hang up (failed attempts), quit? (y/n; ctrl+c again forces)",
		m.sh.eng.ActiveCount(0)), cmd: m.quit()}
	return nil
}

func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "dialdeck"
	return v
}

// render is the whole screen as text (tests compare it with ANSI stripped).
func (m *Model) render() string {
	w, h := m.width, m.height
	if w < MinWidth || h < MinHeight {
		lines := []string{
			"terminal too small (need 80x24)",
			fmt.Sprintf("this one is %dx%d: enlarge it, or q to quit", w, h),
		}
		return fit(lines, w, h)
	}
	var body string
	if m.showHelp {
		lines := []string{m.sh.st.title.Render("dialdeck · help") + "   (esc or ? closes)", ""}
		lines = append(lines, helpView(m.sh.st, m.active().KeyGroups(), w)...)
		body = fit(lines, w, h-2)
	} else {
		body = m.active().View()
	}
	status, help := m.statusLine(), m.shortHelp()
	if m.sh.statusErr && m.sh.confirm == nil && m.cmdline == nil && ansi.StringWidth(status) > w {
		// An error too long for one line takes the key-hint line too, so
		// its advice ("import leads first") is not cut off.
		lines := strings.SplitN(ansi.Wordwrap(status, w, ""), "\n", 3)
		if len(lines) > 1 {
			status, help = lines[0], lines[1]
		}
	}
	return body + "\n" + pad(status, w) + "\n" + pad(help, w)
}

func (m *Model) statusLine() string {
	st := m.sh.st
	switch {
	case m.sh.confirm != nil:
		return st.prompt.Render(m.sh.confirm.prompt)
	case m.cmdline != nil:
		return ":" + m.cmdline.value + "▏"
	case m.sh.status == "":
		if m.sh.readonly {
			return st.dim.Render("read-only session")
		}
		return ""
	case m.sh.statusErr:
		return st.err.Render("✗ " + m.sh.status)
	default:
		return st.info.Render(m.sh.status)
	}
}

// shortHelp is the bottom line: the screen's most used keys, generated
// from its bindings.
func (m *Model) shortHelp() string {
	k := m.sh.keys
	if m.sh.confirm != nil {
		return m.sh.st.dim.Render(helpLine([]key.Binding{k.Yes, k.No}))
	}
	if m.cmdline != nil {
		return m.sh.st.dim.Render(":campaign NAME · :dnc · :q · enter runs · esc closes")
	}
	var bs []key.Binding
	for _, g := range m.active().KeyGroups() {
		for _, b := range enabled(g.bindings...) {
			if b.Help().Key != k.Help.Help().Key {
				bs = append(bs, b)
			}
		}
	}
	// The screen's first (most used) keys that fit, then where the rest are.
	more := " · " + helpLine([]key.Binding{k.Help})
	for len(bs) > 1 && ansi.StringWidth(helpLine(bs)+more) > m.width {
		bs = bs[:len(bs)-1]
	}
	return m.sh.st.dim.Render(helpLine(bs) + more)
}

// cmdKey edits the ":" command line; enter runs it, esc closes it.
func (m *Model) cmdKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.cmdline = nil
		return nil
	case "enter":
		line := strings.TrimSpace(m.cmdline.value)
		m.cmdline = nil
		return m.command(line)
	}
	if msg.String() == "backspace" && m.cmdline.value == "" {
		m.cmdline = nil
		return nil
	}
	m.cmdline.key(msg)
	return nil
}

// command runs a command line: :campaign NAME, :dnc, :q.
func (m *Model) command(line string) tea.Cmd {
	verb, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch verb {
	case "":
		return nil
	case "q", "q!", "quit":
		return m.askQuit()
	case "dnc":
		return m.openDNC()
	case "campaign", "c":
		if arg == "" {
			m.sh.fail("usage: :campaign NAME")
			return nil
		}
		c, err := m.campaigns.find(arg)
		if err != nil {
			m.sh.fail(err.Error())
			return nil
		}
		m.top = nil
		m.sh.info("")
		return func() tea.Msg { return openMonitorMsg{c: c} }
	}
	m.sh.fail(fmt.Sprintf("unknown command %q: try :campaign NAME, :dnc or :q", verb))
	return nil
}

func (m *Model) openDNC() tea.Cmd {
	if _, ok := m.top.(*dncScreen); ok {
		return nil
	}
	scr := newDNCScreen(m.sh)
	return func() tea.Msg { return openMsg{scr: scr} }
}
