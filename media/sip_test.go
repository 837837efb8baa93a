package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// SIP phone leg tests against real SIPp processes on 127.0.0.1: each runs a
// call from SIPCarrier through the bridge to the built-in sim agent over
// WebRTC. The scenarios live in testdata/sipp at the repository root.

const (
	sipTestPhone    = "+14155550123"
	sipTestCallerID = "+14155550100"
)

// sipp is one SIPp UAS process answering one call.
type sipp struct {
	t      testing.TB
	addr   string // SIP host:port
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan struct{}
	err    error
}

// freePortPair finds an even UDP port p on 127.0.0.1 with p..p+3 free.
func freePortPair(t testing.TB, lo, hi int) int {
	t.Helper()
	for range 200 {
		p := lo + 2*rand.IntN((hi-lo)/2)
		ok := true
		var held []net.PacketConn
		for i := range 4 {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+i))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free UDP port pair")
	return 0
}

// startSipp runs `sipp -sf testdata/sipp/<scenario> -m 1` as a UAS with
// RTP echo. A missing sipp binary fails the test: CI installs sip-tester.
func startSipp(t testing.TB, scenario string, noEcho bool, extra ...string) *sipp {
	t.Helper()
	bin := requireSipp(t)
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	port := freePortPair(t, 21000, 29000)
	media := freePortPair(t, 29000, 37000)
	s := &sipp{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	args := append([]string{"-sf", sf, "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-m", "1",
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(media), "-nostdin", "-timeout", "30s", "-timeout_error",
		"-max_recv_loops", "1000"}, extra...)
	if _, isTest := t.(*testing.T); isTest {
		args = append(args, "-trace_msg") // shown when the test fails
	}
	if !noEcho {
		args = append(args, "-rtp_echo")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cmd = exec.CommandContext(ctx, bin, args...)
	// sipp runs in a scratch directory (its logs land there) holding the
	// audio files scenarios stream.
	s.cmd.Dir = t.TempDir()
	audio, err := os.ReadFile(filepath.Join(filepath.Dir(sf), "silence.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.cmd.Dir, "silence.ulaw"), audio, 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting sipp: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		cancel() // kills sipp if still running
		<-s.exited
		if t.Failed() {
			m, _ := filepath.Glob(filepath.Join(s.cmd.Dir, "*messages.log"))
			for _, f := range m {
				b, _ := os.ReadFile(f)
				t.Logf("sipp messages:\n%s", b)
			}
		}
	})
	// Wait until sipp holds its SIP port.
	tcp := strings.Contains(strings.Join(extra, " "), "-t t1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if tcp {
			if c, err := net.Dial("tcp", s.addr); err == nil {
				c.Close()
				break
			}
		} else if c, err := net.ListenPacket("udp", s.addr); err != nil {
			break
		} else {
			c.Close()
		}
		select {
		case <-s.exited:
			t.Fatalf("sipp exited at start: %v\n%s", s.err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("sipp did not bind its port")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// wait waits for sipp to finish its one call and returns its exit code.
func (s *sipp) wait(d time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(d):
		s.t.Fatalf("sipp still running after %v:\n%s", d, s.tail())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatalf("sipp: %v", s.err)
	}
	return 0
}

func (s *sipp) tail() string {
	o := s.out.String()
	if len(o) > 3000 {
		o = o[len(o)-3000:]
	}
	return o
}

// sipRun is one call's result and what was seen on the way.
type sipRun struct {
	res     engine.CallResult
	states  []string
	details []string
	trace   []string
	sipp    *sipp
}

func (r *sipRun) traced(s string) bool {
	for _, l := range r.trace {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// placeSIPCall runs one bridged call against a SIPp scenario.
func placeSIPCall(t *testing.T, scenario string, mod func(*SIPTrunkConfig), sippArgs ...string) *sipRun {
	return placeSIPCallOpts(t, scenario, sipCallOpts{mod: mod, sippArgs: sippArgs})
}

type sipCallOpts struct {
	mod         func(*SIPTrunkConfig)
	sippArgs    []string
	noEcho      bool          // sipp sends no RTP back
	cancelAfter time.Duration // cancel the call's context after this long
}

func placeSIPCallOpts(t *testing.T, scenario string, o sipCallOpts) *sipRun {
	t.Helper()
	noLeaks(t)
	cfg := answeredConfig()
	cfg.TalkMin, cfg.TalkMax = 1500*time.Millisecond, 1500*time.Millisecond
	cfg.Agents = map[string]AgentOdds{"ag": {Qualified: 1}}
	sim := NewSimPlacer(cfg, nil)
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim, Token: "tok-123"})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	sp := startSipp(t, scenario, o.noEcho, o.sippArgs...)
	rtpLo := freePortPair(t, 37000, 45000)
	tc := SIPTrunkConfig{ID: "test", Trunk: sp.addr, BindAddr: "127.0.0.1", RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3,
		RingTimeout: 2 * time.Second, NoMediaTimeout: 10 * time.Second}
	if o.mod != nil {
		o.mod(&tc)
	}
	carrier, err := NewSIPCarrier(tc, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := &sipRun{sipp: sp}
	var mu sync.Mutex
	carrier.Trace = func(l string) { mu.Lock(); run.trace = append(run.trace, l); mu.Unlock() }
	b := NewBridge(carrier, func(req engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(agent.URL())
		c.Header = SimCallHeader(req)
		return c, nil
	}, nil)
	req := testRequest(1)
	req.Phone, req.CallerID = sipTestPhone, sipTestCallerID
	req.OnProgress = func(p engine.CallProgress) {
		mu.Lock()
		run.states = append(run.states, p.State)
		run.details = append(run.details, p.Detail)
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if o.cancelAfter > 0 {
		stop := time.AfterFunc(o.cancelAfter, cancel)
		defer stop.Stop()
	}
	run.res = b.Place(ctx, req)
	if err := carrier.Close(); err != nil {
		t.Logf("carrier close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("result: %s %q sip=%d permanent=%v to-agent=%d from-agent=%d; states %v; trace %q",
		run.res.Outcome, run.res.Reason, run.res.SIPCode, run.res.Permanent, run.res.PacketsToAgent, run.res.PacketsFromAgent, run.states, run.trace)
	return run
}

func (r *sipRun) wantStates(t *testing.T, want ...string) {
	t.Helper()
	got := strings.Join(r.states, ",")
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("progress %q lacks %q", got, s)
		}
	}
}

func (r *sipRun) wantSippOK(t *testing.T) {
	t.Helper()
	if code := r.sipp.wait(15 * time.Second); code != 0 {
		t.Errorf("sipp exit code %d (its checks of our INVITE failed or the call broke):\n%s", code, r.sipp.tail())
	}
}

func (r *sipRun) wantAnswered(t *testing.T) {
	t.Helper()
	res := r.res
	if res.Outcome != engine.OutcomeAnswered || !res.Answered || res.SIPCode != 200 {
		t.Fatalf("outcome %s (%s) SIP %d, want answered with 200", res.Outcome, res.Reason, res.SIPCode)
	}
	if res.PacketsToAgent == 0 || res.PacketsFromAgent == 0 {
		t.Fatalf("RTP did not flow both ways: to agent %d, from agent %d", res.PacketsToAgent, res.PacketsFromAgent)
	}
}

func TestSIPAnswerWithEcho(t *testing.T) {
	run := placeSIPCall(t, "answer.xml", nil)
	run.wantAnswered(t)
	if d := engine.Dispose(run.res, true); d != engine.DispQualified {
		t.Errorf("disposition %s, want qualified (the sim agent's end_call)", d)
	}
	run.wantStates(t, "dialing", "trying", "ringing", "answered", "talking", "ended")
	if !run.traced("-> INVITE sip:"+sipTestPhone+"@127.0.0.1") || !run.traced("<- 200 OK") || !run.traced("-> ACK") || !run.traced("-> BYE") {
		t.Errorf("trace lacks a step: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPAnswerPCMA(t *testing.T) {
	run := placeSIPCall(t, "pcma.xml", nil)
	// sipp echoes the A-law we send: audio reaches the agent only if both
	// directions were converted (and the agent's PCMU came back as PCMU).
	run.wantAnswered(t)
	run.wantSippOK(t)
}

func TestSIPCalleeHangsUpFirst(t *testing.T) {
	run := placeSIPCall(t, "callee_bye.xml", nil)
	run.wantAnswered(t)
	if run.res.Reason != "callee hung up" || run.res.Analysis != nil {
		t.Errorf("reason %q analysis %+v, want the callee's hang-up before the agent ended", run.res.Reason, run.res.Analysis)
	}
	if d := engine.Dispose(run.res, true); d != engine.DispAnswered {
		t.Errorf("disposition %s, want answered", d)
	}
	if !run.traced("<- BYE") || run.traced("-> BYE") {
		t.Errorf("want the callee's BYE and none from us: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPEarlyMedia(t *testing.T) {
	run := placeSIPCall(t, "early183.xml", nil)
	run.wantAnswered(t)
	run.wantStates(t, "trying", "early media", "answered")
	if strings.Contains(strings.Join(run.states, ","), "ringing") {
		t.Errorf("no 180 was sent, yet the state went to ringing: %v", run.states)
	}
	var early string
	for _, l := range run.trace {
		if strings.HasPrefix(l, "-- early media:") {
			early = l
		}
	}
	if early == "" || strings.HasPrefix(early, "-- early media: 0 ") {
		t.Errorf("no early media RTP received before the answer: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPDigestAuth(t *testing.T) {
	for _, tc := range []struct{ scenario, challenge string }{
		{"auth401.xml", "<- 401 Unauthorized"},                  // sipp verifies the digest response
		{"auth407.xml", "<- 407 Proxy Authentication Required"}, // sipp checks the Proxy-Authorization fields
	} {
		t.Run(strings.TrimSuffix(tc.scenario, ".xml"), func(t *testing.T) {
			run := placeSIPCall(t, tc.scenario, func(c *SIPTrunkConfig) { c.Username, c.Password = "dialdeck", "s3cret" })
			run.wantAnswered(t)
			if !run.traced(tc.challenge) || !run.traced("-> INVITE (with credentials)") {
				t.Errorf("trace lacks the challenge: %q", run.trace)
			}
			run.wantSippOK(t)
		})
	}
}

func TestSIPDigestAuthWrongPassword(t *testing.T) {
	run := placeSIPCall(t, "auth401.xml", func(c *SIPTrunkConfig) { c.Username, c.Password = "dialdeck", "wrong" })
	// The trunk refuses the credentials with 403, not a new challenge.
	want := "403 Forbidden (check the trunk's username and password)"
	if run.res.Outcome != engine.OutcomeFailed || run.res.SIPCode != 403 || run.res.Reason != want {
		t.Errorf("got %s %q SIP %d, want failed %q", run.res.Outcome, run.res.Reason, run.res.SIPCode, want)
	}
	if code := run.sipp.wait(15 * time.Second); code == 0 {
		t.Error("sipp accepted a wrong password")
	}
}

func TestSIPRingNoAnswer(t *testing.T) {
	run := placeSIPCall(t, "ring_noanswer.xml", nil)
	res := run.res
	if res.Outcome != engine.OutcomeNoAnswer || res.SIPCode != 487 || res.Reason != "no answer within 2s" {
		t.Errorf("got %s %q SIP %d, want no_answer after CANCEL with 487", res.Outcome, res.Reason, res.SIPCode)
	}
	// Ring time counts from the 180 (sent just after the INVITE arrives) to
	// the give-up at the 2 s ring timeout: a little under 2 s, never 0.
	if res.RingDuration < time.Second || res.RingDuration > 3*time.Second {
		t.Errorf("ring %v, want about the 2s ring timeout (counted from the 180)", res.RingDuration)
	}
	if d := engine.Dispose(res, true); d != engine.DispNoAnswer {
		t.Errorf("disposition %s", d)
	}
	if !run.traced("CANCEL") || !run.traced("487") {
		t.Errorf("trace lacks CANCEL/487: %q", run.trace)
	}
	run.wantStates(t, "trying", "ringing")
	run.wantSippOK(t)
}

// Final failure responses: outcome, stored code, reason, permanence.
func TestSIPFinalResponses(t *testing.T) {
	cases := []struct {
		scenario  string
		outcome   engine.Outcome
		disp      engine.Disposition
		code      int
		reason    string
		permanent bool
	}{
		{"busy486.xml", engine.OutcomeBusy, engine.DispBusy, 486, "callee busy (486 Busy Here)", false},
		{"decline603.xml", engine.OutcomeNoAnswer, engine.DispNoAnswer, 603, "declined (603 Decline)", false},
		{"error503.xml", engine.OutcomeFailed, engine.DispFailed, 503, "503 Service Unavailable", false},
		{"notfound404.xml", engine.OutcomeFailed, engine.DispFailed, 404, "number not reachable (404 Not Found)", true},
		// No challenge answered: a plain 403, no word about the password.
		{"forbidden403.xml", engine.OutcomeFailed, engine.DispFailed, 403, "403 Forbidden", false},
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.scenario, ".xml"), func(t *testing.T) {
			run := placeSIPCall(t, tc.scenario, nil)
			res := run.res
			if res.Outcome != tc.outcome || res.SIPCode != tc.code || res.Reason != tc.reason || res.Permanent != tc.permanent || res.Answered {
				t.Errorf("got %s %q SIP %d permanent %v, want %s %q SIP %d permanent %v",
					res.Outcome, res.Reason, res.SIPCode, res.Permanent, tc.outcome, tc.reason, tc.code, tc.permanent)
			}
			if d := engine.Dispose(res, true); d != tc.disp {
				t.Errorf("disposition %s, want %s", d, tc.disp)
			}
			// 403 and 503 come with at most 100 Trying: nothing rang.
			if (tc.code == 403 || tc.code == 503) && res.RingDuration != 0 {
				t.Errorf("ring %v without a ringing response, want 0", res.RingDuration)
			}
			run.wantSippOK(t)
		})
	}
}

func TestSIPNoMedia(t *testing.T) {
	// The callee answers and never sends RTP: the call ends as failed.
	run := placeSIPCallOpts(t, "answer.xml", sipCallOpts{noEcho: true,
		mod: func(c *SIPTrunkConfig) { c.NoMediaTimeout = 500 * time.Millisecond }})
	res := run.res
	if res.Outcome != engine.OutcomeFailed || res.Reason != "no media from the callee for 500ms" || !res.Answered || res.SIPCode != 200 {
		t.Errorf("got %s %q answered %v SIP %d, want failed: no media", res.Outcome, res.Reason, res.Answered, res.SIPCode)
	}
	if res.PacketsToAgent != 0 {
		t.Errorf("%d packets reached the agent from a silent callee", res.PacketsToAgent)
	}
	if !run.traced("-> BYE") {
		t.Errorf("no BYE after the media timeout: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPCancelWhileRinging(t *testing.T) {
	// The campaign stops while the callee rings: CANCEL, 487, failed.
	run := placeSIPCallOpts(t, "ring_noanswer.xml", sipCallOpts{cancelAfter: 500 * time.Millisecond,
		mod: func(c *SIPTrunkConfig) { c.RingTimeout = 20 * time.Second }})
	res := run.res
	if res.Outcome != engine.OutcomeFailed || !strings.HasPrefix(res.Reason, "hung up while ringing") || res.SIPCode != 487 {
		t.Errorf("got %s %q SIP %d, want failed after CANCEL", res.Outcome, res.Reason, res.SIPCode)
	}
	if !run.traced("-> CANCEL (call abandoned)") {
		t.Errorf("no CANCEL: %q", run.trace)
	}
	run.wantSippOK(t)
}

// newTestCarrier is a carrier on 127.0.0.1 pointed at sp.
func newTestCarrier(t *testing.T, sp *sipp, mod func(*SIPTrunkConfig)) *SIPCarrier {
	t.Helper()
	rtpLo := freePortPair(t, 37000, 45000)
	tc := SIPTrunkConfig{ID: "test", Trunk: sp.addr, BindAddr: "127.0.0.1", RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3,
		RingTimeout: 2 * time.Second}
	if mod != nil {
		mod(&tc)
	}
	c, err := NewSIPCarrier(tc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSIPMaxConcurrent(t *testing.T) {
	noLeaks(t)
	sp := startSipp(t, "answer.xml", false, "-m", "2")
	c := newTestCarrier(t, sp, func(tc *SIPTrunkConfig) { tc.MaxConcurrent = 1 })
	defer c.Close()
	req := testRequest(1)
	req.Phone, req.CallerID = sipTestPhone, sipTestCallerID
	first, err := c.Dial(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The trunk is full: a second call waits for a slot until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = c.Dial(ctx, req, nil)
	cancel()
	var de *DialError
	if !errors.As(err, &de) || de.Outcome != engine.OutcomeFailed || !strings.HasPrefix(de.Reason, "hung up before dialing") {
		t.Fatalf("second call while the trunk is full: %v", err)
	}
	first.Hangup()
	// The slot is free again.
	second, err := c.Dial(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("call after the first hung up: %v", err)
	}
	if sc, ok := second.(interface{ SIPCode() int }); !ok || sc.SIPCode() != 200 {
		t.Errorf("answered call has no SIP code 200")
	}
	second.Hangup()
	if code := sp.wait(15 * time.Second); code != 0 {
		t.Errorf("sipp exit %d:\n%s", code, sp.tail())
	}
}

func TestSIPCallsPerSecond(t *testing.T) {
	noLeaks(t)
	sp := startSipp(t, "busy486.xml", false, "-m", "3")
	c := newTestCarrier(t, sp, func(tc *SIPTrunkConfig) { tc.CallsPerSecond = 4 })
	defer c.Close()
	req := testRequest(1)
	req.Phone, req.CallerID = sipTestPhone, sipTestCallerID
	start := time.Now()
	for i := range 3 {
		_, err := c.Dial(context.Background(), req, nil)
		var de *DialError
		if !errors.As(err, &de) || de.Outcome != engine.OutcomeBusy {
			t.Fatalf("call %d: %v, want busy", i, err)
		}
	}
	// Three INVITEs at 4 per second: the third leaves no earlier than 500 ms
	// after the first (a lower bound only; the calls themselves take ~1 ms).
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("3 calls at 4 cps took %v", d)
	}
	if code := sp.wait(15 * time.Second); code != 0 {
		t.Errorf("sipp exit %d:\n%s", code, sp.tail())
	}
}

func TestSIPNoResponse(t *testing.T) {
	run := placeSIPCallOpts(t, "silent.xml", sipCallOpts{mod: func(c *SIPTrunkConfig) { c.RingTimeout = time.Second }})
	res := run.res
	if res.Outcome != engine.OutcomeFailed || !strings.HasPrefix(res.Reason, "no response from the SIP trunk") || res.SIPCode != 0 {
		t.Errorf("got %s %q SIP %d, want failed: no response", res.Outcome, res.Reason, res.SIPCode)
	}
	if res.RingDuration != 0 {
		t.Errorf("ring %v from a trunk that never answered, want 0", res.RingDuration)
	}
	if run.traced("CANCEL") {
		t.Errorf("CANCEL sent without any provisional response: %q", run.trace)
	}
}

func TestSIPOverTCP(t *testing.T) {
	run := placeSIPCallOpts(t, "answer.xml", sipCallOpts{sippArgs: []string{"-t", "t1"},
		mod: func(c *SIPTrunkConfig) { c.Transport = "tcp" }})
	run.wantAnswered(t)
	run.wantSippOK(t)
}

func TestSIPReInvite(t *testing.T) {
	// A session refresh from the far end is answered 200 with our SDP and
	// the call goes on until the agent ends it.
	run := placeSIPCall(t, "reinvite.xml", nil)
	run.wantAnswered(t)
	if run.res.Analysis == nil || !run.traced("<- re-INVITE") || !run.traced("-> BYE") {
		t.Errorf("the call did not survive the re-INVITE to the agent's end_call: %q", run.trace)
	}
	run.wantSippOK(t)
}

func TestSIPTransportError(t *testing.T) {
	// A TCP or TLS trunk nobody listens on: the INVITE cannot leave, the
	// reason names the target and the cause, and nothing rang.
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			noLeaks(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			rtpLo := freePortPair(t, 37000, 45000)
			var logs bytes.Buffer
			c, err := NewSIPCarrier(SIPTrunkConfig{ID: "dead", Trunk: addr, Transport: transport, BindAddr: "127.0.0.1",
				RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3, Username: "u", Password: "pw-never-logged"},
				slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			req := testRequest(1)
			req.Phone = sipTestPhone
			_, err = c.Dial(context.Background(), req, nil)
			var de *DialError
			want := "SIP transport error: cannot connect to " + addr + " over " + transport + ": connection refused"
			if !errors.As(err, &de) || de.Outcome != engine.OutcomeFailed || de.Reason != want || de.Ring != 0 {
				t.Fatalf("got %v (ring %v), want failed %q with no ring", err, de.Ring, want)
			}
			if strings.Contains(logs.String(), "pw-never-logged") || strings.Contains(logs.String(), sipTestPhone) {
				t.Errorf("the password or the full number reached the log:\n%s", logs.String())
			}
		})
	}
}

// requireSipp finds SIPp. Under CI (CI=true, as .ci/run sets after
// installing sip-tester) a missing binary fails the test; elsewhere, so that
// `go test ./...` works on a fresh machine with only Go, the SIP tests are
// skipped with a loud notice.
func requireSipp(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("sipp not found (install Debian's sip-tester; .ci/run does): %v", err)
	}
	fmt.Fprintln(os.Stderr, "\n*** SKIPPING SIP tests: sipp is not installed (apt-get install sip-tester; .ci/run fails instead) ***")
	t.Skip("sipp not installed")
	return ""
}
