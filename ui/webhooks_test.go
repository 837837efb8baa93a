package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/dialdeck/dialdeck/engine"
)

func (h *harness) webhooks() *webhooksScreen {
	h.t.Helper()
	s, ok := h.m.top.(*webhooksScreen)
	if !ok {
		h.t.Fatalf("the webhooks screen is not open:\n%s", h.screen())
	}
	return s
}

// openWebhooks opens campaign 1's outbox from its live monitor.
func openWebhooks(t *testing.T, o Options) *harness {
	t.Helper()
	h := openMonitor(t, o)
	h.keys("W")
	h.webhooks()
	return h
}

func TestWebhooksShowsEveryStateAndGoesBack(t *testing.T) {
	h := openWebhooks(t, Options{})
	for _, s := range []string{
		"1 pending · 1 failing · 2 dead  → http://127.0.0.1:9999/hook",
		"SEQ TYPE           LEAD    STATE   TRIES NEXT TRY  LAST ERROR",
		"12 lead_completed #7      dead        8 -         HTTP 410: gone",
		"15 lead_completed #14     failing     3 in 2m05s  dial tcp 127.0.0.1:9999",
		"16 lead_completed #21     pending     0 due",
	} {
		h.wantScreen(s)
	}
	h.keys("j", "j", "j", "j", "G", "g", "pgdown", "pgup", "k")
	if c := h.webhooks().cursor; c != 0 {
		t.Errorf("cursor = %d", c)
	}
	h.keys("G")
	if c := h.webhooks().cursor; c != 3 {
		t.Errorf("G: cursor = %d", c)
	}
	h.keys("z")
	h.wantStatus(`key "z" does nothing here`)
	h.keys("esc")
	if h.m.top != nil || h.m.monitor == nil {
		t.Fatal("esc did not go back to the monitor")
	}
	h.wantScreen("ACTIVE CALLS")
}

func TestWebhooksFromCampaignList(t *testing.T) {
	h := newHarness(t, Options{})
	h.selectCampaign("NPS survey")
	h.keys("W")
	h.wantScreen("NPS survey · webhooks")
	h.wantScreen("0 pending · 0 failing · 0 dead")
	h.wantScreen("no webhookUrl set on this campaign")
	h.wantScreen("the outbox is empty")
	h.keys("t")
	h.wantStatus(`test event: campaign "NPS survey" has no webhookUrl`)
	h.keys("R")
	h.wantStatus("no dead events to replay")
	h.keys("r")
	h.wantStatus("no event selected")
	h.keys("esc")
	if h.m.top != nil || h.m.monitor != nil {
		t.Fatal("esc did not go back to the list")
	}
	h.keys("?")
	h.wantScreen("W           webhooks")
}

func TestWebhooksReplayOne(t *testing.T) {
	h := openWebhooks(t, Options{})
	h.keys("j", "r") // seq 12, dead
	h.wantActions("replay 1 [12]")
	h.wantStatus("event 12 queued again, due now")
	h.wantScreen("12 lead_completed #7      pending     0 due")
	if ev := h.webhooks().rows[h.webhooks().cursor]; ev.Seq != 12 {
		t.Errorf("cursor moved to event %d after the refresh", ev.Seq)
	}
	h.keys("j", "enter") // seq 15, failing
	h.wantActions("replay 1 [12]", "replay 1 [15]")
	h.wantStatus("event 15 queued again")
	h.wantScreen("3 pending · 0 failing · 1 dead")
	h.keys("j", "r") // seq 16, pending: refused
	h.wantStatus("event 16 is pending: it goes out on its own")
	h.wantActions("replay 1 [12]", "replay 1 [15]")

	h.f.mu.Lock()
	h.f.failWith = errors.New("database is closed")
	h.f.mu.Unlock()
	h.keys("g", "r")
	h.wantStatus("✗ database is closed")
}

func TestWebhooksReplayAllAsks(t *testing.T) {
	h := openWebhooks(t, Options{})
	h.keys("R")
	h.wantStatus(`Replay the 2 dead events of "Q2 Renewals — Mumbai" now? (y/n)`)
	h.keys("n")
	h.wantStatus("cancelled")
	h.wantActions()
	h.keys("R", "y")
	h.wantActions("replay 1 []")
	h.wantStatus("2 dead events queued again, due now")
	h.wantScreen("3 pending · 1 failing · 0 dead")
}

func TestWebhooksTestEvent(t *testing.T) {
	h := openWebhooks(t, Options{})
	h.keys("t")
	h.wantActions("test webhook 1")
	h.wantStatus("test event: HTTP 200 · ok")
	h.f.mu.Lock()
	h.f.testStatus = 503
	h.f.mu.Unlock()
	h.keys("t")
	h.wantStatus("✗ test event: HTTP 503 · ok")
}

func TestWebhooksFollowEngineEvents(t *testing.T) {
	h := openWebhooks(t, Options{})
	h.f.mu.Lock()
	h.f.outbox = h.f.outbox[:2] // 15 and 16 delivered
	h.f.mu.Unlock()
	h.wantScreen("1 failing") // nothing reread yet
	h.send(EventsMsg{Events: []engine.Event{{Kind: engine.EventCampaign, CampaignID: 1}}})
	h.wantScreen("0 pending · 0 failing · 2 dead")
	// A stale answer is dropped.
	s := h.webhooks()
	h.send(webhooksLoadedMsg{seq: s.seq - 1, cid: 1})
	if len(s.rows) != 2 {
		t.Errorf("a stale read replaced the rows: %d", len(s.rows))
	}
	h.send(tickMsg{})
	if len(s.rows) != 2 {
		t.Errorf("after a tick: %d rows", len(s.rows))
	}
}

func TestWebhooksReadOnly(t *testing.T) {
	h := openWebhooks(t, Options{ReadOnly: true})
	h.wantScreen("[read-only]")
	h.wantScreen("2 dead") // reading is allowed
	for _, k := range []string{"r", "enter", "R", "t"} {
		h.keys(k)
		h.wantStatus("read-only")
	}
	h.wantActions()
	if h.m.sh.confirm != nil {
		t.Error("read-only R asked to replay")
	}
	last := strings.Split(h.screen(), "\n")
	if l := last[len(last)-1]; strings.Contains(l, "replay") || strings.Contains(l, "test") {
		t.Errorf("read-only short help shows an action: %q", l)
	}
	h.keys("?")
	for _, s := range []string{"replay", "test event"} {
		if strings.Contains(h.screen(), s) {
			t.Errorf("read-only help shows %q", s)
		}
	}
	h.keys("esc", "j", "esc")
	if h.m.top != nil {
		t.Error("esc did not close the webhooks screen")
	}
}
