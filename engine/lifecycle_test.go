package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// toState builds a campaign (with 2 leads) in the given state.
func (h *harness) toState(name string, s engine.CampaignState) *engine.Campaign {
	h.t.Helper()
	spec := specBody(name)
	if s == engine.StateFailed {
		spec.RetryPolicy.MaxAttempts = 1
	}
	c := h.campaignWithLeads(spec, 2)
	ref := fmt.Sprint(c.ID)
	must := func(err error) {
		h.t.Helper()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	switch s {
	case engine.StateDraft:
	case engine.StateScheduled:
		at := h.clock.Now().Add(time.Hour)
		must(h.e.Schedule(ref, &at))
	case engine.StateRunning:
		must(h.e.Start(ref))
	case engine.StatePaused:
		must(h.e.Start(ref))
		must(h.e.Pause(ref))
	case engine.StateCompleted:
		must(h.e.Start(ref))
		must(h.e.Stop(ref))
	case engine.StateFailed:
		h.placer.result = func(engine.CallRequest) engine.CallResult {
			return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "sip 503"}
		}
		must(h.e.Start(ref))
		h.runToEnd(c, 5)
		h.placer.result = nil
	}
	if got := h.state(c); got != s {
		h.t.Fatalf("setup: campaign is %s, want %s", got, s)
	}
	return c
}

func TestLifecycleEveryStateAndAction(t *testing.T) {
	states := []engine.CampaignState{engine.StateDraft, engine.StateScheduled, engine.StateRunning,
		engine.StatePaused, engine.StateCompleted, engine.StateFailed}
	actions := []engine.Action{engine.ActEdit, engine.ActImport, engine.ActDelete, engine.ActStart,
		engine.ActSchedule, engine.ActPause, engine.ActResume, engine.ActStop}
	// The spec's table (plus start/schedule from scheduled, which it implies).
	want := map[engine.CampaignState]map[engine.Action]engine.CampaignState{
		engine.StateDraft:     {engine.ActEdit: engine.StateDraft, engine.ActImport: engine.StateDraft, engine.ActDelete: "", engine.ActStart: engine.StateRunning, engine.ActSchedule: engine.StateScheduled},
		engine.StateScheduled: {engine.ActEdit: engine.StateScheduled, engine.ActStart: engine.StateRunning, engine.ActSchedule: engine.StateScheduled},
		engine.StateRunning:   {engine.ActPause: engine.StatePaused, engine.ActStop: engine.StateCompleted},
		engine.StatePaused:    {engine.ActResume: engine.StateRunning, engine.ActStop: engine.StateCompleted},
		engine.StateCompleted: {engine.ActDelete: ""},
		engine.StateFailed:    {engine.ActDelete: ""},
	}
	for _, s := range states {
		for _, a := range actions {
			t.Run(fmt.Sprintf("%s/%s", s, a), func(t *testing.T) {
				h := newHarness(t, 10, nil)
				c := h.toState("c", s)
				ref := fmt.Sprint(c.ID)
				var err error
				switch a {
				case engine.ActEdit:
					cur, _ := h.e.Campaign(ref)
					spec := cur.CampaignSpec
					spec.MaxConcurrent = 2
					_, err = h.e.EditCampaign(ref, spec)
				case engine.ActImport:
					_, err = h.e.ImportLeads(ref, strings.NewReader("phone,first_name,company\n+919812345678,New,Acme\n"), engine.ImportOptions{})
				case engine.ActDelete:
					err = h.e.DeleteCampaign(ref)
				case engine.ActStart:
					err = h.e.Start(ref)
				case engine.ActSchedule:
					at := h.clock.Now().Add(2 * time.Hour)
					err = h.e.Schedule(ref, &at)
				case engine.ActPause:
					err = h.e.Pause(ref)
				case engine.ActResume:
					err = h.e.Resume(ref)
				case engine.ActStop:
					err = h.e.Stop(ref)
				}
				next, ok := want[s][a]
				if !ok {
					if !errors.Is(err, engine.ErrRefused) {
						t.Fatalf("%s on %s: want refusal, got %v", a, s, err)
					}
					msg := err.Error()
					if !strings.Contains(msg, "it is "+string(s)) || !strings.Contains(msg, "allows") {
						t.Fatalf("refusal does not name the state and what is allowed: %q", msg)
					}
					if got := h.state(c); got != s {
						t.Fatalf("refused action changed state to %s", got)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s on %s: %v", a, s, err)
				}
				if next == "" {
					if _, err := h.e.Campaign(ref); !errors.Is(err, engine.ErrNotFound) {
						t.Fatalf("deleted campaign still there: %v", err)
					}
					return
				}
				if got := h.state(c); got != next {
					t.Fatalf("%s on %s: state %s, want %s", a, s, got, next)
				}
			})
		}
	}
}

func TestStartNeedsLeads(t *testing.T) {
	h := newHarness(t, 10, nil)
	c, err := h.e.CreateCampaign(specBody("empty"))
	if err != nil {
		t.Fatal(err)
	}
	err = h.e.Start(fmt.Sprint(c.ID))
	if !errors.Is(err, engine.ErrRefused) || !strings.Contains(err.Error(), "no leads") {
		t.Fatalf("start without leads: %v", err)
	}
}

func TestCreateValidatesAgainstConfig(t *testing.T) {
	h := newHarness(t, 10, nil)
	cases := map[string]func(*engine.CampaignSpec){
		"agentId: unknown agent":        func(s *engine.CampaignSpec) { s.AgentID = "nope" },
		"phoneNumberId: unknown number": func(s *engine.CampaignSpec) { s.PhoneNumberID = "nope" },
		"Mars/Olympus":                  func(s *engine.CampaignSpec) { s.Schedule.Timezone = "Mars/Olympus" },
		`"25:00"`:                       func(s *engine.CampaignSpec) { s.Schedule.WindowStart = "25:00" },
		"8":                             func(s *engine.CampaignSpec) { s.Schedule.Weekdays = []int{1, 8} },
		"maxConcurrent":                 func(s *engine.CampaignSpec) { s.MaxConcurrent = 0 },
		"retryOn":                       func(s *engine.CampaignSpec) { s.RetryPolicy.RetryOn = []string{"qualified"} },
		"webhookUrl":                    func(s *engine.CampaignSpec) { s.WebhookURL = "ftp://x" },
		"name: required":                func(s *engine.CampaignSpec) { s.Name = " " },
		"retryPolicy.maxAttempts: must be at least": func(s *engine.CampaignSpec) { s.RetryPolicy.MaxAttempts = 0 },
	}
	for want, mod := range cases {
		s := specBody("x")
		mod(&s)
		_, err := h.e.CreateCampaign(s)
		if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
	if _, err := h.e.CreateCampaign(specBody("dup")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.CreateCampaign(specBody("dup")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate name: %v", err)
	}
}

func TestScheduledCampaignStartsAtItsTime(t *testing.T) {
	h := newHarness(t, 10, nil)
	c := h.campaignWithLeads(specBody("sched"), 3)
	at := h.clock.Now().Add(30 * time.Minute)
	if err := h.e.Schedule(fmt.Sprint(c.ID), &at); err != nil {
		t.Fatal(err)
	}
	h.tick()
	if got := h.state(c); got != engine.StateScheduled {
		t.Fatalf("before its time: %s", got)
	}
	if n := len(h.placer.placedCalls()); n != 0 {
		t.Fatalf("%d calls before the scheduled start", n)
	}
	h.clock.Set(at)
	h.tick()
	h.settle()
	if got := h.state(c); got == engine.StateScheduled || got == engine.StateDraft {
		t.Fatalf("at its time: still %s", got)
	}
	if n := len(h.placer.placedCalls()); n != 3 {
		t.Fatalf("placed %d calls at the scheduled start, want 3", n)
	}
}
