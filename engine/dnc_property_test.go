package engine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// dncOutcome is the placer's answer for one call: a pure function of the
// seed and the call, so it can be recomputed when checking (the placer runs
// on the engine's goroutines).
func dncOutcome(seed uint64, req engine.CallRequest) engine.CallResult {
	r := rand.New(rand.NewPCG(seed, req.CampaignID<<48^req.LeadID<<16^uint64(req.Attempt)))
	switch x := r.IntN(100); {
	case x < 30:
		return engine.CallResult{Outcome: engine.OutcomeNoAnswer}
	case x < 45:
		return engine.CallResult{Outcome: engine.OutcomeBusy}
	case x < 60:
		return engine.CallResult{Outcome: engine.OutcomeAnswered, Answered: true,
			Analysis: &engine.Analysis{NextAction: engine.ActionDoNotCall, Summary: "stop calling"}}
	default:
		return engine.CallResult{Outcome: engine.OutcomeAnswered, Answered: true,
			Analysis: &engine.Analysis{NextAction: engine.ActionNotInterested}}
	}
}

// TestDNCProperty: random DNC adds and removes interleaved with ticks, over
// campaigns whose leads share numbers. The test keeps its own model of the
// DNC list; DNC changes happen only between settled ticks, so the list at
// a tick's start is the list at every claim in that tick. Checked:
//   - no call is placed to a number on the list when its tick began;
//   - a do_not_call outcome puts the number on the list, and it is never
//     called again in any campaign (the test never removes those numbers);
//   - the engine's list equals the model after every tick.
func TestDNCProperty(t *testing.T) {
	const seeds, ticks, pool = 6, 50, 16
	var totalCalls, totalBlocked, totalDNCOutcomes, totalOps int
	for s := range seeds {
		seed := uint64(0xd0c0 + s)
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			h := newHarness(t, 20, nil)
			h.placer.result = func(req engine.CallRequest) engine.CallResult { return dncOutcome(seed, req) }
			number := func(i int) string { return fmt.Sprintf("+9198765%05d", i) }

			// Three or four campaigns over the first 6..pool numbers: the
			// low numbers are in every campaign.
			var camps []*engine.Campaign
			for i := range 3 + r.IntN(2) {
				spec := specBody(fmt.Sprint("c", i))
				spec.MaxConcurrent = 1 + r.IntN(4)
				spec.RetryPolicy = engine.RetryPolicy{MaxAttempts: 1 + r.IntN(4), BackoffMinutes: 5 + r.IntN(20),
					RetryOn: []string{"no_answer", "busy"}}
				camps = append(camps, h.campaignWithLeads(spec, 6+r.IntN(pool-5)))
			}
			started := make([]bool, len(camps))

			model := map[string]bool{}   // what the DNC list should hold
			forever := map[string]bool{} // added by a do_not_call outcome
			seen := 0
			blocked := 0
			for tick := range ticks {
				// Random DNC changes, never touching do_not_call numbers.
				for range r.IntN(3) {
					p := number(r.IntN(pool))
					if forever[p] {
						continue
					}
					if r.IntN(2) == 0 {
						if _, err := h.e.DNCAdd([]string{p}, "", "test"); err != nil {
							t.Fatal(err)
						}
						model[p] = true
					} else {
						if _, err := h.e.DNCRemove([]string{p}, ""); err != nil {
							t.Fatal(err)
						}
						delete(model, p)
					}
					totalOps++
				}
				// Campaigns start at random ticks.
				for i, c := range camps {
					if !started[i] && (tick == 0 && i == 0 || r.IntN(4) == 0) {
						if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
							t.Fatal(err)
						}
						started[i] = true
					}
				}
				atClaim := map[string]bool{}
				for p := range model {
					atClaim[p] = true
				}
				h.tick()
				h.settle()
				calls := h.placer.placedCalls()
				for _, pc := range calls[seen:] {
					if atClaim[pc.req.Phone] {
						t.Fatalf("tick %d: campaign %d lead %d attempt %d dialed %s, on the DNC list at claim time (forever=%v)",
							tick, pc.req.CampaignID, pc.req.LeadID, pc.req.Attempt, pc.req.Phone, forever[pc.req.Phone])
					}
					if res := dncOutcome(seed, pc.req); res.Analysis != nil && res.Analysis.NextAction == engine.ActionDoNotCall {
						model[pc.req.Phone], forever[pc.req.Phone] = true, true
						totalDNCOutcomes++
					}
				}
				seen = len(calls)
				for i := range pool {
					p := number(i)
					on, err := h.e.OnDNC(p)
					if err != nil {
						t.Fatal(err)
					}
					if on != model[p] {
						t.Fatalf("tick %d: engine says %s on DNC = %v, model says %v (do_not_call: %v)", tick, p, on, model[p], forever[p])
					}
				}
				h.clock.Advance(5 * time.Minute)
			}
			// Every do_not_call number was dialed for the last time by the
			// call that returned it.
			calls := h.placer.placedCalls()
			for p := range forever {
				last := -1
				for i, pc := range calls {
					if pc.req.Phone == p {
						last = i
					}
				}
				if res := dncOutcome(seed, calls[last].req); res.Analysis == nil || res.Analysis.NextAction != engine.ActionDoNotCall {
					// Calls in the same tick may end in any order; the
					// per-tick check above already proved no later tick
					// dialed it. Accept only a same-tick sibling.
					if !slices.ContainsFunc(calls, func(pc placed) bool {
						r := dncOutcome(seed, pc.req)
						return pc.req.Phone == p && pc.at.Equal(calls[last].at) && r.Analysis != nil && r.Analysis.NextAction == engine.ActionDoNotCall
					}) {
						t.Fatalf("%s was dialed after a do_not_call outcome", p)
					}
				}
			}
			for _, c := range camps {
				r := h.report(c)
				blocked += int(r.ByDisposition[engine.DispDNC])
				h.check(c)
			}
			totalCalls += len(calls)
			totalBlocked += blocked
		})
	}
	t.Logf("%d seeds x %d ticks: %d calls placed, %d DNC changes, %d do_not_call outcomes, %d leads with disposition dnc; none dialed while listed",
		seeds, ticks, totalCalls, totalOps, totalDNCOutcomes, totalBlocked)
}
