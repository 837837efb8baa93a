package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// say makes the fake's first call speak a new line, as the engine's
// progress would, and lets the monitor read it.
func (h *harness) say(line string) {
	h.f.mu.Lock()
	h.f.calls[0].Progress.LastLine = line
	h.f.mu.Unlock()
	h.run(h.m.active().Refresh())
}

func TestCallDetailFromTheLeadTable(t *testing.T) {
	h := openMonitor(t, Options{})
	h.keys("enter") // lead #1 is on a live call
	h.wantScreen("CALL — lead #1 +********0001 Maria · attempt 1 · talking · 1m15s")
	h.wantScreen("agent: Hi Maria, this is Ava calling from Acme")
	h.say("callee: Yes, speaking.")
	h.say("agent: Your Health policy renews next week; shall I walk you through it?")
	h.say("agent: Your Health policy renews next week; shall I walk you through it?") // unchanged: not repeated
	scr := h.screen()
	if strings.Count(scr, "shall I walk you through it?") != 1 || !strings.Contains(scr, "callee: Yes, speaking.") {
		t.Errorf("transcript lines not gathered once each:\n%s", scr)
	}
	h.keys("x")
	h.wantStatus("esc goes back")
	h.keys("p") // lifecycle keys still work
	h.wantActions("pause 1")
	// The call ends: its transcript stays, marked ended.
	h.f.mu.Lock()
	h.f.calls = h.f.calls[1:]
	h.f.mu.Unlock()
	h.run(h.m.active().Refresh())
	h.wantScreen("attempt 1 · ended · 1m15s")
	h.wantScreen("callee: Yes, speaking.")
	// Later reads do not make the ended call any longer.
	h.m.sh.now = func() time.Time { return fixedNow.Add(time.Minute) }
	h.run(h.m.active().Refresh())
	h.wantScreen("attempt 1 · ended · 1m15s")
	h.keys("esc")
	h.wantScreen("ACTIVE CALLS (1)")
	if len(h.m.monitor.calls.transcripts) != 1 {
		t.Errorf("ended call's transcript kept after closing: %d", len(h.m.monitor.calls.transcripts))
	}
}

func TestCallDetailFromTheCallList(t *testing.T) {
	h := openMonitor(t, Options{})
	h.keys("tab")
	h.wantScreen("enter opens a call")
	h.keys("j", "j", "enter") // the second call, James (the cursor stops there)
	h.wantScreen("CALL — lead #2")
	h.wantScreen("no transcript yet")
	h.keys("esc", "k", "enter")
	h.wantScreen("CALL — lead #1")
	h.keys("esc", "esc") // leaves the calls
	if h.m.monitor.calls.focus {
		t.Error("esc did not give the keys back to the lead table")
	}
	h.keys("j", "enter")
	h.wantScreen("CALL — lead #2")
}

func TestCallTranscriptIsBounded(t *testing.T) {
	h := openMonitor(t, Options{})
	for i := range transcriptLines + 20 {
		h.say(fmt.Sprintf("agent: line %d", i))
	}
	k := callKey{1, 1}
	if n := len(h.m.monitor.calls.transcripts[k]); n != transcriptLines {
		t.Errorf("kept %d lines", n)
	}
	h.keys("enter")
	h.wantScreen(fmt.Sprintf("agent: line %d", transcriptLines+19))
}

// A SIP call that is still ringing shows the trunk's progress in the call
// list (no transcript yet), and its detail view shows it too.
func TestCallListShowsSIPProgressBeforeTalk(t *testing.T) {
	h := openMonitor(t, Options{})
	h.f.mu.Lock()
	h.f.calls[1].Progress.State = "ringing"
	h.f.calls[1].Progress.Detail = "180 Ringing"
	h.f.mu.Unlock()
	h.run(h.m.active().Refresh())
	h.wantScreen("ringing")
	h.wantScreen("180 Ringing")
	h.keys("tab", "j", "enter")
	h.wantScreen("CALL — lead #2")
	h.wantScreen("180 Ringing")
}

// An error longer than the terminal is wide wraps onto the key-hint line
// rather than losing its advice at the edge.
func TestLongErrorIsNotCutOff(t *testing.T) {
	h := newHarness(t, Options{})
	h.run(func() tea.Msg { return tea.WindowSizeMsg{Width: 80, Height: 24} })
	msg := `cannot start campaign "Demo renewals — second quarter": it has no leads; import leads first`
	h.m.sh.fail(msg)
	scr := h.screen()
	if !strings.Contains(scr, "import leads first") {
		t.Fatalf("long error cut off at 80 columns:\n%s", scr)
	}
	if lines := strings.Split(scr, "\n"); len(lines) != 24 {
		t.Errorf("screen is %d lines, want 24", len(lines))
	}
}
