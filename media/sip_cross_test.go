package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
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

func TestSIPCancelBeforeAnyResponse(t *testing.T) {
	// The campaign gives up before the trunk said anything: the dial ends at
	// once, and the CANCEL goes out when the late 180 arrives (sipp fails
	// without it). Over TCP so the INVITE is not retransmitted.
	run := placeSIPCallOpts(t, "late180_cancel.xml", sipCallOpts{sippArgs: []string{"-t", "t1"}, cancelAfter: 300 * time.Millisecond,
		mod: func(c *SIPTrunkConfig) { c.Transport, c.RingTimeout = "tcp", 20*time.Second }})
	res := run.res
	if res.Outcome != engine.OutcomeFailed || !strings.HasPrefix(res.Reason, "hung up while ringing") || res.SIPCode != 0 {
		t.Errorf("got %s %q SIP %d, want failed: hung up while ringing, no code yet", res.Outcome, res.Reason, res.SIPCode)
	}
	if res.RingDuration >= time.Second {
		t.Errorf("the dial waited %v for the late 180; it should end when given up", res.RingDuration)
	}
	if !run.traced("<- 180 Ringing (after giving up)") || !run.traced("-> CANCEL (call abandoned)") || !run.traced("<- 487") {
		t.Errorf("trace lacks the late 180, CANCEL or 487: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPCloseCancelsRingingDial(t *testing.T) {
	// Closing the carrier while a call rings CANCELs it and waits for the 487
	// before the UA goes away.
	noLeaks(t)
	sp := startSipp(t, "ring_noanswer.xml", false)
	c := newTestCarrier(t, sp, func(tc *SIPTrunkConfig) { tc.RingTimeout = 20 * time.Second })
	var trMu sync.Mutex
	var trace []string
	c.Trace = func(l string) { trMu.Lock(); trace = append(trace, l); trMu.Unlock() }
	req := testRequest(1)
	req.Phone, req.CallerID = sipTestPhone, sipTestCallerID
	ringing := make(chan struct{})
	var once sync.Once
	errc := make(chan error, 1)
	go func() {
		_, err := c.Dial(context.Background(), req, func(s string) {
			if s == "ringing" {
				once.Do(func() { close(ringing) })
			}
		})
		errc <- err
	}()
	select {
	case <-ringing:
	case <-time.After(10 * time.Second):
		t.Fatal("never rang")
	}
	if err := c.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	var de *DialError
	if err := <-errc; !errors.As(err, &de) || de.Outcome != engine.OutcomeFailed || de.Reason != "sip trunk test closed while ringing" || de.SIPCode != 487 {
		t.Errorf("dial ended with %v, want failed: closed while ringing, 487", err)
	}
	trMu.Lock()
	if !strings.Contains(strings.Join(trace, "\n"), "-> CANCEL (sip trunk closing)") {
		t.Errorf("no CANCEL on close: %q", trace)
	}
	trMu.Unlock()
	if code := sp.wait(15 * time.Second); code != 0 {
		t.Errorf("sipp exit %d (no CANCEL/ACK?):\n%s", code, sp.tail())
	}
}

func TestSIPReInviteMovesMedia(t *testing.T) {
	// A re-INVITE offering PCMA at another port is answered with that one
	// codec (sipp checks "8 101") and the media follows; a re-INVITE without
	// SDP gets our offer and its ACK's answer moves the media back to PCMU.
	run := placeSIPCall(t, "reinvite_sdp.xml", nil)
	run.wantAnswered(t)
	if !run.traced("-> 200 OK (re-INVITE: PCMA at 127.0.0.1:") || !run.traced("-> 200 OK (re-INVITE without SDP: our offer)") ||
		!run.traced("<- ACK (SDP: PCMU at 127.0.0.1:") || !run.traced("-> BYE") {
		t.Errorf("trace lacks a re-INVITE step: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPByeRightAfterAnswer(t *testing.T) {
	// The callee's BYE follows our ACK at once: it gets 200 (sipp fails on
	// 481) and the call ends as the callee's hang-up.
	run := placeSIPCall(t, "bye_at_once.xml", nil)
	if !run.res.Answered || run.res.SIPCode != 200 || run.res.Reason != "callee hung up" {
		t.Errorf("got %s %q answered %v SIP %d, want answered then the callee's hang-up", run.res.Outcome, run.res.Reason, run.res.Answered, run.res.SIPCode)
	}
	if !run.traced("<- BYE") || run.traced("-> BYE") {
		t.Errorf("want the callee's BYE and none from us: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPMalformedPacketNotLogged(t *testing.T) {
	// sipgo logs a datagram it cannot parse, whole, at Error level: the
	// number in it must not reach dialdeck's log unmasked.
	noLeaks(t)
	rtpLo := freePortPair(t, 37000, 45000)
	var mu sync.Mutex
	var logs bytes.Buffer
	h := slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})
	c, err := NewSIPCarrier(SIPTrunkConfig{ID: "t", Trunk: "127.0.0.1:5060", BindAddr: "127.0.0.1", RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3}, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", c.contact.Address.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bad := "INVITE sip:" + sipTestPhone + "@127.0.0.1 SIP/2.0\r\nVia SIP/2.0/UDP 127.0.0.1:5999\r\nFrom: <sip:" + sipTestPhone + "@x>\r\nContent-Length: zz\r\n\r\n"
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := conn.Write([]byte(bad)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		if strings.Contains(out, "component=sipgo") {
			if strings.Contains(out, sipTestPhone) || strings.Contains(out, strings.TrimPrefix(sipTestPhone, "+")) {
				t.Fatalf("the full number reached the log:\n%s", out)
			}
			t.Logf("sipgo's log, masked:\n%s", out)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipgo logged nothing about the malformed packet:\n%s", out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
