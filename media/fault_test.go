package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Fault injection in the media path: an agent that dies, stalls or sends
// garbage mid-call, and a phone leg that drops. Every call must end with a
// clear reason, promptly, leaving no goroutine behind (noLeaks).

// faultAgent is a minimal pion answerer on loopback. Once a session's
// events channel opens it runs script, which plays the fault.
type faultAgent struct {
	t   *testing.T
	api *webrtc.API
	srv *http.Server
	url string
	wg  sync.WaitGroup

	mu  sync.Mutex
	pcs []*webrtc.PeerConnection
}

// faultSession is one call the fault agent is on.
type faultSession struct {
	agent *faultAgent
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	dc    *webrtc.DataChannel
	done  chan struct{} // closed once the connection closes or fails
	once  sync.Once
	sent  atomic.Uint64 // RTP packets sent
}

func startFaultAgent(t *testing.T, script func(s *faultSession)) *faultAgent {
	t.Helper()
	return startFaultAgentNet(t, NetOptions{Loopback: true}, script)
}

func startFaultAgentNet(t *testing.T, no NetOptions, script func(s *faultSession)) *faultAgent {
	t.Helper()
	api, err := newAPI(no)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fa := &faultAgent{t: t, api: api, url: "http://" + ln.Addr().String() + "/v1/realtime"}
	fa.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fa.offer(w, r, script) })}
	go fa.srv.Serve(ln)
	t.Cleanup(func() {
		fa.srv.Close()
		fa.mu.Lock()
		pcs := fa.pcs
		fa.mu.Unlock()
		for _, pc := range pcs {
			pc.Close()
		}
		fa.wg.Wait()
	})
	return fa
}

func (fa *faultAgent) spawn(f func()) {
	fa.wg.Add(1)
	go func() {
		defer fa.wg.Done()
		f()
	}()
}

func (fa *faultAgent) offer(w http.ResponseWriter, r *http.Request, script func(*faultSession)) {
	offer, _ := io.ReadAll(r.Body)
	pc, err := fa.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	fa.mu.Lock()
	fa.pcs = append(fa.pcs, pc)
	fa.mu.Unlock()
	s := &faultSession{agent: fa, pc: pc, done: make(chan struct{})}
	drain := func(read func([]byte) error) {
		fa.spawn(func() {
			buf := make([]byte, 1500)
			for read(buf) == nil {
			}
		})
	}
	s.track, _ = webrtc.NewTrackLocalStaticRTP(pcmuCodec.RTPCodecCapability, "audio", "fault-agent")
	sender, err := pc.AddTrack(s.track)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	drain(func(b []byte) error { _, _, err := sender.Read(b); return err })
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		drain(func(b []byte) error { _, _, err := tr.Read(b); return err })
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() {
			s.dc = dc
			fa.spawn(func() { script(s) })
		})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed {
			s.once.Do(func() { close(s.done) })
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	answer, _ := pc.CreateAnswer(nil)
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	<-gathered
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, pc.LocalDescription().SDP)
}

// audio sends 20 ms PCMU frames for d, or until stop or the call closes.
func (s *faultSession) audio(d time.Duration, stop <-chan struct{}) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: make([]byte, frameSamples)}
	tick := time.NewTicker(frameDuration)
	defer tick.Stop()
	end := time.After(d)
	for {
		if err := s.track.WriteRTP(&pkt); err == nil {
			s.sent.Add(1)
		}
		pkt.SequenceNumber++
		pkt.Timestamp += frameSamples
		select {
		case <-tick.C:
		case <-end:
			return
		case <-stop:
			return
		case <-s.done:
			return
		}
	}
}

func (s *faultSession) say(text string) {
	s.dc.SendText(`{"type":"response.audio_transcript.done","transcript":"` + text + `"}`)
}

// wait blocks for d or until the call closes; false if it closed.
func (s *faultSession) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// placeOne places one call through b, failing the test if it hangs.
func placeOne(t *testing.T, b *Bridge, limit time.Duration) (engine.CallResult, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan engine.CallResult, 1)
	go func() { done <- b.Place(context.Background(), testRequest(1)) }()
	select {
	case res := <-done:
		return res, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("Place hung for %v", limit)
	}
	return engine.CallResult{}, 0
}

func faultBridge(url string, tune func(*AgentConfig), log *slog.Logger) *Bridge {
	return NewBridge(NewSimCarrier(NewSimPlacer(answeredConfig(), nil)), func(engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(url)
		if tune != nil {
			tune(&c)
		}
		return c, nil
	}, log)
}

// TestFaultAgentDiesMidCall: the agent talks, then its PeerConnection and
// HTTP server go away. The call ends at once (not at max duration) with
// the reason, and the phone leg is hung up.
func TestFaultAgentDiesMidCall(t *testing.T) {
	noLeaks(t)
	var fa *faultAgent
	fa = startFaultAgent(t, func(s *faultSession) {
		stop := make(chan struct{})
		fa.spawn(func() { s.audio(time.Minute, stop) })
		s.say("Hi Arjun")
		if !s.wait(400 * time.Millisecond) {
			return
		}
		close(stop)
		s.pc.Close()
		fa.srv.Close()
	})
	res, took := placeOne(t, faultBridge(fa.url, nil, nil), 15*time.Second)
	wantFailed(t, res)
	if !strings.Contains(res.Reason, "agent closed the events channel") && !strings.Contains(res.Reason, "connection to the agent failed") {
		t.Fatalf("reason %q does not say the agent went away", res.Reason)
	}
	if took > 5*time.Second || res.PacketsFromAgent == 0 || len(res.Transcript) == 0 {
		t.Fatalf("the call should have talked and then ended promptly: took %v, %+v", took, res)
	}
}

// TestFaultSimAgentClosedMidCall: the built-in sim agent shuts down while
// a call is talking; the dialer hangs up with a reason.
func TestFaultSimAgentClosedMidCall(t *testing.T) {
	_, sim, agent := longCallAgent(t)
	b := NewBridge(NewSimCarrier(sim), func(req engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(agent.URL())
		c.Header = SimCallHeader(req)
		return c, nil
	}, nil)
	req := testRequest(1)
	var once sync.Once
	req.OnProgress = func(p engine.CallProgress) {
		if p.LastLine != "" {
			once.Do(func() { go agent.Close() })
		}
	}
	done := make(chan engine.CallResult, 1)
	go func() { done <- b.Place(context.Background(), req) }()
	select {
	case res := <-done:
		wantFailed(t, res, "agent closed the events channel")
	case <-time.After(8 * time.Second):
		t.Fatal("Place did not end after the sim agent closed")
	}
}

// TestFaultAgentStalls: the agent talks, then sends nothing at all (no
// audio, no events) while keeping the connection up. The call ends at the
// max duration, with that reason; the max duration is past the
// connection-lost timeout, so this also shows a silent but live agent (its
// ICE still answers keepalive checks) is not taken for a vanished one.
func TestFaultAgentStalls(t *testing.T) {
	noLeaks(t)
	fa := startFaultAgent(t, func(s *faultSession) {
		s.say("Hi Arjun")
		s.audio(300*time.Millisecond, nil)
		<-s.done // stalled: silent until dialdeck hangs up
	})
	const lost = 3 * time.Second
	maxDur := lost + time.Second
	res, took := placeOne(t, faultBridge(fa.url, func(c *AgentConfig) { c.MaxDuration, c.ConnectionLostTimeout = maxDur, lost }, nil), 20*time.Second)
	wantFailed(t, res, fmt.Sprintf("max call duration %v reached", maxDur))
	if res.PacketsFromAgent == 0 || took > maxDur+3*time.Second {
		t.Fatalf("took %v, %+v", took, res)
	}
}

// TestFaultAgentStallsBeforeAudio: connected but never a packet: the
// first-audio timeout ends it.
func TestFaultAgentStallsBeforeAudio(t *testing.T) {
	noLeaks(t)
	fa := startFaultAgent(t, func(s *faultSession) { <-s.done })
	res, _ := placeOne(t, faultBridge(fa.url, func(c *AgentConfig) { c.FirstAudioTimeout = 400 * time.Millisecond }, nil), 10*time.Second)
	wantFailed(t, res, "no audio from the agent within 400ms")
}

// lockedBuffer is a log sink safe for pion's and the bridge's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFaultAgentSendsGarbage: non-JSON, huge, binary and wrongly typed
// events are ignored and counted; the call goes on and ends normally when
// the agent calls end_call.
func TestFaultAgentSendsGarbage(t *testing.T) {
	noLeaks(t)
	garbage := []string{
		`not json`, `{`, `[]`, `null`, `{"type":123}`, `{"type":"response.audio_transcript.done","transcript":5}`,
		`{"type":"some.future.event"}`, `{"type":""}`, strings.Repeat("x", 60_000),
	}
	var fa *faultAgent
	fa = startFaultAgent(t, func(s *faultSession) {
		stop := make(chan struct{})
		defer close(stop)
		fa.spawn(func() { s.audio(time.Minute, stop) })
		for _, g := range garbage {
			if err := s.dc.SendText(g); err != nil {
				t.Errorf("sending garbage: %v", err)
			}
		}
		if err := s.dc.Send([]byte{0xff, 0x00, 0xfe}); err != nil {
			t.Errorf("sending binary garbage: %v", err)
		}
		s.say("Hi Arjun")
		if !s.wait(300 * time.Millisecond) {
			return
		}
		s.dc.SendText(`{"type":"response.function_call_arguments.done","name":"end_call","call_id":"c1",` +
			`"arguments":"{\"lead_qualified\":true,\"next_action\":\"qualified\",\"summary\":\"ok\"}"}`)
		<-s.done
	})
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, _ := placeOne(t, faultBridge(fa.url, nil, log), 10*time.Second)
	if res.Outcome != engine.OutcomeAnswered || res.Reason != "agent ended the call" || res.Analysis == nil ||
		res.Analysis.NextAction != engine.ActionQualified || len(res.Transcript) != 1 || res.Transcript[0].Text != "Hi Arjun" {
		t.Fatalf("garbage should not change the call: %+v", res)
	}
	want := len(garbage) + 1
	if !strings.Contains(logs.String(), "agent events ignored") || !strings.Contains(logs.String(), "count="+strconv.Itoa(want)) {
		t.Fatalf("want %d ignored events counted; log:\n%s", want, tail(logs.String(), 2000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// droppingCarrier wraps the sim carrier: each answered call's phone leg
// fails with err after n packets from the callee.
type droppingCarrier struct {
	*SimCarrier
	n   int
	err error
}

func (c droppingCarrier) Dial(ctx context.Context, req engine.CallRequest, onState func(string)) (PhoneCall, error) {
	call, err := c.SimCarrier.Dial(ctx, req, onState)
	if err != nil {
		return nil, err
	}
	return &droppingCall{PhoneCall: call, left: c.n, err: c.err}, nil
}

type droppingCall struct {
	PhoneCall
	left int
	err  error
}

// ReadRTP is called by one relay goroutine only.
func (d *droppingCall) ReadRTP(b []byte) (int, error) {
	if d.left == 0 {
		return 0, d.err
	}
	d.left--
	return d.PhoneCall.ReadRTP(b)
}

// TestFaultPhoneLegDrops: the callee hangs up early, or the carrier loses
// the call, mid-conversation. The call ends with the matching reason and
// the agent leg is closed (the sim agent's session is gone).
func TestFaultPhoneLegDrops(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		outcome engine.Outcome
		reason  string
	}{
		{"callee hangs up", io.EOF, engine.OutcomeAnswered, "callee hung up"},
		{"carrier error", errors.New("RTP stream lost (trunk timeout)"), engine.OutcomeFailed, "phone leg lost: RTP stream lost (trunk timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, sim, agent := longCallAgent(t)
			b := NewBridge(droppingCarrier{SimCarrier: NewSimCarrier(sim), n: 25, err: tc.err}, func(req engine.CallRequest) (AgentConfig, error) {
				c := fastAgent(agent.URL())
				c.Header = SimCallHeader(req)
				return c, nil
			}, nil)
			res, took := placeOne(t, b, 10*time.Second)
			if res.Outcome != tc.outcome || res.Reason != tc.reason {
				t.Fatalf("outcome %s (%q), want %s (%q)", res.Outcome, res.Reason, tc.outcome, tc.reason)
			}
			if res.PacketsToAgent == 0 || took > 5*time.Second {
				t.Fatalf("took %v, %+v", took, res)
			}
			for i := 0; agent.Sessions() > 0 && i < 100; i++ {
				time.Sleep(20 * time.Millisecond)
			}
			if n := agent.Sessions(); n != 0 {
				t.Fatalf("the agent leg was not closed: %d sessions left", n)
			}
		})
	}
}

// freezableConn is a fault agent's UDP socket that can freeze: from then
// on every packet in either direction is silently dropped, as when the
// agent's process hangs or its network is cut (no DTLS close, no BYE, no
// ICE failure on its side to tell anyone).
type freezableConn struct {
	net.PacketConn // not *net.UDPConn: its fast paths would bypass ReadFrom/WriteTo
	frozen         atomic.Bool
	dropped        atomic.Uint64
}

func (c *freezableConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.frozen.Load() {
			return n, addr, err
		}
		c.dropped.Add(1)
	}
}

func (c *freezableConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.frozen.Load() {
		c.dropped.Add(1)
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// frozenAgent starts a fault agent whose UDP socket is conn; its own ICE
// timeouts are long, so only the dialer's side decides the call's fate.
func frozenAgent(t *testing.T, script func(s *faultSession, conn *freezableConn)) (*faultAgent, *freezableConn) {
	t.Helper()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn := &freezableConn{PacketConn: udp}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	t.Cleanup(func() { mux.Close() })
	fa := startFaultAgentNet(t, NetOptions{Loopback: true, tune: func(se *webrtc.SettingEngine) {
		se.SetICEUDPMux(mux)
		se.SetICETimeouts(5*time.Second, time.Minute, time.Second)
	}}, func(s *faultSession) { script(s, conn) })
	return fa, conn
}

// TestFaultAgentVanishes: mid-call the agent's network goes silent both
// ways without any close. dialdeck notices within the agent's
// connection-lost timeout (not at ICE's default ~30 s or the max call
// duration) and ends the call failed, with a reason that says so.
func TestFaultAgentVanishes(t *testing.T) {
	noLeaks(t)
	const lost = 3 * time.Second // a short configured value keeps the test fast
	frozenAt := make(chan time.Time, 1)
	var fa *faultAgent
	fa, conn := frozenAgent(t, func(s *faultSession, conn *freezableConn) {
		stop := make(chan struct{})
		fa.spawn(func() { s.audio(time.Minute, stop) })
		s.say("Hi Arjun")
		if !s.wait(500 * time.Millisecond) {
			return
		}
		conn.frozen.Store(true)
		frozenAt <- time.Now()
		close(stop)
		<-s.done
	})
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	res, _ := placeOne(t, faultBridge(fa.url, func(c *AgentConfig) { c.MaxDuration, c.ConnectionLostTimeout = time.Minute, lost }, log), 20*time.Second)
	ended := time.Now()
	wantFailed(t, res, "agent stopped responding: no packets for 3s")
	var froze time.Time
	select {
	case froze = <-frozenAt:
	default:
		t.Fatalf("the agent never froze: %+v", res)
	}
	took := ended.Sub(froze)
	if took < lost || took > lost+3*time.Second || res.PacketsFromAgent == 0 || conn.dropped.Load() == 0 {
		t.Fatalf("call ended %v after the agent froze (want %v..%v), %d packets dropped, %+v",
			took, lost, lost+3*time.Second, conn.dropped.Load(), res)
	}
	if !strings.Contains(logs.String(), "agent connection disconnected") {
		t.Fatalf("the disconnect was not logged:\n%s", tail(logs.String(), 2000))
	}
	t.Logf("ended %v after the agent froze; %d packets dropped at the agent", took.Round(time.Millisecond), conn.dropped.Load())
}

// TestFaultAgentBlipRecovers: with the default connection-lost timeout
// (15 s), the agent's network goes silent both ways for 7 s (past the old
// 5 s limit, and past the 5 s after which the leg counts as disconnected),
// then comes back. The call goes on, the disconnect and the recovery are
// logged, and it ends normally when the agent calls end_call.
func TestFaultAgentBlipRecovers(t *testing.T) {
	noLeaks(t)
	const blip = 7 * time.Second
	var fa *faultAgent
	fa, conn := frozenAgent(t, func(s *faultSession, conn *freezableConn) {
		stop := make(chan struct{})
		defer close(stop)
		fa.spawn(func() { s.audio(time.Minute, stop) })
		s.say("Hi Arjun")
		if !s.wait(500 * time.Millisecond) {
			return
		}
		conn.frozen.Store(true)
		ok := s.wait(blip)
		conn.frozen.Store(false)
		if !ok || !s.wait(time.Second) {
			return // the call ended during the blip: the test fails below
		}
		s.say("Back again")
		s.dc.SendText(`{"type":"response.function_call_arguments.done","name":"end_call","call_id":"c1",` +
			`"arguments":"{\"lead_qualified\":true,\"next_action\":\"qualified\",\"summary\":\"ok\"}"}`)
		<-s.done
	})
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	res, took := placeOne(t, faultBridge(fa.url, func(c *AgentConfig) { c.MaxDuration = time.Minute }, log), 30*time.Second)
	if res.Outcome != engine.OutcomeAnswered || res.Reason != "agent ended the call" || len(res.Transcript) != 2 {
		t.Fatalf("a %v blip should not end the call: %+v\nlog:\n%s", blip, res, tail(logs.String(), 2000))
	}
	l := logs.String()
	if !strings.Contains(l, "agent connection disconnected") || !strings.Contains(l, "agent connection recovered") || conn.dropped.Load() == 0 {
		t.Fatalf("want the disconnect and the recovery logged, packets dropped (%d):\n%s", conn.dropped.Load(), tail(l, 2000))
	}
	t.Logf("call survived a %v blip (%d packets dropped), took %v", blip, conn.dropped.Load(), took.Round(time.Millisecond))
}
