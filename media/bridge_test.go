package media

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

// answeredConfig makes every simulated callee pick up quickly and talk briefly.
// noLeaks checks, after every other cleanup, that the test left no
// goroutine behind (pion's, the relay's, the HTTP servers').
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func answeredConfig() SimConfig {
	return SimConfig{Seed: 7, Odds: SimOdds{Answered: 1}, RingMin: 10 * time.Millisecond, RingMax: 30 * time.Millisecond,
		TalkMin: 400 * time.Millisecond, TalkMax: 600 * time.Millisecond, VoicemailDuration: 600 * time.Millisecond,
		Agents: map[string]AgentOdds{"ag": {Qualified: 1, NotInterested: 1, Callback: 1, DoNotCall: 1}}}
}

func testRequest(lead uint64) engine.CallRequest {
	vars := map[string]string{"first_name": "Arjun", "company": "Acme", "policy_type": "Health"}
	prompt, _ := engine.Render("You are calling {{first_name}} from {{company}} about their {{policy_type}} policy.", vars)
	return engine.CallRequest{CampaignID: 3, CampaignName: "Renewals", LeadID: lead, Attempt: 1, Phone: "+919876543210", AgentID: "ag",
		Variables: vars, Prompt: prompt,
		WelcomeMessage: "Hi Arjun, calling from Acme."}
}

func fastAgent(url string) AgentConfig {
	return AgentConfig{URL: url, Token: "tok-123", Net: NetOptions{Loopback: true}, AnswerTimeout: 3 * time.Second,
		ConnectTimeout: 5 * time.Second, FirstAudioTimeout: 3 * time.Second, MaxDuration: 10 * time.Second}
}

func TestFullCallOverWebRTC(t *testing.T) {
	noLeaks(t)
	sim := NewSimPlacer(answeredConfig(), nil)
	var mu sync.Mutex
	var sessions []SimSession
	var outputs []string
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim, Token: "tok-123",
		OnSession:        func(s SimSession) { mu.Lock(); sessions = append(sessions, s); mu.Unlock() },
		OnFunctionOutput: func(id, out string) { mu.Lock(); outputs = append(outputs, id+" "+out); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	b := NewBridge(NewSimCarrier(sim), func(req engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(agent.URL())
		c.Header = SimCallHeader(req)
		return c, nil
	}, nil)

	seen := map[string]bool{}
	for lead := uint64(1); lead <= 4; lead++ {
		req := testRequest(lead)
		var states []string
		var pmu sync.Mutex
		req.OnProgress = func(p engine.CallProgress) { pmu.Lock(); states = append(states, p.State); pmu.Unlock() }
		want := sim.Simulate(req)
		res := b.Place(context.Background(), req)
		if res.Outcome != engine.OutcomeAnswered || !res.Answered {
			t.Fatalf("lead %d: outcome %s (%s), want answered", lead, res.Outcome, res.Reason)
		}
		if res.PacketsToAgent == 0 || res.PacketsFromAgent == 0 {
			t.Fatalf("lead %d: audio did not flow both ways: to agent %d, from agent %d", lead, res.PacketsToAgent, res.PacketsFromAgent)
		}
		if res.Analysis == nil || res.Analysis.NextAction != want.Analysis.NextAction || res.Analysis.LeadQualified != want.Analysis.LeadQualified ||
			res.Analysis.Summary != want.Analysis.Summary {
			t.Fatalf("lead %d: analysis %+v, want the simulated %+v", lead, res.Analysis, want.Analysis)
		}
		if (want.Analysis.CallbackAt != nil) != (res.Analysis.CallbackAt != nil) || res.Analysis.Fields["interest"] != want.Analysis.Fields["interest"] {
			t.Fatalf("lead %d: callback/fields lost: %+v want %+v", lead, res.Analysis, want.Analysis)
		}
		if d := engine.Dispose(res, true); string(d) != want.Analysis.NextAction && !(d == engine.DispDNC && want.Analysis.NextAction == engine.ActionDoNotCall) {
			t.Fatalf("lead %d: disposition %s from next_action %s", lead, d, want.Analysis.NextAction)
		}
		seen[res.Analysis.NextAction] = true
		if len(res.Transcript) != len(want.Transcript) || !strings.Contains(res.Transcript[0].Text, "Arjun") ||
			res.Transcript[1].Speaker != "callee" {
			t.Fatalf("lead %d: transcript %+v, want %+v", lead, res.Transcript, want.Transcript)
		}
		pmu.Lock()
		got := strings.Join(states, ",")
		pmu.Unlock()
		for _, s := range []string{"dialing", "ringing", "talking", "ended"} {
			if !strings.Contains(got, s) {
				t.Fatalf("lead %d: progress %q lacks %q", lead, got, s)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sessions) != 4 {
		t.Fatalf("sim agent saw %d session.update, want 4", len(sessions))
	}
	s := sessions[0]
	if s.Instructions != "You are calling Arjun from Acme about their Health policy." || s.ToolChoice != "auto" ||
		len(s.Tools) != 1 || s.Tools[0] != "end_call" {
		t.Fatalf("session.update: %+v", s)
	}
	if len(outputs) == 0 {
		t.Fatal("the agent never got its end_call answered with function_call_output")
	}
	t.Logf("next actions seen: %v; relay latency p50 %v p99 %v max %v", seen, b.Latency().Quantile(0.5), b.Latency().Quantile(0.99), b.Latency().Max())
}

func TestVoicemailCall(t *testing.T) {
	noLeaks(t)
	cfg := answeredConfig()
	cfg.Odds = SimOdds{Voicemail: 1}
	sim := NewSimPlacer(cfg, nil)
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	b := NewBridge(NewSimCarrier(sim), func(req engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(agent.URL())
		c.Header = SimCallHeader(req)
		return c, nil
	}, nil)
	res := b.Place(context.Background(), testRequest(1))
	if res.Outcome != engine.OutcomeVoicemail || res.Analysis == nil || res.Analysis.NextAction != engine.ActionVoicemail ||
		res.PacketsToAgent == 0 || res.PacketsFromAgent == 0 {
		t.Fatalf("voicemail call: %+v", res)
	}
}

var candidateRe = regexp.MustCompile(`(?m)^a=candidate:\S+ \d+ \S+ \d+ (\S+) `)

// capture is an agent endpoint on 127.0.0.1 that records the offer and
// answers with a fixed status.
func capture(t *testing.T, status int, body string, delay time.Duration) (string, <-chan *http.Request, <-chan string) {
	reqs, offers := make(chan *http.Request, 1), make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case reqs <- r:
			offers <- string(b)
		default:
		}
		if delay > 0 {
			select {
			case <-r.Context().Done():
			case <-time.After(delay):
			}
		}
		http.Error(w, body, status)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/v1/realtime", reqs, offers
}

func placeAgainst(t *testing.T, cfg AgentConfig, simCfg SimConfig) engine.CallResult {
	t.Helper()
	sim := NewSimPlacer(simCfg, nil)
	b := NewBridge(NewSimCarrier(sim), func(engine.CallRequest) (AgentConfig, error) { return cfg, nil }, nil)
	done := make(chan engine.CallResult, 1)
	go func() { done <- b.Place(context.Background(), testRequest(1)) }()
	select {
	case res := <-done:
		return res
	case <-time.After(20 * time.Second):
		t.Fatal("Place hung")
	}
	return engine.CallResult{}
}

func wantFailed(t *testing.T, res engine.CallResult, reason ...string) {
	t.Helper()
	if res.Outcome != engine.OutcomeFailed {
		t.Fatalf("outcome %s (%s), want failed", res.Outcome, res.Reason)
	}
	for _, r := range reason {
		if !strings.Contains(res.Reason, r) {
			t.Fatalf("reason %q lacks %q", res.Reason, r)
		}
	}
}

func TestOfferIsLoopbackPCMUAndAuthenticated401(t *testing.T) {
	noLeaks(t)
	url, reqs, offers := capture(t, http.StatusUnauthorized, "invalid api key\n", 0)
	res := placeAgainst(t, fastAgent(url), answeredConfig())
	wantFailed(t, res, "HTTP 401", "invalid api key")
	r, offer := <-reqs, <-offers
	if r.Header.Get("Content-Type") != "application/sdp" || r.Header.Get("Authorization") != "Bearer tok-123" {
		t.Fatalf("offer headers: %v", r.Header)
	}
	if strings.Contains(res.Reason, "tok-123") {
		t.Fatal("the token leaked into the reason")
	}
	cands := candidateRe.FindAllStringSubmatch(offer, -1)
	if len(cands) == 0 {
		t.Fatalf("offer has no candidates (not a complete non-trickle offer):\n%s", offer)
	}
	for _, c := range cands {
		if c[1] != "127.0.0.1" {
			t.Fatalf("offer has a non-loopback candidate %q:\n%s", c[1], offer)
		}
	}
	if !strings.Contains(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n") || !strings.Contains(offer, "a=rtpmap:0 PCMU/8000") ||
		!strings.Contains(offer, "m=application") {
		t.Fatalf("offer is not PCMU-only audio plus a data channel:\n%s", offer)
	}
}

func TestAgent500(t *testing.T) {
	noLeaks(t)
	url, _, _ := capture(t, http.StatusInternalServerError, "model overloaded", 0)
	wantFailed(t, placeAgainst(t, fastAgent(url), answeredConfig()), "HTTP 500", "model overloaded")
}

func TestAgentDown(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	wantFailed(t, placeAgainst(t, fastAgent("http://"+addr+"/v1/realtime"), answeredConfig()), "connection refused")
}

func TestAgentSlowAnswer(t *testing.T) {
	noLeaks(t)
	url, _, _ := capture(t, http.StatusCreated, "", 5*time.Second)
	cfg := fastAgent(url)
	cfg.AnswerTimeout = 300 * time.Millisecond
	start := time.Now()
	wantFailed(t, placeAgainst(t, cfg, answeredConfig()), "answer timeout")
	if time.Since(start) > 3*time.Second {
		t.Fatalf("answer timeout took %v", time.Since(start))
	}
}

// longCallAgent starts a sim agent whose answered calls talk for a minute
// (longer than any test waits), checking for leaks at the end.
func longCallAgent(t *testing.T) (SimConfig, *SimPlacer, *SimAgent) {
	t.Helper()
	noLeaks(t)
	cfg := answeredConfig()
	cfg.TalkMin, cfg.TalkMax = time.Minute, time.Minute
	sim := NewSimPlacer(cfg, nil)
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	return cfg, sim, agent
}

func TestAgentNeverEndsCall(t *testing.T) {
	cfg, _, agent := longCallAgent(t)
	ac := fastAgent(agent.URL())
	ac.MaxDuration = 700 * time.Millisecond
	ac.Header = SimCallHeader(testRequest(1))
	res := placeAgainst(t, ac, cfg)
	wantFailed(t, res, "max call duration")
	if res.PacketsFromAgent == 0 || len(res.Transcript) == 0 {
		t.Fatalf("the call should have been live until the limit: %+v", res)
	}
}

func TestHangupOnCancel(t *testing.T) {
	_, sim, agent := longCallAgent(t)
	b := NewBridge(NewSimCarrier(sim), func(req engine.CallRequest) (AgentConfig, error) { return fastAgent(agent.URL()), nil }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req := testRequest(1)
	req.OnProgress = func(p engine.CallProgress) {
		if p.LastLine != "" {
			cancel()
		}
	}
	done := make(chan engine.CallResult, 1)
	go func() { done <- b.Place(ctx, req) }()
	select {
	case res := <-done:
		wantFailed(t, res, "hung up")
	case <-time.After(15 * time.Second):
		t.Fatal("Place did not return after cancel")
	}
	for i := 0; agent.Sessions() > 0 && i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := agent.Sessions(); n != 0 {
		t.Fatalf("the agent still has %d sessions after hang-up (DELETE not sent?)", n)
	}
}

func TestAgentSendsNoAudio(t *testing.T) {
	noLeaks(t)
	cfg := answeredConfig()
	cfg.TalkMin, cfg.TalkMax = time.Minute, time.Minute
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: NewSimPlacer(cfg, nil), Mute: true})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	ac := fastAgent(agent.URL())
	ac.FirstAudioTimeout = 500 * time.Millisecond
	res := placeAgainst(t, ac, cfg)
	wantFailed(t, res, "no audio from the agent within 500ms")
	if res.PacketsToAgent == 0 {
		t.Fatalf("the callee's audio should have reached the agent: %+v", res)
	}
}

// TestICENeverConnects answers with a real SDP answer whose only candidate
// is a loopback port nobody listens on: signaling succeeds, media cannot.
func TestICENeverConnects(t *testing.T) {
	noLeaks(t)
	api, err := newAPI(NetOptions{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := dead.LocalAddr().(*net.UDPAddr).Port
	dead.Close()
	candPort := regexp.MustCompile(`(?m)^(a=candidate:\S+ \d+ \S+ \d+ 127\.0\.0\.1) \d+ `)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offer, _ := io.ReadAll(r.Body)
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer pc.Close()
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		answer, _ := pc.CreateAnswer(nil)
		gathered := webrtc.GatheringCompletePromise(pc)
		pc.SetLocalDescription(answer)
		<-gathered
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, candPort.ReplaceAllString(pc.LocalDescription().SDP, fmt.Sprintf("$1 %d ", deadPort)))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ac := fastAgent("http://" + ln.Addr().String() + "/v1/realtime")
	ac.ConnectTimeout = 800 * time.Millisecond
	wantFailed(t, placeAgainst(t, ac, answeredConfig()), "agent connection not established within 800ms")
}

func TestAgentEventsAndEndCallArguments(t *testing.T) {
	var lines []string
	a := &AgentLeg{cfg: AgentConfig{}.withDefaults(), ended: make(chan struct{}),
		ev: agentEvents{transcript: func(s, x string) { lines = append(lines, s+": "+x) }}}
	for _, e := range []string{
		`{"type":"session.created"}`, `not json`, `{"type":"response.audio.delta","delta":"AAAA"}`,
		`{"type":"response.audio_transcript.done","transcript":"Hi Arjun"}`,
		`{"type":"conversation.item.input_audio_transcription.completed","transcript":" Hello? "}`,
		`{"type":"response.output_audio_transcript.done","transcript":"Great"}`,
	} {
		a.handle([]byte(e))
	}
	if a.Ignored() != 3 || strings.Join(lines, "|") != "agent: Hi Arjun|callee: Hello?|agent: Great" {
		t.Fatalf("ignored %d, lines %q", a.Ignored(), lines)
	}
	an := analysisFrom(EndCallArgs{LeadQualified: true, NextAction: "callback", Summary: "s", CallbackAt: "2026-12-01T10:00:00+05:30",
		Fields: map[string]any{"plan": "gold", "seats": 3.0, "ok": true}}, a.cfg.Log)
	if an.NextAction != "callback" || an.CallbackAt == nil || an.CallbackAt.UTC().Hour() != 4 ||
		an.Fields["plan"] != "gold" || an.Fields["seats"] != "3" || an.Fields["ok"] != "true" {
		t.Fatalf("analysis %+v", an)
	}
	bad := analysisFrom(EndCallArgs{NextAction: "maybe", CallbackAt: "tomorrow"}, a.cfg.Log)
	if bad.NextAction != "" || bad.CallbackAt != nil {
		t.Fatalf("invalid arguments kept: %+v", bad)
	}
}

func TestSeqGaps(t *testing.T) {
	var g seqGaps
	var lost uint64
	for _, s := range []uint16{65533, 65534, 65535, 0, 3, 2, 3, 4, 10} {
		lost += g.add(s)
	}
	// 0 -> 3 misses 1 and 2; 2 and the second 3 are late/repeated; 4 -> 10 misses 5..9.
	if lost != 7 {
		t.Fatalf("lost %d, want 7", lost)
	}
}
