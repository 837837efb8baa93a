package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/storage"
)

// placed is one call the test placer received, with the virtual time.
type placed struct {
	req engine.CallRequest
	at  time.Time
}

// testPlacer records calls; result decides each outcome. With hold set,
// calls block until released (or their context ends).
type testPlacer struct {
	clock  *engine.FakeClock
	result func(engine.CallRequest) engine.CallResult
	hold   bool

	mu        sync.Mutex
	calls     []placed
	active    int
	maxActive int
	release   chan struct{}
}

func (p *testPlacer) Place(ctx context.Context, req engine.CallRequest) engine.CallResult {
	p.mu.Lock()
	p.calls = append(p.calls, placed{req, p.clock.Now()})
	p.active++
	if p.active > p.maxActive {
		p.maxActive = p.active
	}
	rel, hold := p.release, p.hold
	p.mu.Unlock()
	defer func() { p.mu.Lock(); p.active--; p.mu.Unlock() }()
	if hold {
		select {
		case <-rel:
		case <-ctx.Done():
			return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "hung up"}
		}
	}
	if p.result == nil {
		return engine.CallResult{Outcome: engine.OutcomeAnswered}
	}
	return p.result(req)
}

// releaseAll lets every held call end. It first waits (bounded) until every
// call the engine launched has reached the placer, so none is left holding.
func (p *testPlacer) releaseAll() {
	p.releaseWhen(nil)
}

func (p *testPlacer) releaseWhen(e *engine.Engine) {
	deadline := time.Now().Add(5 * time.Second)
	for e != nil && p.activeNow() < e.ActiveCount(0) && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	p.mu.Lock()
	close(p.release)
	p.release = make(chan struct{})
	p.mu.Unlock()
}

func (p *testPlacer) placedCalls() []placed {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]placed(nil), p.calls...)
}

func (p *testPlacer) activeNow() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

type harness struct {
	t      testing.TB
	e      *engine.Engine
	store  *storage.Store
	clock  *engine.FakeClock
	placer *testPlacer
	opts   engine.Options
}

// monday10 is Monday 2026-12-07 10:00 in Asia/Kolkata.
var monday10 = time.Date(2026, 12, 7, 4, 30, 0, 0, time.UTC)

func newHarness(t testing.TB, org int, mod func(*engine.Options)) *harness {
	t.Helper()
	st, err := storage.Open(filepath.Join(t.TempDir(), "t.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := engine.NewFakeClock(monday10)
	p := &testPlacer{clock: clock, release: make(chan struct{})}
	opts := engine.Options{
		Store: st, Placer: p, Clock: clock, OrgMaxConcurrent: org, TickInterval: 15 * time.Second,
		Agents: []engine.Agent{
			{ID: "agent_xxx", Prompt: "You're calling {{first_name}} from {{company}}", WelcomeMessage: "Hi {{ first_name }}", Analysis: true},
			{ID: "plain", Prompt: "hello"},
		},
		Numbers: []engine.Number{{ID: "pn_xxx", CallerID: "+14155550100", CallsPerSecond: 0}}, // unpaced; pacing has its own test,
	}
	if mod != nil {
		mod(&opts)
	}
	e, err := engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, store: st, clock: clock, placer: p, opts: opts}
	t.Cleanup(func() {
		p.mu.Lock()
		p.hold = false
		p.mu.Unlock()
		p.releaseAll()
		e.Shutdown()
		st.Close()
	})
	return h
}

// reopen builds a new engine over the same store, as a restart would.
func (h *harness) reopen() {
	h.t.Helper()
	e, err := engine.New(h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.e = e
}

func specBody(name string) engine.CampaignSpec {
	return engine.CampaignSpec{
		Name: name, AgentID: "agent_xxx", PhoneNumberID: "pn_xxx", MaxConcurrent: 5,
		Schedule:    engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "10:00", WindowEnd: "18:00", Weekdays: []int{1, 2, 3, 4, 5}},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: 3, BackoffMinutes: 60, RetryOn: []string{"no_answer", "busy"}},
		WebhookURL:  "http://127.0.0.1:9/webhooks/osmtalk",
	}
}

// campaignWithLeads creates a campaign and imports n Indian mobile numbers.
func (h *harness) campaignWithLeads(spec engine.CampaignSpec, n int) *engine.Campaign {
	h.t.Helper()
	c, err := h.e.CreateCampaign(spec)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("phone,first_name,company\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "+9198765%05d,Lead%d,Acme\n", i, i)
	}
	sum, err := h.e.ImportLeads(fmt.Sprint(c.ID), strings.NewReader(b.String()), engine.ImportOptions{Region: "IN"})
	if err != nil {
		h.t.Fatal(err)
	}
	if sum.Imported != n {
		h.t.Fatalf("imported %d of %d: %+v", sum.Imported, n, sum.Errors)
	}
	return c
}

func (h *harness) tick() {
	h.t.Helper()
	if err := h.e.Tick(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// settle waits until every placed call has been recorded.
func (h *harness) settle() { h.e.WaitCalls() }

// release ends every held call once all of them reached the placer.
func (h *harness) release() { h.placer.releaseWhen(h.e) }

func (h *harness) report(c *engine.Campaign) *engine.Report {
	h.t.Helper()
	r, err := h.e.Report(fmt.Sprint(c.ID))
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) state(c *engine.Campaign) engine.CampaignState {
	h.t.Helper()
	cur, err := h.e.Campaign(fmt.Sprint(c.ID))
	if err != nil {
		h.t.Fatal(err)
	}
	return cur.State
}

func (h *harness) check(c *engine.Campaign) {
	h.t.Helper()
	probs, err := h.e.Check(c.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(probs) > 0 {
		h.t.Fatalf("invariants broken: %v", probs)
	}
}

// runToEnd ticks (advancing the clock a tick each time) until the campaign
// leaves running, at most max ticks.
func (h *harness) runToEnd(c *engine.Campaign, max int) {
	h.t.Helper()
	for i := 0; i < max; i++ {
		h.tick()
		h.settle()
		if s := h.state(c); s != engine.StateRunning {
			return
		}
		h.clock.Advance(15 * time.Second)
	}
	h.t.Fatalf("campaign still running after %d ticks: %+v", max, h.report(c))
}
