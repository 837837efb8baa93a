package ui

import (
	"os"
	"path/filepath"
	"testing"
)

func (h *harness) dnc() *dncScreen {
	h.t.Helper()
	s, ok := h.m.top.(*dncScreen)
	if !ok {
		h.t.Fatalf("the DNC screen is not open:\n%s", h.screen())
	}
	return s
}

func TestDNCListFilterAndBack(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("D")
	h.wantScreen("do not call (3)")
	h.wantScreen("+14155550123")
	h.wantScreen("2026-05-03 08:30  import:optout.csv")
	h.keys("/", "9", "1")
	if n := len(h.dnc().rows); n != 1 {
		t.Errorf("filter 91 shows %d numbers", n)
	}
	h.keys("enter")
	h.wantScreen("filter: 91")
	h.keys("esc") // clears the filter
	if n := len(h.dnc().rows); n != 3 {
		t.Errorf("cleared filter shows %d numbers", n)
	}
	h.keys("j", "j", "j", "G", "g", "pgdown", "pgup", "k")
	if h.dnc().cursor != 0 {
		t.Errorf("cursor = %d", h.dnc().cursor)
	}
	h.keys("z")
	h.wantStatus(`key "z" does nothing here`)
	h.keys("esc")
	if h.m.top != nil {
		t.Error("esc did not close the DNC screen")
	}
}

func TestDNCAddRemoveImport(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("D", "a")
	h.wantScreen("add ›")
	h.typeText("020 7946 0018 gb")
	h.keys("enter")
	h.wantActions("dnc add 020 7946 0018 GB")
	h.wantStatus("added 1 numbers to the do-not-call list")
	h.wantScreen("+442079460018")

	h.keys("a")
	h.typeText("12345")
	h.keys("enter")
	h.wantStatus(`"12345" is not a valid phone number`)
	h.keys("a", "enter")
	h.wantStatus("type a number, or esc")
	h.keys("esc")
	h.wantStatus("cancelled")

	h.keys("j", "x")
	h.wantStatus("Remove +14155550123 from the do-not-call list")
	h.keys("n")
	h.keys("x", "y")
	h.wantStatus("removed +14155550123")
	if n := len(h.dnc().rows); n != 3 {
		t.Errorf("%d numbers after add and remove", n)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "optout.txt")
	os.WriteFile(path, []byte("+13125550100\n+13125550101\nnope\n"), 0o600)
	h.keys("i")
	h.typeText(filepath.Join(dir, "opt"))
	h.keys("tab")
	h.wantScreen("import file › " + path)
	h.keys("enter")
	h.wantStatus("imported optout.txt: 2 added, 1 invalid (first: line 3 invalid number)")
	h.wantScreen("do not call (5)")
}

func TestDNCReadOnly(t *testing.T) {
	h := newHarness(t, Options{ReadOnly: true})
	h.keys("D")
	h.wantScreen("do not call")
	for _, k := range []string{"a", "x", "i"} {
		h.keys(k)
		h.wantStatus("read-only")
	}
}

func TestCommandLine(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys(":")
	h.wantStatus(":▏")
	h.typeText("campaign nps")
	h.wantStatus(":campaign nps")
	h.keys("enter")
	if h.m.monitor == nil || h.m.monitor.cid != 3 {
		t.Fatalf(":campaign nps did not open NPS survey:\n%s", h.screen())
	}
	h.keys(":")
	h.typeText("c Q2 Renewals — Mumbai")
	h.keys("enter")
	if h.m.monitor.cid != 1 {
		t.Errorf(":c with the exact name opened %d", h.m.monitor.cid)
	}
	h.keys(":")
	h.typeText("dnc")
	h.keys("enter")
	h.dnc()
	h.keys(":")
	h.typeText("campaign Demo renewals")
	h.keys("enter")
	if h.m.top != nil || h.m.monitor.cid != 2 {
		t.Errorf(":campaign from the DNC screen did not open the monitor")
	}
	h.keys(":")
	h.typeText("campaign zzz")
	h.keys("enter")
	h.wantStatus(`no campaign named "zzz"`)
	h.keys(":")
	h.typeText("frobnicate")
	h.keys("enter")
	h.wantStatus(`unknown command "frobnicate": try :campaign NAME, :dnc or :q`)
	h.keys(":", "x", "esc")
	if h.m.cmdline != nil {
		t.Error("esc left the command line open")
	}
	h.keys(":")
	h.typeText("q")
	h.keys("enter") // calls are live: asks
	h.wantStatus("calls are live")
	h.keys("y")
	if !h.quit {
		t.Error(":q did not quit")
	}
}

func TestCommandLineAmbiguous(t *testing.T) {
	h := newHarness(t, Options{})
	h.f.campaigns[3].Name = "NPS survey 2"
	h.run(h.m.campaigns.Refresh())
	h.keys(":")
	h.typeText("campaign nps")
	h.keys("enter")
	h.wantStatus(`matches "NPS survey", "NPS survey 2"`)
}
