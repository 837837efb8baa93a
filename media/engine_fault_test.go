package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/storage"
)

// An engine-level fault run: a real engine over a real bbolt file places a
// campaign's calls through the real bridge (sim carrier, sim agent over
// WebRTC on loopback) while a share of first attempts fault in different
// ways. The engine must keep dialing the others within maxConcurrent, give
// every faulty attempt a reason, and finish every lead with a disposition.

// faultKind picks a lead's fault on its first attempt; second attempts are
// healthy, so every lead can end with a real call.
type faultKind int

const (
	faultNone          faultKind = iota
	faultNoAgent                 // the agent resolver fails
	faultCarrierSIP              // the trunk refuses: 503
	faultCarrierError            // the carrier's connection fails
	faultPanic                   // a carrier bug panics
	faultLegLost                 // the phone leg dies mid-call
	faultAgentSilent             // the agent accepts the POST and never answers
	faultHang                    // the carrier never returns until hung up
	faultResolverPanic           // answered, then the agent resolver panics
	faultRelayPanic              // answered and talking, then the phone leg's ReadRTP panics
	nFaultKinds
)

func kindOf(req engine.CallRequest) faultKind {
	if req.Attempt != 1 {
		return faultNone
	}
	return faultKind(req.LeadID % uint64(nFaultKinds))
}

// faultyCarrier wraps the sim carrier and plays each lead's fault.
type faultyCarrier struct {
	*SimCarrier
	hanging atomic.Int64
	// answered and hungUp count the phone legs that were answered and
	// the ones hung up since: every one must be, whatever the fault.
	answered, hungUp atomic.Int64
}

// Dial counts answered legs and their hang-ups around dial.
func (c *faultyCarrier) Dial(ctx context.Context, req engine.CallRequest, onState func(string)) (PhoneCall, error) {
	call, err := c.dial(ctx, req, onState)
	if err != nil {
		return nil, err
	}
	c.answered.Add(1)
	cc := &countedCall{PhoneCall: call, hungUp: &c.hungUp}
	if kindOf(req) == faultRelayPanic {
		cc.readPanicAfter = 10
	}
	return cc, nil
}

func (c *faultyCarrier) dial(ctx context.Context, req engine.CallRequest, onState func(string)) (PhoneCall, error) {
	switch kindOf(req) {
	case faultCarrierSIP:
		return nil, &DialError{Outcome: engine.OutcomeFailed, Reason: "503 Service Unavailable", SIPCode: 503}
	case faultCarrierError:
		return nil, errors.New("trunk connection reset")
	case faultPanic:
		panic(fmt.Sprintf("carrier bug on lead %d", req.LeadID))
	case faultHang:
		c.hanging.Add(1)
		defer c.hanging.Add(-1)
		onState("ringing")
		<-ctx.Done()
		return nil, fmt.Errorf("trunk never answered: %s", cause(ctx))
	case faultLegLost:
		call, err := c.SimCarrier.Dial(ctx, req, onState)
		if err != nil {
			return nil, err
		}
		return &droppingCall{PhoneCall: call, left: 10, err: errors.New("RTP stream lost")}, nil
	}
	return c.SimCarrier.Dial(ctx, req, onState)
}

// countingPlacer records the most calls the placer ever had at once.
type countingPlacer struct {
	engine.CallPlacer
	mu          sync.Mutex
	now, most   int
	perLeadLive map[uint64]int
	overlaps    int
}

func (p *countingPlacer) Place(ctx context.Context, req engine.CallRequest) engine.CallResult {
	p.mu.Lock()
	p.now++
	p.most = max(p.most, p.now)
	p.perLeadLive[req.LeadID]++
	if p.perLeadLive[req.LeadID] > 1 {
		p.overlaps++
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.now--
		p.perLeadLive[req.LeadID]--
		p.mu.Unlock()
	}()
	return p.CallPlacer.Place(ctx, req)
}

// silentAgent accepts offers and never answers them (until the test ends).
func silentAgent(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { close(stop); srv.Close() })
	return "http://" + ln.Addr().String() + "/v1/realtime"
}

func TestEngineKeepsDialingThroughFaults(t *testing.T) {
	noLeaks(t)
	const leads, maxConcurrent, maxAttempts = 32, 8, 2
	simCfg := answeredConfig()
	simCfg.TalkMin, simCfg.TalkMax = 200*time.Millisecond, 400*time.Millisecond
	// No callbacks: the sim asks for them on the wall clock, which the
	// engine's fake clock never reaches.
	simCfg.Agents = map[string]AgentOdds{"ag": {Qualified: 1, NotInterested: 1, DoNotCall: 1}}
	sim := NewSimPlacer(simCfg, nil)
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	silent := silentAgent(t)

	carrier := &faultyCarrier{SimCarrier: NewSimCarrier(sim)}
	bridge := NewBridge(carrier, func(req engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(agent.URL())
		c.Header = SimCallHeader(req)
		// Generous limits for healthy calls: on a loaded 2-core box under
		// -race one offer/answer has taken over 3 s.
		c.AnswerTimeout, c.ConnectTimeout, c.FirstAudioTimeout = 15*time.Second, 15*time.Second, 15*time.Second
		switch kindOf(req) {
		case faultResolverPanic:
			panic(fmt.Sprintf("agent resolver bug on lead %d", req.LeadID))
		case faultNoAgent:
			return AgentConfig{}, errors.New("agent ag is not configured")
		case faultAgentSilent:
			c.URL, c.AnswerTimeout = silent, 300*time.Millisecond
		}
		return c, nil
	}, nil)
	placer := &countingPlacer{CallPlacer: bridge, perLeadLive: map[uint64]int{}}

	st, err := storage.Open(filepath.Join(t.TempDir(), "faults.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := engine.NewFakeClock(time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC))
	opts := engine.Options{Store: st, Placer: placer, Clock: clock, OrgMaxConcurrent: 20,
		Agents:  []engine.Agent{{ID: "ag", Prompt: "You are calling {{first_name}}.", Analysis: true}},
		Numbers: []engine.Number{{ID: "pn", CallerID: "+14155550100"}}}
	e, err := engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.CreateCampaign(engine.CampaignSpec{Name: "faults", AgentID: "ag", PhoneNumberID: "pn", MaxConcurrent: maxConcurrent,
		Schedule:    engine.Schedule{Timezone: "UTC", WindowStart: "00:00", WindowEnd: "00:00", Weekdays: []int{1, 2, 3, 4, 5, 6, 7}},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: maxAttempts, BackoffMinutes: 0, RetryOn: []string{"failed"}},
		WebhookURL:  "http://127.0.0.1:9/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for i := range leads {
		fmt.Fprintf(&csv, "+1212555%04d,Lead%d\n", 1000+i, i)
	}
	ref := fmt.Sprint(c.ID)
	if sum, err := e.ImportLeads(ref, strings.NewReader(csv.String()), engine.ImportOptions{Region: "US"}); err != nil || sum.Imported != leads {
		t.Fatalf("import: %+v, %v", sum, err)
	}
	if err := e.Start(ref); err != nil {
		t.Fatal(err)
	}
	hangs := 0
	for id := uint64(1); id <= leads; id++ {
		if kindOf(engine.CallRequest{LeadID: id, Attempt: 1}) == faultHang {
			hangs++
		}
	}

	// Tick until every lead but the hung ones is done. Between ticks, wait
	// until the only live calls are the hung ones.
	report := func() *engine.Report {
		r, err := e.Report(ref)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	start := time.Now()
	for ticks := 0; ; ticks++ {
		if err := e.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		for e.ActiveCount(0) > int(carrier.hanging.Load()) || e.ActiveCount(0) > hangs {
			if time.Since(start) > 60*time.Second {
				t.Fatalf("calls still live after %v: %d (hanging %d)", time.Since(start), e.ActiveCount(0), carrier.hanging.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		r := report()
		if r.ByStatus[engine.LeadDone] == uint64(leads-hangs) && e.ActiveCount(0) == hangs {
			break
		}
		if ticks > 50 {
			t.Fatalf("not settled after %d ticks: %+v, %d live", ticks, r, e.ActiveCount(0))
		}
		clock.Advance(15 * time.Second)
	}
	// The hung calls still hold their slots; everyone else was dialed
	// through the slots left. Now the operator quits: the hung calls are
	// hung up and recorded, and a restarted engine redials them.
	if n := carrier.hanging.Load(); n != int64(hangs) {
		t.Fatalf("%d calls hanging, want %d", n, hangs)
	}
	e.Shutdown()
	e, err = engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for ticks := 0; report().ByStatus[engine.LeadDone] != leads; ticks++ {
		if ticks > 10 {
			t.Fatalf("hung leads not redialed: %+v", report())
		}
		clock.Advance(15 * time.Second)
		if err := e.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.WaitCalls()
	}
	e.Shutdown()

	if probs, err := e.Check(c.ID); err != nil || len(probs) > 0 {
		t.Fatalf("check: %v %v", probs, err)
	}
	// No phone leg outlived its call, panics included, and no agent
	// session was left open.
	if a, h := carrier.answered.Load(), carrier.hungUp.Load(); a == 0 || a != h {
		t.Fatalf("%d phone legs answered, %d hung up", a, h)
	}
	for i := 0; agent.Sessions() > 0 && i < 150; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := agent.Sessions(); n != 0 {
		t.Fatalf("%d agent sessions left open", n)
	}
	placer.mu.Lock()
	most, overlaps := placer.most, placer.overlaps
	placer.mu.Unlock()
	if most > maxConcurrent || overlaps > 0 {
		t.Fatalf("placer saw %d calls at once (max %d), %d overlapping calls of one lead", most, maxConcurrent, overlaps)
	}
	atts, err := e.Attempts(ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[faultKind]string{
		faultNoAgent:       "agent ag is not configured",
		faultCarrierSIP:    "503 Service Unavailable",
		faultCarrierError:  "carrier: trunk connection reset",
		faultPanic:         "internal error placing the call (see log, id ",
		faultLegLost:       "phone leg lost: RTP stream lost",
		faultAgentSilent:   "agent did not answer the offer: answer timeout after 300ms",
		faultHang:          "carrier: trunk never answered: campaign stopped or dialdeck shutting down",
		faultResolverPanic: "internal error placing the call (see log, id ",
		faultRelayPanic:    "internal error relaying the call's audio (see log, id ",
	}
	perLead := map[uint64]int{}
	byKind := map[faultKind]int{}
	for _, a := range atts {
		perLead[a.LeadID]++
		k := kindOf(engine.CallRequest{LeadID: a.LeadID, Attempt: a.Attempt})
		byKind[k]++
		if k == faultNone {
			if a.Outcome != engine.OutcomeAnswered || a.Reason != "agent ended the call" || a.Analysis == nil {
				t.Errorf("lead %d attempt %d: %s %q, want an answered call the agent ended", a.LeadID, a.Attempt, a.Outcome, a.Reason)
			}
			continue
		}
		if a.Outcome != engine.OutcomeFailed || !strings.HasPrefix(a.Reason, want[k]) {
			t.Errorf("lead %d attempt %d (fault %d): %s %q, want failed %q", a.LeadID, a.Attempt, k, a.Outcome, a.Reason, want[k])
		}
		if k == faultCarrierSIP && a.SIPCode != 503 {
			t.Errorf("lead %d: SIP code %d, want 503", a.LeadID, a.SIPCode)
		}
	}
	leadsList, err := e.Leads(c.ID, 0, leads+1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leadsList {
		if l.Status != engine.LeadDone || l.Disposition == engine.DispNone || perLead[l.ID] > maxAttempts {
			t.Errorf("lead %d: %s %q after %d attempts", l.ID, l.Status, l.Disposition, perLead[l.ID])
		}
	}
	for k := faultNoAgent; k < nFaultKinds; k++ {
		if byKind[k] == 0 {
			t.Errorf("fault %d never happened", k)
		}
	}
	r := report()
	t.Logf("%d leads, %d attempts (%d faulty, %d healthy), %d phone legs answered and all hung up, most calls at once %d (max %d), dispositions %v, %v",
		leads, len(atts), len(atts)-byKind[faultNone], byKind[faultNone], carrier.answered.Load(), most, maxConcurrent, r.ByDisposition, time.Since(start).Round(time.Millisecond))
}
