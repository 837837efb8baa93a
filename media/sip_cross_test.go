package media

import (
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// Regression tests for the INVITE wait loop: sipgo's WaitAnswer gave up
// after 10 responses and lost a 200 that crossed our CANCEL.

func TestSIPManyProvisionals(t *testing.T) {
	// Twelve 180s before the 200: the call is answered, ACKed, and RTP flows.
	run := placeSIPCallOpts(t, "many180.xml", sipCallOpts{mod: func(c *SIPTrunkConfig) { c.RingTimeout = 10 * time.Second }})
	run.wantAnswered(t)
	n := 0
	for _, l := range run.trace {
		if strings.HasPrefix(l, "<- 180") {
			n++
		}
	}
	if n != 12 {
		t.Errorf("saw %d 180s, want 12: %q", n, run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPAnswerCrossesCancel(t *testing.T) {
	// The ring timeout CANCELs; the callee's 200 crosses it. Whatever the
	// CANCEL's own answer (200, or 481 which made sipgo drop the call), the
	// 200 is ACKed and hung up, and the lead is no_answer with code 200.
	for _, sc := range []string{"cross_cancel200.xml", "cross_cancel481.xml"} {
		t.Run(strings.TrimSuffix(sc, ".xml"), func(t *testing.T) {
			run := placeSIPCallOpts(t, sc, sipCallOpts{mod: func(c *SIPTrunkConfig) { c.RingTimeout = time.Second }})
			res := run.res
			want := "no answer within 1s (a 200 crossed our CANCEL; hung up at once)"
			if res.Outcome != engine.OutcomeNoAnswer || res.SIPCode != 200 || res.Reason != want || res.Answered {
				t.Errorf("got %s %q SIP %d answered %v, want no_answer %q SIP 200", res.Outcome, res.Reason, res.SIPCode, res.Answered, want)
			}
			if d := engine.Dispose(res, true); d != engine.DispNoAnswer {
				t.Errorf("disposition %s, want no_answer", d)
			}
			if !run.traced("-> CANCEL") || !run.traced("-> ACK (200 crossed the CANCEL)") || !run.traced("-> BYE (200 crossed the CANCEL)") {
				t.Errorf("trace lacks CANCEL/ACK/BYE: %q", run.trace)
			}
			run.wantSippOK(t) // sipp fails unless it gets the ACK and the BYE
		})
	}
}
