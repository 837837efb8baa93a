package engine_test

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// TestPlacerPanicIsRecordedAsFailed: a placer that panics on some calls
// (a carrier or agent bug) must not take down the engine. Here the first
// attempts of 3 of 9 leads panic while the 6 other calls of the same tick
// are live: those 6 go on and are recorded answered; each panicked attempt
// is recorded failed with a fixed reason and an error id (never the panic
// value, which may hold anything), the log line with that id has the panic
// and the stack with the number masked, and the lead is retried per policy.
func TestPlacerPanicIsRecordedAsFailed(t *testing.T) {
	var logs syncBuffer
	h := newHarness(t, 10, func(o *engine.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	var (
		mu        sync.Mutex
		arrived   int
		allIn     = make(chan struct{}) // the 6 healthy first calls are live
		panicked  = make(chan struct{}) // a panicking call has panicked
		panicOnce sync.Once
	)
	wait := func(ch chan struct{}, what string) {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Errorf("timed out waiting for %s", what)
		}
	}
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		if req.Attempt != 1 {
			return engine.CallResult{Outcome: engine.OutcomeAnswered}
		}
		if req.LeadID%3 == 0 {
			wait(allIn, "the healthy calls of the tick")
			defer panicOnce.Do(func() { close(panicked) }) // runs as the panic unwinds
			panic(fmt.Sprintf("carrier bug on lead %d dialing %s", req.LeadID, req.Phone))
		}
		mu.Lock()
		if arrived++; arrived == 6 {
			close(allIn)
		}
		mu.Unlock()
		wait(panicked, "a panic")
		return engine.CallResult{Outcome: engine.OutcomeAnswered}
	}
	spec := specBody("panics")
	spec.MaxConcurrent = 9
	spec.RetryPolicy.RetryOn = []string{"failed"}
	spec.RetryPolicy.BackoffMinutes = 0
	c := h.campaignWithLeads(spec, 9)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	// The first tick: all 9 first attempts at once, 3 panicking mid-tick.
	h.tick()
	h.settle()
	atts, err := h.e.Attempts(fmt.Sprint(c.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	reasonRE := regexp.MustCompile(`^internal error placing the call \(see log, id ([0-9a-f]{8})\)$`)
	answered, ids := 0, map[string]bool{}
	for _, a := range atts {
		if a.LeadID%3 == 0 {
			m := reasonRE.FindStringSubmatch(a.Reason)
			if a.Outcome != engine.OutcomeFailed || m == nil {
				t.Errorf("lead %d attempt 1: %s %q, want failed with a fixed reason and an id", a.LeadID, a.Outcome, a.Reason)
				continue
			}
			ids[m[1]] = true
		} else if a.Outcome == engine.OutcomeAnswered {
			answered++
		}
	}
	if len(atts) != 9 || answered != 6 || len(ids) != 3 {
		t.Fatalf("first tick: %d attempts, %d answered (want 9, 6), %d distinct error ids (want 3): %+v", len(atts), answered, len(ids), atts)
	}
	// The lead_completed webhooks (not delivered: no receiver) carry the
	// same fixed reason, never the panic value.
	evs, err := h.e.Webhooks(fmt.Sprint(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	withID := 0
	for _, ev := range evs {
		if strings.Contains(string(ev.Body), "carrier bug") {
			t.Errorf("webhook %s carries the panic value: %s", ev.Type, ev.Body)
		}
		if ev.Type == "campaign.lead_completed" && strings.Contains(string(ev.Body), "internal error placing the call (see log, id ") {
			withID++
		}
	}
	if withID != 3 {
		t.Errorf("%d lead_completed webhooks with the fixed reason, want 3", withID)
	}
	log := logs.String()
	for id := range ids {
		var line string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, "id="+id) {
				line = l
			}
		}
		if !strings.Contains(line, "call placer panicked") || !strings.Contains(line, "carrier bug on lead") ||
			!strings.Contains(line, "goroutine ") || !strings.Contains(line, "engine.(*Engine).place") {
			t.Errorf("no log line with id %s, the panic and the stack:\n%s", id, line)
		}
	}
	for i := 0; i < 9; i++ {
		full := fmt.Sprintf("9198765%05d", i)
		if strings.Contains(log, full) {
			t.Errorf("log has the full number %s:\n%s", full, log)
		}
	}
	if !strings.Contains(log, "+********0002") { // lead 3 (+919876500002), masked
		t.Errorf("log lacks the masked number:\n%s", log)
	}

	h.runToEnd(c, 10)
	h.check(c)
	atts, err = h.e.Attempts(fmt.Sprint(c.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		if a.Attempt > 1 && (a.LeadID%3 != 0 || a.Outcome != engine.OutcomeAnswered) {
			t.Errorf("lead %d attempt %d: %s %q, want a retry only of panicked leads, answered", a.LeadID, a.Attempt, a.Outcome, a.Reason)
		}
	}
	r := h.report(c)
	if len(atts) != 12 || r.ByStatus[engine.LeadDone] != 9 {
		t.Fatalf("%d attempts (want 12), report %+v", len(atts), r)
	}
}
