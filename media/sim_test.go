package media

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func simTestConfig() SimConfig {
	return SimConfig{Seed: 42, Odds: SimOdds{Answered: 5, Busy: 1, NoAnswer: 1, Voicemail: 1, Failed: 1},
		RingMin: 2 * time.Second, RingMax: 6 * time.Second, TalkMin: 5 * time.Second, TalkMax: 30 * time.Second,
		VoicemailDuration: 8 * time.Second}
}

func TestSimIsSeededPerLeadAttempt(t *testing.T) {
	p := NewSimPlacer(simTestConfig(), engine.NewFakeClock(time.Unix(0, 0)))
	counts := map[engine.Outcome]int{}
	for lead := uint64(1); lead <= 500; lead++ {
		req := engine.CallRequest{CampaignID: 1, LeadID: lead, Attempt: 1, Variables: map[string]string{"first_name": "Asha"}}
		a, b := p.Simulate(req), p.Simulate(req)
		if a.Outcome != b.Outcome || a.TalkDuration != b.TalkDuration || a.RingDuration != b.RingDuration {
			t.Fatalf("lead %d: the same call simulated twice differs", lead)
		}
		counts[a.Outcome]++
		if a.Outcome == engine.OutcomeAnswered {
			if a.TalkDuration < 5*time.Second || a.TalkDuration >= 30*time.Second || a.Analysis == nil || len(a.Transcript) == 0 {
				t.Fatalf("answered call: %+v", a)
			}
		}
	}
	// Odds 5:1:1:1:1 over 500 calls: answered near 278, each other near 56.
	if counts[engine.OutcomeAnswered] < 200 || counts[engine.OutcomeBusy] < 25 || counts[engine.OutcomeVoicemail] < 25 {
		t.Fatalf("outcome mix far from the odds: %v", counts)
	}
}

func TestSimPlaceWaitsOnTheClockAndHangsUpOnCancel(t *testing.T) {
	clock := engine.NewFakeClock(time.Unix(0, 0))
	p := NewSimPlacer(simTestConfig(), clock)
	var req engine.CallRequest
	for lead := uint64(1); ; lead++ {
		req = engine.CallRequest{CampaignID: 1, LeadID: lead, Attempt: 1}
		if p.Simulate(req).Outcome == engine.OutcomeAnswered {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan engine.CallResult, 1)
	go func() { done <- p.Place(ctx, req) }()
	// The call waits on the (stopped) fake clock: it is ringing, not done.
	for clock.Waiters() == 0 {
		select {
		case <-done:
			t.Fatal("a call ended before any time passed")
		default:
			runtime.Gosched()
		}
	}
	cancel()
	select {
	case res := <-done:
		if res.Outcome != engine.OutcomeFailed || res.Reason == "" {
			t.Fatalf("hung-up call: %+v", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Place did not return after cancel")
	}
}
