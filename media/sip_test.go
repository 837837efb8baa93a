package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
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
	t      *testing.T
	addr   string // SIP host:port
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan struct{}
	err    error
}

// freePortPair finds an even UDP port p on 127.0.0.1 with p..p+3 free.
func freePortPair(t *testing.T, lo, hi int) int {
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
func startSipp(t *testing.T, scenario string, extra ...string) *sipp {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp not found (install Debian's sip-tester; .ci/run does): %v", err)
	}
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	port := freePortPair(t, 21000, 29000)
	media := freePortPair(t, 29000, 37000)
	s := &sipp{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	args := append([]string{"-sf", sf, "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-m", "1",
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(media), "-rtp_echo", "-nostdin", "-timeout", "30s", "-timeout_error",
		"-max_recv_loops", "1000"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	s.cmd = exec.CommandContext(ctx, bin, args...)
	s.cmd.Dir = t.TempDir() // sipp writes its logs next to itself
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
	})
	// Wait until sipp holds its SIP port.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.ListenPacket("udp", s.addr)
		if err != nil {
			break
		}
		c.Close()
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
	sp := startSipp(t, scenario, sippArgs...)
	rtpLo := freePortPair(t, 37000, 45000)
	tc := SIPTrunkConfig{ID: "test", Trunk: sp.addr, BindAddr: "127.0.0.1", RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3,
		RingTimeout: 2 * time.Second, NoMediaTimeout: 10 * time.Second}
	if mod != nil {
		mod(&tc)
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
