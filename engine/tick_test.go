package engine_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func TestConcurrencyNeverAboveCampaignOrOrg(t *testing.T) {
	h := newHarness(t, 5, nil)
	h.placer.hold = true
	a := specBody("a")
	a.MaxConcurrent = 4
	b := specBody("b")
	b.MaxConcurrent = 3
	ca := h.campaignWithLeads(a, 20)
	cb := h.campaignWithLeads(b, 20)
	for _, c := range []*engine.Campaign{ca, cb} {
		if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 12; round++ {
		h.tick()
		h.tick() // a second tick with calls live must not add any
		if n := h.e.ActiveCount(0); n > 5 {
			t.Fatalf("round %d: %d live calls, org max 5", round, n)
		}
		if n := h.e.ActiveCount(ca.ID); n > 4 {
			t.Fatalf("campaign a: %d live calls, max 4", n)
		}
		if n := h.e.ActiveCount(cb.ID); n > 3 {
			t.Fatalf("campaign b: %d live calls, max 3", n)
		}
		if n := h.e.ActiveCount(0); n != 5 && round < 5 { // campaign a runs out after 5 rounds
			t.Fatalf("round %d: org capacity left unused: %d live", round, n)
		}
		h.release()
		h.settle()
		h.clock.Advance(15 * time.Second)
	}
	if h.placer.maxActive > 5 {
		t.Fatalf("placer saw %d calls at once", h.placer.maxActive)
	}
	// Every lead was claimed exactly once.
	seen := map[string]int{}
	for _, p := range h.placer.placedCalls() {
		seen[fmt.Sprint(p.req.CampaignID, "/", p.req.LeadID)]++
	}
	if len(seen) != 40 {
		t.Fatalf("%d distinct leads placed, want 40", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("lead %s placed %d times", k, n)
		}
	}
	h.check(ca)
	h.check(cb)
}

func TestBackoffRetriesAndMaxAttempts(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.placer.result = func(engine.CallRequest) engine.CallResult {
		return engine.CallResult{Outcome: engine.OutcomeNoAnswer}
	}
	c := h.campaignWithLeads(specBody("backoff"), 1)
	ref := fmt.Sprint(c.ID)
	if err := h.e.Start(ref); err != nil {
		t.Fatal(err)
	}
	t0 := h.clock.Now()
	h.tick()
	h.settle()
	w, err := h.e.WhyNot(c.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if w.Gate != engine.GateBackoff || w.Until == nil || !w.Until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a no_answer: %+v, want backoff until %s", w, t0.Add(time.Hour))
	}
	h.clock.Set(t0.Add(59 * time.Minute))
	h.tick()
	h.settle()
	if n := len(h.placer.placedCalls()); n != 1 {
		t.Fatalf("retried during backoff: %d calls", n)
	}
	h.clock.Set(t0.Add(time.Hour))
	h.tick()
	h.settle()
	if n := len(h.placer.placedCalls()); n != 2 {
		t.Fatalf("not retried at the end of backoff: %d calls", n)
	}
	h.clock.Set(t0.Add(2 * time.Hour))
	h.tick()
	h.settle()
	h.clock.Set(t0.Add(5 * time.Hour))
	h.tick()
	h.settle()
	if n := len(h.placer.placedCalls()); n != 3 {
		t.Fatalf("maxAttempts 3: %d calls", n)
	}
	r := h.report(c)
	if r.State != engine.StateCompleted || r.ByDisposition[engine.DispNoAnswer] != 1 || r.Attempts != 3 {
		t.Fatalf("after 3 no_answers: %+v", r)
	}
	w, _ = h.e.WhyNot(c.ID, 1)
	if w.Gate != engine.GateAttempts {
		t.Fatalf("why-not after the last attempt: %+v", w)
	}
	h.check(c)
}

func TestRetryPushedToNextWindowOpen(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.placer.result = func(engine.CallRequest) engine.CallResult { return engine.CallResult{Outcome: engine.OutcomeBusy} }
	c := h.campaignWithLeads(specBody("late"), 1)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	// Friday 17:30 in Kolkata: a 60-minute backoff ends after the 18:00 close,
	// and the weekend is closed, so the retry is Monday 10:00.
	fri := time.Date(2026, 12, 11, 17, 30, 0, 0, mustZone(t, "Asia/Kolkata"))
	h.clock.Set(fri)
	h.tick()
	h.settle()
	w, _ := h.e.WhyNot(c.ID, 1)
	want := time.Date(2026, 12, 14, 10, 0, 0, 0, mustZone(t, "Asia/Kolkata"))
	if w.Until == nil || !w.Until.Equal(want) {
		t.Fatalf("retry at %v, want %v (%+v)", w.Until, want, w)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestPendingBeforeRetries(t *testing.T) {
	h := newHarness(t, 10, nil)
	first := true
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		if first {
			first = false
			return engine.CallResult{Outcome: engine.OutcomeBusy}
		}
		return engine.CallResult{Outcome: engine.OutcomeAnswered}
	}
	spec := specBody("order")
	spec.MaxConcurrent = 1
	spec.RetryPolicy.BackoffMinutes = 0
	c := h.campaignWithLeads(spec, 3)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		h.tick()
		h.settle()
		h.clock.Advance(15 * time.Second)
	}
	var order []uint64
	for _, p := range h.placer.placedCalls() {
		order = append(order, p.req.LeadID)
	}
	// Lead 1 is busy and due again at once, but leads 2 and 3 are pending.
	if fmt.Sprint(order) != "[1 2 3 1]" {
		t.Fatalf("dial order %v, want [1 2 3 1]", order)
	}
}

func TestDNCAddedMidCampaignIsNeverDialed(t *testing.T) {
	h := newHarness(t, 10, nil)
	spec := specBody("dnc")
	spec.MaxConcurrent = 2
	c := h.campaignWithLeads(spec, 6)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.settle()
	// Leads 1-2 are dialed; now lead 5's number goes on the list.
	if _, err := h.e.DNCAdd([]string{"+919876500004"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c, 20)
	for _, p := range h.placer.placedCalls() {
		if p.req.Phone == "+919876500004" {
			t.Fatalf("a DNC number was dialed (lead %d)", p.req.LeadID)
		}
	}
	r := h.report(c)
	if r.ByDisposition[engine.DispDNC] != 1 || r.ByStatus[engine.LeadDone] != 6 {
		t.Fatalf("report: %+v", r)
	}
	w, _ := h.e.WhyNot(c.ID, 5)
	if w.Gate != engine.GateDNC {
		t.Fatalf("why-not for the blocked lead: %+v", w)
	}
	h.check(c)
}

func TestDoNotCallOutcomeAddsToDNCForEveryCampaign(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		return engine.CallResult{Outcome: engine.OutcomeAnswered, Analysis: &engine.Analysis{NextAction: engine.ActionDoNotCall, Summary: "stop calling"}}
	}
	c1 := h.campaignWithLeads(specBody("one"), 1)
	c2 := h.campaignWithLeads(specBody("two"), 1) // the same number
	if err := h.e.Start(fmt.Sprint(c1.ID)); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c1, 5)
	if on, _ := h.e.OnDNC("+919876500000"); !on {
		t.Fatal("do_not_call did not add the number to the DNC list")
	}
	if w, _ := h.e.WhyNot(c1.ID, 1); w.Gate != engine.GateDNC || !strings.Contains(w.Message, "DNC list (after 1 attempts)") {
		t.Fatalf("why-not after do_not_call: %+v", w)
	}
	if err := h.e.Start(fmt.Sprint(c2.ID)); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c2, 5)
	if n := len(h.placer.placedCalls()); n != 1 {
		t.Fatalf("the number was called %d times across campaigns, want 1", n)
	}
	if r := h.report(c2); r.ByDisposition[engine.DispDNC] != 1 {
		t.Fatalf("second campaign: %+v", r.ByDisposition)
	}
}

func TestCallbackRequeuesAtCallbackTime(t *testing.T) {
	h := newHarness(t, 10, nil)
	cb := monday10.Add(3 * time.Hour)
	calls := 0
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		calls++
		if calls == 1 {
			return engine.CallResult{Outcome: engine.OutcomeAnswered, Analysis: &engine.Analysis{NextAction: engine.ActionCallback, CallbackAt: &cb}}
		}
		return engine.CallResult{Outcome: engine.OutcomeAnswered, Analysis: &engine.Analysis{LeadQualified: true, NextAction: engine.ActionQualified}}
	}
	c := h.campaignWithLeads(specBody("cb"), 1)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.settle()
	w, _ := h.e.WhyNot(c.ID, 1)
	if w.Until == nil || !w.Until.Equal(cb) || w.Disposition != engine.DispCallback {
		t.Fatalf("callback not queued at %v: %+v", cb, w)
	}
	h.clock.Set(cb)
	h.tick()
	h.settle()
	if r := h.report(c); r.State != engine.StateCompleted || r.ByDisposition[engine.DispQualified] != 1 {
		t.Fatalf("after the callback: %+v", r)
	}
}

func TestCompletesAndFails(t *testing.T) {
	h := newHarness(t, 10, nil)
	c := h.campaignWithLeads(specBody("ok"), 4)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c, 3)
	if r := h.report(c); r.State != engine.StateCompleted || r.Terminal != 4 || r.ByDisposition[engine.DispAnswered] != 4 {
		t.Fatalf("want completed with 4 answered: %+v", r)
	}

	h.placer.result = func(engine.CallRequest) engine.CallResult {
		return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "agent down"}
	}
	spec := specBody("bad")
	spec.RetryPolicy = engine.RetryPolicy{MaxAttempts: 2, BackoffMinutes: 1, RetryOn: []string{"failed"}}
	c2 := h.campaignWithLeads(spec, 3)
	if err := h.e.Start(fmt.Sprint(c2.ID)); err != nil {
		t.Fatal(err)
	}
	h.runToEnd(c2, 20)
	r := h.report(c2)
	if r.State != engine.StateFailed || r.Attempts != 6 {
		t.Fatalf("want failed after 2 attempts each: %+v", r)
	}
	h.check(c2)
}

func TestPausedCampaignPlacesNothing(t *testing.T) {
	h := newHarness(t, 10, nil)
	spec := specBody("pause")
	spec.MaxConcurrent = 1
	c := h.campaignWithLeads(spec, 5)
	ref := fmt.Sprint(c.ID)
	if err := h.e.Start(ref); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.settle()
	if err := h.e.Pause(ref); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		h.clock.Advance(15 * time.Second)
		h.tick()
		h.settle()
	}
	if n := len(h.placer.placedCalls()); n != 1 {
		t.Fatalf("%d calls while paused, want 1 (before the pause)", n)
	}
	w, _ := h.e.WhyNot(c.ID, 2)
	if w.Gate != engine.GateNotRunning {
		t.Fatalf("why-not while paused: %+v", w)
	}
	if err := h.e.Resume(ref); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.settle()
	if n := len(h.placer.placedCalls()); n != 2 {
		t.Fatalf("%d calls after resume, want 2", n)
	}
}

func TestStopHangsUpLiveCalls(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.placer.hold = true
	c := h.campaignWithLeads(specBody("stop"), 5)
	ref := fmt.Sprint(c.ID)
	if err := h.e.Start(ref); err != nil {
		t.Fatal(err)
	}
	h.tick()
	if n := h.e.ActiveCount(c.ID); n != 5 {
		t.Fatalf("%d live calls", n)
	}
	if err := h.e.Stop(ref); err != nil {
		t.Fatal(err)
	}
	h.settle() // returns only because Stop hung the calls up
	r := h.report(c)
	if r.State != engine.StateCompleted || r.Active != 0 || r.ByStatus[engine.LeadDialing] != 0 {
		t.Fatalf("after stop: %+v", r)
	}
	h.check(c)
}

func TestRestartReconcilesInflightCalls(t *testing.T) {
	h := newHarness(t, 10, nil)
	spec := specBody("crash")
	spec.RetryPolicy.RetryOn = []string{"failed"}
	c := h.campaignWithLeads(spec, 3)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	// What a claim commits before the call is placed, then the process dies.
	err := h.store.Update(func(tx engine.Tx) error {
		l, err := tx.Lead(c.ID, 2)
		if err != nil {
			return err
		}
		l.Status, l.Attempts, l.LastAt = engine.LeadDialing, 1, h.clock.Now()
		return tx.PutLead(c.ID, l)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.reopen()
	atts, err := h.e.Attempts(fmt.Sprint(c.ID), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || atts[0].Outcome != engine.OutcomeFailed || atts[0].Reason == "" {
		t.Fatalf("reconciled attempts: %+v", atts)
	}
	w, _ := h.e.WhyNot(c.ID, 2)
	if w.Status != engine.LeadRetry || w.Attempts != 1 {
		t.Fatalf("reconciled lead should be retried per policy: %+v", w)
	}
	h.check(c)
}

func TestNumberCallsPerSecondPacesStarts(t *testing.T) {
	h := newHarness(t, 50, func(o *engine.Options) { o.Numbers[0].CallsPerSecond = 2 })
	spec := specBody("paced")
	spec.MaxConcurrent = 50
	c := h.campaignWithLeads(spec, 40)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	t0 := h.clock.Now()
	h.tick()
	// A 15 s tick at 2 calls/s has room for 31 starts (t0, t0+0.5s, ... t0+15s).
	for i := 0; i < 40; i++ {
		// Let the calls due by now reach the placer before time moves on.
		deadline := time.Now().Add(5 * time.Second)
		for len(h.placer.placedCalls()) < min(i+1, 31) && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		h.clock.Advance(500 * time.Millisecond)
	}
	h.settle()
	calls := h.placer.placedCalls()
	if len(calls) == 0 || len(calls) > 31 {
		t.Fatalf("%d calls started in one tick at 2/s", len(calls))
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].at.Before(calls[j].at) })
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].at.Sub(calls[i-1].at); gap < 500*time.Millisecond {
			t.Fatalf("calls %d and %d started %v apart, under 1/2 s", i-1, i, gap)
		}
	}
	_ = t0
}

// TestNoCallOutsideWindowProperty drives random campaigns over random weeks
// and checks that every call starts inside the window, in the campaign zone.
func TestNoCallOutsideWindowProperty(t *testing.T) {
	zones := []string{"America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "Europe/London", "America/St_Johns", "Pacific/Chatham", "UTC"}
	r := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 12; trial++ {
		h := newHarness(t, 10, nil)
		h.placer.result = func(engine.CallRequest) engine.CallResult {
			return engine.CallResult{Outcome: engine.OutcomeNoAnswer}
		}
		spec := specBody(fmt.Sprint("p", trial))
		spec.Schedule = engine.Schedule{
			Timezone:    zones[r.IntN(len(zones))],
			WindowStart: fmt.Sprintf("%02d:%02d", r.IntN(24), r.IntN(4)*15),
			WindowEnd:   fmt.Sprintf("%02d:%02d", r.IntN(24), r.IntN(4)*15),
		}
		for d := 1; d <= 7; d++ {
			if r.IntN(2) == 0 {
				spec.Schedule.Weekdays = append(spec.Schedule.Weekdays, d)
			}
		}
		if len(spec.Schedule.Weekdays) == 0 {
			spec.Schedule.Weekdays = []int{r.IntN(7) + 1}
		}
		spec.RetryPolicy = engine.RetryPolicy{MaxAttempts: 5, BackoffMinutes: r.IntN(180), RetryOn: []string{"no_answer"}}
		spec.MaxConcurrent = 3
		c := h.campaignWithLeads(spec, 10)
		if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
			t.Fatal(err)
		}
		win, err := engine.NewWindow(spec.Schedule)
		if err != nil {
			t.Fatal(err)
		}
		// Around the 2026 DST changes too.
		start := []time.Time{time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC), monday10}[trial%3]
		h.clock.Set(start)
		for step := 0; step < 2000; step++ {
			h.tick()
			h.settle()
			h.clock.Advance(time.Duration(1+r.IntN(20)) * time.Minute)
		}
		calls := h.placer.placedCalls()
		if len(calls) == 0 {
			t.Fatalf("trial %d (%s): no call placed in ~3 weeks", trial, win)
		}
		for _, p := range calls {
			if !win.Open(p.at) {
				t.Fatalf("trial %d: call at %s (%s) outside window %s", trial, p.at, p.at.In(win.Location()), win)
			}
		}
		h.check(c)
	}
}

// advanceSlowly moves the fake clock in small steps, letting queued calls
// (waiting for their calls-per-second slot) run between steps.
func (h *harness) advanceSlowly(total, step time.Duration) {
	for d := time.Duration(0); d < total; d += step {
		h.clock.Advance(step)
		time.Sleep(time.Millisecond) // let woken goroutines reach the placer
	}
}

func TestQueuedCallsNotPlacedAfterWindowCloses(t *testing.T) {
	h := newHarness(t, 50, func(o *engine.Options) { o.Numbers[0].CallsPerSecond = 0.5 })
	spec := specBody("closing")
	spec.MaxConcurrent = 50
	spec.Schedule = engine.Schedule{Timezone: "UTC", WindowStart: "10:00", WindowEnd: "18:00", Weekdays: []int{1, 2, 3, 4, 5, 6, 7}}
	c := h.campaignWithLeads(spec, 20)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 7, 17, 59, 50, 0, time.UTC))
	h.tick()
	h.advanceSlowly(30*time.Second, 500*time.Millisecond)
	h.settle()
	closeAt := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for _, p := range h.placer.placedCalls() {
		if !p.at.Before(closeAt) {
			t.Fatalf("call placed at %s, after the window closed", p.at)
		}
	}
	if n := len(h.placer.placedCalls()); n == 0 || n > 5 {
		t.Fatalf("%d calls in the last 10 s at 0.5/s", n)
	}
	h.check(c)
	if r := h.report(c); r.ByStatus[engine.LeadDialing] != 0 {
		t.Fatalf("leads left dialing: %+v", r.ByStatus)
	}
}

func TestQueuedCallsNotPlacedAfterPauseOrDNC(t *testing.T) {
	h := newHarness(t, 50, func(o *engine.Options) { o.Numbers[0].CallsPerSecond = 0.5 })
	spec := specBody("queued")
	spec.MaxConcurrent = 50
	c := h.campaignWithLeads(spec, 8)
	ref := fmt.Sprint(c.ID)
	if err := h.e.Start(ref); err != nil {
		t.Fatal(err)
	}
	h.tick() // claims 8, one placed now, the rest queued 2 s apart
	if _, err := h.e.DNCAdd([]string{"+919876500001"}, "", "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceSlowly(2*time.Second+100*time.Millisecond, 100*time.Millisecond)
	if err := h.e.Pause(ref); err != nil {
		t.Fatal(err)
	}
	h.advanceSlowly(20*time.Second, 500*time.Millisecond)
	h.settle()
	calls := h.placer.placedCalls()
	if len(calls) != 1 {
		t.Fatalf("%d calls placed; want only the first (lead 2 joined DNC, then the campaign paused)", len(calls))
	}
	r := h.report(c)
	if r.ByStatus[engine.LeadDialing] != 0 || r.Attempts != 1 {
		t.Fatalf("queued leads should get their attempt back: %+v", r)
	}
	h.check(c)
}

func TestDNCClosuresPerTickAreBounded(t *testing.T) {
	h := newHarness(t, 10, nil)
	c := h.campaignWithLeads(specBody("alldnc"), 1500)
	var nums []string
	for i := 0; i < 1500; i++ {
		nums = append(nums, fmt.Sprintf("+9198765%05d", i))
	}
	if _, err := h.e.DNCAdd(nums, "", "test"); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.tick()
	if r := h.report(c); r.ByDisposition[engine.DispDNC] != 1000 {
		t.Fatalf("first tick closed %d DNC leads, want the cap of 1000", r.ByDisposition[engine.DispDNC])
	}
	h.tick()
	if r := h.report(c); r.ByDisposition[engine.DispDNC] != 1500 || r.State != engine.StateCompleted {
		t.Fatalf("second tick: %+v", r)
	}
	if n := len(h.placer.placedCalls()); n != 0 {
		t.Fatalf("%d DNC numbers dialed", n)
	}
}

// A number the network says does not exist (SIP 404) is not dialed again even
// when retryOn lists "failed", and the attempt keeps the SIP code.
func TestPermanentFailureIsNotRetried(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		if req.LeadID == 1 {
			return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "number not reachable (404 Not Found)", SIPCode: 404, Permanent: true}
		}
		return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "503 Service Unavailable", SIPCode: 503}
	}
	spec := specBody("permanent")
	spec.RetryPolicy.RetryOn = []string{"failed"}
	c := h.campaignWithLeads(spec, 2)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	h.tick()
	h.settle()
	l1, _ := h.e.Attempts(fmt.Sprint(c.ID), 1)
	l2, _ := h.e.Attempts(fmt.Sprint(c.ID), 2)
	if len(l1) != 1 || l1[0].SIPCode != 404 || l1[0].NextAttemptAt != nil {
		t.Fatalf("lead 1 (404) attempts: %+v", l1)
	}
	if len(l2) != 1 || l2[0].SIPCode != 503 || l2[0].NextAttemptAt == nil {
		t.Fatalf("lead 2 (503) should be retried: %+v", l2)
	}
	w, err := h.e.WhyNot(c.ID, 1)
	if err != nil || w.Gate != engine.GateDone || !strings.Contains(w.Message, "number not reachable (404 Not Found)") ||
		strings.Contains(w.Message, "not in retryOn") || w.LastCall == nil || w.LastCall.SIPCode != 404 || !w.LastCall.Permanent {
		t.Fatalf("why-not for the 404 lead: %+v %v", w, err)
	}
	if got := w.LastCall.String(); got != "attempt 1 failed (SIP 404): number not reachable (404 Not Found)" {
		t.Errorf("last call line: %q", got)
	}
	// Stopped with lead 2 waiting for its retry: why-not must not suggest
	// it will be dialed again.
	if err := h.e.Stop(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	w, err = h.e.WhyNot(c.ID, 2)
	if err != nil || !strings.Contains(w.Message, "will not dial it again") || w.LastCall == nil || w.LastCall.SIPCode != 503 {
		t.Fatalf("why-not for a retry lead of a stopped campaign: %+v %v", w, err)
	}
	// The export carries the SIP code of each lead's last attempt.
	var out bytes.Buffer
	if _, err := h.e.Export(fmt.Sprint(c.ID), &out); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("export: %v %q", err, rows)
	}
	col := slices.Index(rows[0], "last_sip_code")
	if col < 0 || rows[1][col] != "404" || rows[2][col] != "503" {
		t.Fatalf("export last_sip_code column %d: %q", col, rows)
	}
	h.check(c)
}
