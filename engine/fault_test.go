package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dialdeck/dialdeck/engine"
)

// TestPlacerPanicIsRecordedAsFailed: a placer that panics on some calls
// (a carrier or agent bug) must not take down the engine: that attempt is
// recorded failed with the panic as its reason, retried per policy, and the
// other calls of the same tick go on.
func TestPlacerPanicIsRecordedAsFailed(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		if req.LeadID%3 == 0 && req.Attempt == 1 {
			panic(fmt.Sprintf("carrier bug on lead %d", req.LeadID))
		}
		return engine.CallResult{Outcome: engine.OutcomeAnswered}
	}
	spec := specBody("panics")
	spec.RetryPolicy.RetryOn = []string{"failed"}
	spec.RetryPolicy.BackoffMinutes = 0
	c := h.campaignWithLeads(spec, 9)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c, 10)
	h.check(c)
	atts, err := h.e.Attempts(fmt.Sprint(c.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	panicked := 0
	for _, a := range atts {
		if a.LeadID%3 == 0 && a.Attempt == 1 {
			panicked++
			want := fmt.Sprintf("internal error placing the call: carrier bug on lead %d", a.LeadID)
			if a.Outcome != engine.OutcomeFailed || a.Reason != want {
				t.Errorf("lead %d attempt 1: %s %q, want failed %q", a.LeadID, a.Outcome, a.Reason, want)
			}
		} else if a.Outcome != engine.OutcomeAnswered || strings.Contains(a.Reason, "internal error") {
			t.Errorf("lead %d attempt %d: %s %q, want answered", a.LeadID, a.Attempt, a.Outcome, a.Reason)
		}
	}
	r := h.report(c)
	if panicked != 3 || len(atts) != 12 || r.ByStatus[engine.LeadDone] != 9 {
		t.Fatalf("%d panicked attempts of %d (want 3 of 12), report %+v", panicked, len(atts), r)
	}
}
