package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func TestSubscribeCoalescesChanges(t *testing.T) {
	h := newHarness(t, 10, nil)
	sub := h.e.Subscribe()
	defer sub.Close()
	c := h.campaignWithLeads(specBody("ev"), 10)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c, 5)
	select {
	case <-sub.C:
	default:
		t.Fatal("no signal after many changes")
	}
	evs := sub.Drain()
	campaignEvents := 0
	for _, ev := range evs {
		if ev.Kind == engine.EventCampaign && ev.CampaignID == c.ID {
			campaignEvents++
		}
	}
	// Dozens of changes (create, import, start, 10 claims and outcomes) to
	// one campaign arrive as one pending event.
	if campaignEvents != 1 {
		t.Fatalf("%d campaign events pending, want 1 coalesced: %+v", campaignEvents, evs)
	}
	if again := sub.Drain(); len(again) != 0 {
		t.Fatalf("drain twice: %+v", again)
	}
}

func TestRenderVariables(t *testing.T) {
	vars := map[string]string{"first_name": "Arjun", "company": "Acme", "premium": "12450"}
	out, missing := engine.Render("Hi {{first_name}} from {{ company }}, ₹{{premium}} {{ renewal_date }}.", vars)
	if out != "Hi Arjun from Acme, ₹12450 ." || len(missing) != 1 || missing[0] != "renewal_date" {
		t.Fatalf("render: %q missing %v", out, missing)
	}
	if got := engine.TemplateVariables("{{a}} {{ b }} {{a}} {{unclosed"); strings.Join(got, ",") != "a,b" {
		t.Fatalf("variables: %v", got)
	}
}

func TestCallRequestCarriesRenderedPromptAndBuiltins(t *testing.T) {
	h := newHarness(t, 10, nil)
	c := h.campaignWithLeads(specBody("vars"), 1)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.settle()
	calls := h.placer.placedCalls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	req := calls[0].req
	if req.Prompt != "You're calling Lead0 from Acme" || req.WelcomeMessage != "Hi Lead0" {
		t.Fatalf("rendered prompt %q welcome %q", req.Prompt, req.WelcomeMessage)
	}
	if req.Variables["phone"] != "+919876500000" || req.Variables["campaign_name"] != "vars" || req.Variables["attempt"] != "1" {
		t.Fatalf("built-ins: %v", req.Variables)
	}
}

func TestLeadLocalTimeHoldsLeadsOutsideTheirOwnWindow(t *testing.T) {
	h := newHarness(t, 10, nil)
	spec := specBody("local")
	spec.Schedule = engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "08:00", WindowEnd: "22:00",
		Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, LeadLocalTime: true}
	c, err := h.e.CreateCampaign(spec)
	if err != nil {
		t.Fatal(err)
	}
	csv := "phone,name\n+919876543210,Asha\n+12124567890,Maria\n+919812345678,Ravi\n"
	if _, err := h.e.ImportLeads(fmt.Sprint(c.ID), strings.NewReader(csv), engine.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	// Monday 10:00 in Kolkata is Sunday 23:30 in New York.
	h.tick()
	h.settle()
	for _, p := range h.placer.placedCalls() {
		if p.req.Phone == "+12124567890" {
			t.Fatal("a New York lead was called at 23:30 its time")
		}
	}
	if n := len(h.placer.placedCalls()); n != 2 {
		t.Fatalf("%d calls, want the 2 Indian leads", n)
	}
	w, err := h.e.WhyNot(c.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	// New York opens at 08:00 its time: 18:30 in Kolkata.
	want := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	if w.Gate != engine.GateWindow || !strings.Contains(w.Message, "lead's local") || w.Until == nil || !w.Until.Equal(want) {
		t.Fatalf("why-not for the New York lead: %+v, want until %s", w, want)
	}
	h.check(c)
}
