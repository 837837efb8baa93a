package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dialdeck/dialdeck/engine"
)

func openMonitor(t *testing.T, o Options) *harness {
	t.Helper()
	h := newHarness(t, o)
	h.selectCampaign("Q2 Renewals — Mumbai")
	h.keys("enter")
	if h.m.monitor == nil {
		t.Fatal("enter did not open the monitor")
	}
	return h
}

// leadIDs is the lead window on screen and the cursor's lead.
func (h *harness) leadIDs() (ids string, cur uint64) {
	t := &h.m.monitor.leads
	var s []string
	for _, l := range t.rows {
		s = append(s, fmt.Sprint(l.ID))
	}
	if len(t.rows) > 0 {
		cur = t.rows[t.cursor].ID
	}
	return strings.Join(s, ","), cur
}

func (h *harness) wantLeads(ids string, cur uint64) {
	h.t.Helper()
	if got, c := h.leadIDs(); got != ids || c != cur {
		h.t.Errorf("leads %s cursor #%d, want %s cursor #%d", got, c, ids, cur)
	}
}

func TestMonitorShowsHeaderCountersCallsAndLeads(t *testing.T) {
	h := openMonitor(t, Options{})
	for _, s := range []string{
		"Q2 Renewals — Mumbai · running",
		"Mon-Fri 10:00-18:00 Asia/Kolkata", "window OPEN, closes in 2h00m (18:00)",
		"next tick in 7s", "calls 2/5", "org capacity 2/6 used",
		"6/45 done", "qualified 6", "busy 8", "not_interested 0", "dnc 0", "answered 0",
		"calls/min, last 30m", "ACTIVE CALLS (2)",
		"+********0001", "Maria", "talking", "1m15s", "agent: Hi Maria",
		"James", "ringing", "4s",
		"LEAD", "FIRST_NAME", "#10", "in 42m00s",
	} {
		h.wantScreen(s)
	}
	if rows := len(h.m.monitor.leads.rows); rows != h.m.monitor.leadRows || rows != 10 {
		t.Errorf("lead window holds %d rows, want the %d visible", rows, h.m.monitor.leadRows)
	}
}

func TestMonitorLeadPaging(t *testing.T) {
	h := openMonitor(t, Options{})
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 1)
	h.keys("j", "j")
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 3)
	h.keys("k")
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 2)
	h.keys("pgdown")
	h.wantLeads("11,12,13,14,15,16,17,18,19,20", 12)
	h.keys("pgup")
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 2)
	for i := 0; i < 9; i++ {
		h.keys("j")
	}
	h.wantLeads("11,12,13,14,15,16,17,18,19,20", 11)
	h.keys("k")
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 10)
	h.keys("G")
	h.wantLeads("36,37,38,39,40,41,42,43,44,45", 45)
	h.keys("j") // past the end: the window after is empty, stay on the last
	h.wantLeads("36,37,38,39,40,41,42,43,44,45", 45)
	h.keys("pgup")
	h.wantLeads("26,27,28,29,30,31,32,33,34,35", 35)
	h.keys("g")
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 1)
	h.keys("k") // at the very top: nothing moves
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 1)
}

func TestMonitorFilter(t *testing.T) {
	h := openMonitor(t, Options{})
	h.keys("/", "b", "u", "s", "y")
	h.wantScreen("/busy")
	h.wantLeads("5,10,15,20,25,30,40,45", 5)
	h.keys("enter", "G")
	h.wantLeads("5,10,15,20,25,30,40,45", 45)
	h.keys("esc")
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 1)

	h.keys("/", "q", "u", "a", "l", "i", "f", "i", "e", "d", "enter")
	h.wantLeads("7,14,21,28,35,42", 7)
	h.keys("/", "ctrl+u")
	for _, r := range "retry arjun" {
		h.keys(string(r))
	}
	h.keys("enter")
	h.wantLeads("10,20,30,40", 10)
}

func TestMonitorWhyNot(t *testing.T) {
	h := openMonitor(t, Options{})
	h.keys("j", "w")
	h.wantScreen("WHY — lead #2")
	h.wantScreen("due, but campaign concurrency full")
	h.keys("esc")
	if h.m.monitor == nil || h.m.monitor.why != nil {
		t.Fatal("esc should close the why panel and stay")
	}
	h.wantScreen("ACTIVE CALLS")
	h.keys("esc")
	if h.m.monitor != nil {
		t.Fatal("second esc should go back to the list")
	}
	h.wantScreen("dialdeck · campaigns")
}

func TestMonitorLifecycleKeys(t *testing.T) {
	cases := []struct {
		keys    []string
		actions []string
		status  string
	}{
		{[]string{"p"}, []string{"pause 1"}, `paused "Q2 Renewals — Mumbai"`},
		{[]string{"r"}, nil, `cannot resume campaign "Q2 Renewals — Mumbai": it is running`},
		{[]string{"s"}, nil, `cannot start campaign "Q2 Renewals — Mumbai": it is running`},
		{[]string{"S", "y"}, []string{"stop 1"}, `stopped "Q2 Renewals — Mumbai"`},
		{[]string{"p", "r"}, []string{"pause 1", "resume 1"}, `resumed "Q2 Renewals — Mumbai"`},
		{[]string{"d"}, nil, "delete from the campaign list"},
		{[]string{"j", "j", "enter"}, nil, "lead #3 has no live call"},
		{[]string{"e"}, nil, `cannot edit campaign "Q2 Renewals — Mumbai": it is running`},
		{[]string{"i"}, nil, `cannot import campaign "Q2 Renewals — Mumbai": it is running`},
		{[]string{"x"}, nil, `key "x" does nothing here`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.keys, " "), func(t *testing.T) {
			h := openMonitor(t, Options{})
			h.keys(c.keys...)
			h.wantActions(c.actions...)
			h.wantStatus(c.status)
		})
	}
}

func TestMonitorReadOnly(t *testing.T) {
	h := openMonitor(t, Options{ReadOnly: true})
	for _, k := range []string{"p", "r", "S", "s"} {
		h.keys(k)
		h.wantStatus("read-only")
	}
	h.wantActions()
	h.keys("w") // reading is not an action
	h.wantScreen("WHY — lead #1")
}

func TestMonitorRefreshDropsStaleAndFollowsEvents(t *testing.T) {
	h := openMonitor(t, Options{})
	mon := h.m.monitor
	// A stale answer (older sequence) is dropped.
	h.send(leadsLoadedMsg{seq: mon.leads.seq - 1, cid: mon.cid, leads: nil})
	h.wantLeads("1,2,3,4,5,6,7,8,9,10", 1)
	// An engine event rereads the window from the engine.
	h.f.mu.Lock()
	h.f.leads[1][0].Status, h.f.leads[1][0].Disposition = engine.LeadDone, engine.DispNotInterested
	h.f.mu.Unlock()
	h.send(EventsMsg{Events: []engine.Event{{Kind: engine.EventCampaign, CampaignID: 1}}})
	h.wantScreen("not_interested 1")
	if l := mon.leads.rows[0]; l.Disposition != engine.DispNotInterested {
		t.Errorf("lead 1 after event: %s", l.Disposition)
	}
}

// Why-not on a lead that was called shows how its last call ended (the SIP
// failure reason and code), and an ended campaign shows no due times.
func TestMonitorWhyNotShowsLastCall(t *testing.T) {
	h := openMonitor(t, Options{})
	h.keys("/", "r", "e", "t", "r", "y", "enter")
	h.wantLeads("5,10,15,20,25,30,40,45", 5)
	h.wantScreen("in 42m")
	h.keys("w")
	h.wantScreen("WHY — lead #5")
	h.wantScreen("last call: attempt 1 busy (SIP 486): 486 Busy Here")
	h.keys("esc")
	h.f.mu.Lock()
	h.f.campaigns[0].State = engine.StateCompleted
	h.f.mu.Unlock()
	h.run(h.m.active().Refresh())
	if scr := h.screen(); strings.Contains(scr, "in 42m") {
		t.Errorf("a completed campaign's retry leads still show a due time:\n%s", scr)
	}
}
