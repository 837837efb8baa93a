package media

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// A panic after the callee answered must not leave either leg up: the
// engine recovers a placer's panic and may redial the lead, so a phone
// call or agent session left behind would be an orphan call to the same
// person, holding no slot. A panic inside a relay goroutine must not kill
// the process: that call ends failed and the others go on.

// legCounter wraps a carrier: it counts answered phone legs and the ones
// hung up (the first Hangup of each), and can make a leg's ReadRTP or
// WriteRTP panic after some packets.
type legCounter struct {
	Carrier
	answered, hungUp atomic.Int64
	// readPanicAfter / writePanicAfter > 0: that leg method panics on the
	// packet after that many (per call); voicemailPanicAt > 0: Voicemail
	// panics on that call of it (the bridge asks once on answer and again
	// once the agent leg is up).
	readPanicAfter, writePanicAfter, voicemailPanicAt int
}

func (c *legCounter) Dial(ctx context.Context, req engine.CallRequest, onState func(string)) (PhoneCall, error) {
	call, err := c.Carrier.Dial(ctx, req, onState)
	if err != nil {
		return nil, err
	}
	c.answered.Add(1)
	return &countedCall{PhoneCall: call, hungUp: &c.hungUp, readPanicAfter: c.readPanicAfter,
		writePanicAfter: c.writePanicAfter, voicemailPanicAt: c.voicemailPanicAt}, nil
}

// live is how many answered legs were never hung up.
func (c *legCounter) live() int64 { return c.answered.Load() - c.hungUp.Load() }

// countedCall adds one to hungUp on its first Hangup, and panics in
// ReadRTP / WriteRTP after that many packets when set.
type countedCall struct {
	PhoneCall
	hungUp                                            *atomic.Int64
	readPanicAfter, writePanicAfter, voicemailPanicAt int
	once                                              sync.Once
	reads, writes, voicemails                         atomic.Int64
}

func (cc *countedCall) Voicemail() bool {
	if n := cc.voicemailPanicAt; n > 0 && cc.voicemails.Add(1) == int64(n) {
		panic("phone leg Voicemail bug")
	}
	return cc.PhoneCall.Voicemail()
}

func (cc *countedCall) Hangup() {
	cc.once.Do(func() { cc.hungUp.Add(1) })
	cc.PhoneCall.Hangup()
}

func (cc *countedCall) ReadRTP(b []byte) (int, error) {
	if n := cc.readPanicAfter; n > 0 && cc.reads.Add(1) > int64(n) {
		panic("phone leg ReadRTP bug")
	}
	return cc.PhoneCall.ReadRTP(b)
}

func (cc *countedCall) WriteRTP(b []byte) error {
	if n := cc.writePanicAfter; n > 0 && cc.writes.Add(1) > int64(n) {
		panic("phone leg WriteRTP bug")
	}
	return cc.PhoneCall.WriteRTP(b)
}

// placeRecovering places one call as the engine does: a panic is
// recovered and returned.
func placeRecovering(t *testing.T, b *Bridge, req engine.CallRequest) (res engine.CallResult, panicked any) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		res = b.Place(context.Background(), req)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Place hung")
	}
	return res, panicked
}

// waitSessions waits until the sim agent has no session left.
func waitSessions(t *testing.T, agent *SimAgent) {
	t.Helper()
	for i := 0; agent.Sessions() > 0 && i < 150; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := agent.Sessions(); n != 0 {
		t.Fatalf("the agent leg was not closed: %d sessions left", n)
	}
}

func TestPanicAfterAnswerEndsBothLegs(t *testing.T) {
	for _, tc := range []struct {
		name string
		// resolverPanics: the agent resolver panics (no agent leg yet).
		resolverPanics bool
		// progressPanics: the progress callback panics once a transcript
		// line is shown. That update usually runs on pion's data channel
		// goroutine (recovered there: the call fails with wantReason), but
		// Place's own next update carries the line too and may get there
		// first (Place panics with wantPanic): either way both legs end.
		progressPanics         bool
		readN, writeN, voiceAt int
		wantPanic              string
		wantReason             string
		wantAgentSession       bool
	}{
		{name: "agent resolver panics", resolverPanics: true, wantPanic: "resolver bug"},
		{name: "phone Voicemail panics once the agent leg is up", voiceAt: 2, wantPanic: "phone leg Voicemail bug", wantAgentSession: true},
		{name: "progress callback panics on an agent event", progressPanics: true, wantPanic: "progress bug",
			wantReason: "internal error handling an agent event (see log, id ", wantAgentSession: true},
		{name: "phone ReadRTP panics in the relay", readN: 20, wantReason: "internal error relaying the call's audio (see log, id ", wantAgentSession: true},
		{name: "phone WriteRTP panics in the relay", writeN: 20, wantReason: "internal error relaying the call's audio (see log, id ", wantAgentSession: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, sim, agent := longCallAgent(t)
			carrier := &legCounter{Carrier: NewSimCarrier(sim), readPanicAfter: tc.readN, writePanicAfter: tc.writeN, voicemailPanicAt: tc.voiceAt}
			var sessions atomic.Int64
			var logs lockedBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			b := NewBridge(carrier, func(req engine.CallRequest) (AgentConfig, error) {
				if tc.resolverPanics {
					panic("resolver bug")
				}
				sessions.Add(1)
				c := fastAgent(agent.URL())
				c.Header = SimCallHeader(req)
				return c, nil
			}, log)
			req := testRequest(1)
			if tc.progressPanics {
				req.OnProgress = func(p engine.CallProgress) {
					if p.LastLine != "" {
						panic("progress bug")
					}
				}
			}
			res, p := placeRecovering(t, b, req)
			if tc.wantPanic != "" && (p != nil || tc.wantReason == "") {
				if p == nil || !strings.Contains(fmt.Sprint(p), tc.wantPanic) {
					t.Fatalf("want panic %q, got %v (%+v)", tc.wantPanic, p, res)
				}
			} else {
				if p != nil {
					t.Fatalf("the relay's panic escaped Place: %v", p)
				}
				wantFailed(t, res, tc.wantReason)
				if res.PacketsToAgent == 0 && res.PacketsFromAgent == 0 {
					t.Fatalf("the call should have relayed before the fault: %+v", res)
				}
				// The stack is logged, not stored in the reason.
				if l := logs.String(); !strings.Contains(l, "panicked") || !strings.Contains(l, "goroutine") || strings.Contains(res.Reason, "goroutine") {
					t.Fatalf("want the panic's stack in the log only; reason %q, log:\n%s", res.Reason, tail(l, 1500))
				}
				// The stored reason's id finds the log line, which has the panic value.
				id := strings.TrimSuffix(res.Reason[strings.LastIndex(res.Reason, " ")+1:], ")")
				if l := logs.String(); len(id) != 8 || !strings.Contains(l, "id="+id) || !strings.Contains(l, " bug") || strings.Contains(res.Reason, " bug") {
					t.Fatalf("reason %q: want a fixed text with an id that is in the log next to the panic value; log:\n%s", res.Reason, tail(l, 1500))
				}
			}
			if carrier.answered.Load() != 1 || carrier.live() != 0 {
				t.Fatalf("answered %d phone legs, %d still up", carrier.answered.Load(), carrier.live())
			}
			if tc.wantAgentSession != (sessions.Load() == 1) {
				t.Fatalf("agent legs opened: %d", sessions.Load())
			}
			waitSessions(t, agent)
		})
	}
}

// TestAgentEventHandlerPanicEndsLeg: a panic while handling an agent event
// (on pion's data channel goroutine in a real call) is recovered and ends
// the leg with a reason, instead of killing the process.
func TestAgentEventHandlerPanicEndsLeg(t *testing.T) {
	var logs lockedBuffer
	a := &AgentLeg{cfg: AgentConfig{Log: slog.New(slog.NewTextHandler(&logs, nil))}.withDefaults(), ended: make(chan struct{}),
		ev: agentEvents{transcript: func(string, string) { panic("transcript bug") }}}
	a.handle([]byte(`{"type":"response.audio_transcript.done","transcript":"Hi Arjun"}`))
	select {
	case <-a.Done():
	default:
		t.Fatal("the leg did not end after the handler panicked")
	}
	if r, byAgent := a.EndReason(); byAgent || !strings.HasPrefix(r, "internal error handling an agent event (see log, id ") {
		t.Fatalf("end reason %q (by agent %v)", r, byAgent)
	}
	if l := logs.String(); !strings.Contains(l, "handling an agent event panicked") || !strings.Contains(l, "goroutine") {
		t.Fatalf("want the panic and its stack logged:\n%s", l)
	}
}
