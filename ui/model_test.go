package ui

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialdeck/dialdeck/engine"
)

// harness drives the root model synchronously: every Cmd runs at once and
// its message is fed back, as the program would, minus the goroutines.
type harness struct {
	t    *testing.T
	m    *Model
	f    *fakeEngine
	quit bool
}

func newHarness(t *testing.T, o Options) *harness {
	t.Helper()
	f := newFakeEngine()
	o.Now = func() time.Time { return fixedNow }
	o.Refresh = -1
	o.Mono = true
	h := &harness{t: t, f: f, m: New(f, o)}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(h.m.Init())
	return h
}

func (h *harness) send(msg tea.Msg) {
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.handle(runQuick([]tea.Cmd{cmd})[0])
}

func (h *harness) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, m := range runQuick(msg) {
			h.handle(m)
		}
	case tea.QuitMsg:
		h.quit = true
	case tea.KeyPressMsg, tea.WindowSizeMsg:
		// Only the test sends keys and sizes.
	default:
		// tea.Sequence's message is unexported: a slice of Cmds, run in order.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
			for i := range v.Len() {
				h.run(v.Index(i).Interface().(tea.Cmd))
			}
			return
		}
		h.send(msg)
	}
}

// runQuick runs cmds side by side and drops those still waiting after a
// moment (50 ms, generous for the fake engine under -race on a loaded CI
// box): timers (huh's cursor blink) would otherwise keep the synchronous
// harness busy forever. Everything else answers at once.
func runQuick(cmds []tea.Cmd) []tea.Msg {
	chs := make([]chan tea.Msg, len(cmds))
	for i, c := range cmds {
		chs[i] = make(chan tea.Msg, 1)
		if c == nil {
			chs[i] <- nil
			continue
		}
		go func() { chs[i] <- c() }()
	}
	out := make([]tea.Msg, len(cmds))
	deadline := time.After(50 * time.Millisecond)
	for i, ch := range chs {
		select {
		case out[i] = <-ch:
		case <-deadline:
			// a timer: leave it
			select {
			case out[i] = <-ch:
			default:
			}
		}
	}
	return out
}

// keys sends each key: a name ("enter", "esc", "ctrl+c", "pgdown") or one
// printable character.
func (h *harness) keys(ks ...string) {
	for _, k := range ks {
		h.send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (h *harness) screen() string { return ansi.Strip(h.m.render()) }

func (h *harness) status() string {
	lines := strings.Split(h.screen(), "\n")
	return strings.TrimSpace(lines[len(lines)-2])
}

func (h *harness) wantStatus(sub string) {
	h.t.Helper()
	if s := h.status(); !strings.Contains(s, sub) {
		h.t.Errorf("status line %q does not contain %q", s, sub)
	}
}

func (h *harness) wantScreen(sub string) {
	h.t.Helper()
	if s := h.screen(); !strings.Contains(s, sub) {
		h.t.Errorf("screen does not contain %q:\n%s", sub, s)
	}
}

func (h *harness) wantActions(want ...string) {
	h.t.Helper()
	if got := h.f.lastActions(); strings.Join(got, ",") != strings.Join(want, ",") {
		h.t.Errorf("engine actions = %q, want %q", got, want)
	}
}

// selectCampaign moves the cursor to the campaign named name.
func (h *harness) selectCampaign(name string) {
	h.t.Helper()
	h.keys("g")
	for i := 0; i < 10; i++ {
		if c := h.m.campaigns.selected(); c != nil && c.Name == name {
			return
		}
		h.keys("j")
	}
	h.t.Fatalf("campaign %q not in the list", name)
}

func TestCampaignsListShowsEveryColumn(t *testing.T) {
	h := newHarness(t, Options{})
	for _, s := range []string{"Q2 Renewals — Mumbai", "running", "open until 18:00", "6/45",
		"Demo renewals", "draft", "open (always)", "paused", "closed until 09:00", "completed", "120/120", "31", "2/5"} {
		h.wantScreen(s)
	}
}

func TestCampaignsNavigation(t *testing.T) {
	h := newHarness(t, Options{})
	if c := h.m.campaigns.selected(); c.ID != 1 {
		t.Fatalf("first selected = %d", c.ID)
	}
	h.keys("j", "j")
	if c := h.m.campaigns.selected(); c.ID != 3 {
		t.Errorf("after j j selected = %d, want 3", c.ID)
	}
	h.keys("k")
	if c := h.m.campaigns.selected(); c.ID != 2 {
		t.Errorf("after k selected = %d, want 2", c.ID)
	}
	h.keys("G")
	if c := h.m.campaigns.selected(); c.ID != 4 {
		t.Errorf("after G selected = %d, want 4", c.ID)
	}
	h.keys("j") // stays at the bottom
	if c := h.m.campaigns.selected(); c.ID != 4 {
		t.Errorf("j at bottom moved to %d", c.ID)
	}
	h.keys("g")
	if c := h.m.campaigns.selected(); c.ID != 1 {
		t.Errorf("after g selected = %d, want 1", c.ID)
	}
}

func TestCampaignsLifecycleKeys(t *testing.T) {
	cases := []struct {
		campaign string
		keys     []string
		actions  []string
		status   string
	}{
		{"Demo renewals", []string{"s"}, []string{"start 2"}, `started "Demo renewals"`},
		{"Demo renewals", []string{"p"}, nil, `cannot pause campaign "Demo renewals": it is draft`},
		{"Demo renewals", []string{"r"}, nil, `cannot resume campaign "Demo renewals": it is draft`},
		{"Demo renewals", []string{"S"}, nil, `cannot stop campaign "Demo renewals": it is draft`},
		{"Q2 Renewals — Mumbai", []string{"p"}, []string{"pause 1"}, `paused "Q2 Renewals — Mumbai"`},
		{"Q2 Renewals — Mumbai", []string{"s"}, nil, "cannot start campaign \"Q2 Renewals — Mumbai\": it is running"},
		{"Q2 Renewals — Mumbai", []string{"d"}, nil, "cannot delete campaign \"Q2 Renewals — Mumbai\": it is running"},
		{"Q2 Renewals — Mumbai", []string{"S", "y"}, []string{"stop 1"}, `stopped "Q2 Renewals — Mumbai"`},
		{"Q2 Renewals — Mumbai", []string{"S", "n"}, nil, "cancelled"},
		{"NPS survey", []string{"r"}, []string{"resume 3"}, `resumed "NPS survey"`},
		{"NPS survey", []string{"p"}, nil, `cannot pause campaign "NPS survey": it is paused`},
		{"March collections", []string{"d", "y"}, []string{"delete 4"}, `deleted "March collections"`},
		{"March collections", []string{"d", "esc"}, nil, "cancelled"},
		{"March collections", []string{"r"}, nil, `it is completed`},
	}
	for _, c := range cases {
		t.Run(c.campaign+" "+strings.Join(c.keys, " "), func(t *testing.T) {
			h := newHarness(t, Options{})
			h.selectCampaign(c.campaign)
			h.keys(c.keys...)
			h.wantActions(c.actions...)
			h.wantStatus(c.status)
		})
	}
}

func TestCampaignsConfirmShowsPrompt(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("S")
	h.wantStatus(`Stop "Q2 Renewals — Mumbai" for good (live calls hang up)? (y/n)`)
	h.keys("x") // anything else keeps asking
	h.wantStatus("(y/n)")
	h.wantActions()
}

func TestCampaignsDeleteRemovesRow(t *testing.T) {
	h := newHarness(t, Options{})
	h.selectCampaign("Demo renewals")
	h.keys("d", "y")
	if strings.Contains(h.screen(), "Demo renewals ") {
		t.Errorf("deleted campaign still listed:\n%s", h.screen())
	}
}

func TestEngineErrorBecomesStatus(t *testing.T) {
	h := newHarness(t, Options{})
	h.f.failWith = errors.New("disk full")
	h.keys("p")
	h.wantStatus("disk full")
	h.send(EventsMsg{Events: []engine.Event{{Kind: engine.EventError, Message: "dialer tick: boom"}}})
	h.wantStatus("engine: dialer tick: boom")
}

func TestUnknownKeySaysSo(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("x")
	h.wantStatus(`key "x" does nothing here`)
}

func TestCampaignsFilter(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("/", "d", "e", "m", "o")
	h.wantScreen("/demo")
	if n := len(h.m.campaigns.shown); n != 1 {
		t.Fatalf("filter demo shows %d campaigns", n)
	}
	h.keys("enter")
	if c := h.m.campaigns.selected(); c == nil || c.Name != "Demo renewals" {
		t.Errorf("selected %v after filter", c)
	}
	h.keys("q") // not typed into the filter any more: quits (no live calls on... the fake has some)
	h.keys("n")
	h.keys("esc")
	if n := len(h.m.campaigns.shown); n != 4 {
		t.Errorf("esc left %d campaigns shown", n)
	}
	h.keys("/", "p", "a", "u", "s", "e", "d", "esc")
	if n := len(h.m.campaigns.shown); n != 4 || h.m.campaigns.filter.value != "" {
		t.Errorf("esc while typing kept filter %q", h.m.campaigns.filter.value)
	}
	h.keys("/", "q", "x", "backspace")
	if h.quit || h.m.campaigns.filter.value != "q" {
		t.Errorf("typing q in the filter: quit=%v value=%q", h.quit, h.m.campaigns.filter.value)
	}
}

func TestHelpIsGeneratedAndHidesActionsWhenReadOnly(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("?")
	for _, s := range []string{"Campaign", "Navigate", "General", "pause", "stop", "filter", "quit"} {
		h.wantScreen(s)
	}
	h.keys("?")
	if h.m.showHelp {
		t.Fatal("? did not close help")
	}

	ro := newHarness(t, Options{ReadOnly: true})
	ro.keys("?")
	scr := ro.screen()
	for _, s := range []string{" start", " pause", " resume", " stop", " delete", " new", " import"} {
		if strings.Contains(scr, s) {
			t.Errorf("read-only help shows %q:\n%s", s, scr)
		}
	}
	ro.keys("esc")
	for _, k := range []string{"s", "p", "r", "S", "d", "n", "e", "i"} {
		ro.keys(k)
		ro.wantStatus("read-only")
	}
	ro.wantActions()
	if lines := strings.Split(ro.screen(), "\n"); strings.Contains(lines[len(lines)-1], "pause") {
		t.Errorf("read-only short help shows pause:\n%s", ro.screen())
	}
}

func TestQuitAsksWhileCallsAreLive(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("q")
	if h.quit {
		t.Fatal("q quit at once with live calls")
	}
	h.wantStatus("2 calls are live")
	h.keys("n")
	if h.quit {
		t.Fatal("n quit")
	}
	h.keys("q", "y")
	if !h.quit || !h.m.Quitting() {
		t.Fatal("q y did not quit")
	}

	idle := newHarness(t, Options{})
	idle.f.calls = nil
	idle.keys("q")
	if !idle.quit {
		t.Fatal("q with no live calls did not quit")
	}
}

func TestCtrlCTwiceForces(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("ctrl+c")
	if h.quit {
		t.Fatal("first ctrl+c quit with live calls")
	}
	h.wantStatus("ctrl+c again forces")
	h.keys("ctrl+c")
	if !h.quit {
		t.Fatal("second ctrl+c did not quit")
	}
}

func TestTooSmall(t *testing.T) {
	h := newHarness(t, Options{})
	h.send(tea.WindowSizeMsg{Width: 79, Height: 24})
	h.wantScreen("terminal too small (need 80x24)")
	h.send(tea.WindowSizeMsg{Width: 80, Height: 23})
	h.wantScreen("terminal too small (need 80x24)")
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.wantScreen("Q2 Renewals")
	for i, l := range strings.Split(h.screen(), "\n") {
		if w := ansi.StringWidth(l); w != 100 {
			t.Errorf("line %d is %d cells wide, want 100", i, w)
		}
	}
	if n := strings.Count(h.screen(), "\n") + 1; n != 30 {
		t.Errorf("screen has %d lines, want 30", n)
	}
}

func TestNoColor(t *testing.T) {
	for v, want := range map[string]bool{"": false, "1": true, "true": true, "yes": true, "0": true, " ": false} {
		if got := NoColor(func(string) string { return v }); got != want {
			t.Errorf("NO_COLOR=%q: mono=%v, want %v", v, got, want)
		}
	}
}
