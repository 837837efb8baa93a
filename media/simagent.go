package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// CallHeader carries "campaign/lead/attempt/agent" from dialdeck to its
// built-in sim agent, so the agent replays the conversation `dialdeck
// simulate` draws for that call. Real agents ignore it.
const CallHeader = "X-Dialdeck-Call"

// SimAgentOptions configures the built-in simulated agent.
type SimAgentOptions struct {
	// Sim draws conversations; nil uses DefaultAgentOdds and fresh seeds.
	Sim *SimPlacer
	// Token, when set, is required as the Bearer token.
	Token string
	Log   *slog.Logger
	// OnSession, when set, sees every session.update the agent receives
	// (tests check what dialdeck sent).
	OnSession func(SimSession)
	// OnFunctionOutput, when set, sees every function_call_output.
	OnFunctionOutput func(callID, output string)
	// Mute sends no audio at all (tests of the first-audio timeout).
	Mute bool
}

// SimSession is what a dialer configured in session.update.
type SimSession struct {
	Instructions string
	Voice        string
	Tools        []string
	ToolChoice   string
}

// SimAgent is a real WebRTC agent endpoint on loopback speaking dialdeck's
// agent protocol: the same path a production agent takes, with scripted
// lines instead of a model.
type SimAgent struct {
	opts SimAgentOptions
	api  *webrtc.API
	ln   net.Listener
	srv  *http.Server
	log  *slog.Logger

	mu       sync.Mutex
	sessions map[string]*simSession
	closed   bool
	wg       sync.WaitGroup
	nextID   atomic.Uint64
	sent     atomic.Uint64 // RTP packets sent, all sessions
	heard    atomic.Uint64 // RTP packets received, all sessions
	lost     atomic.Uint64 // sequence gaps in what was received
}

// Lost is the packets the agent never received, from RTP sequence gaps.
func (s *SimAgent) Lost() uint64 { return s.lost.Load() }

// Packets is the RTP packets the agent sent and received over all sessions.
func (s *SimAgent) Packets() (sent, heard uint64) { return s.sent.Load(), s.heard.Load() }

// StartSimAgent listens on addr (a loopback address; port 0 picks a free
// one) and serves offers until Close.
func StartSimAgent(addr string, opts SimAgentOptions) (*SimAgent, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Sim == nil {
		opts.Sim = NewSimPlacer(SimConfig{Seed: rand.Uint64(), TalkMin: 3 * time.Second, TalkMax: 8 * time.Second,
			VoicemailDuration: 4 * time.Second}, nil)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sim agent listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("sim agent listen address %q: must be a loopback IP such as 127.0.0.1", addr)
	}
	api, err := newAPI(NetOptions{Loopback: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim agent: %w", err)
	}
	s := &SimAgent{opts: opts, api: api, ln: ln, log: opts.Log, sessions: map[string]*simSession{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/realtime", s.offer)
	mux.HandleFunc("DELETE /v1/realtime/sessions/{id}", s.hangup)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sim agent server stopped", "err", err)
		}
	}()
	return s, nil
}

// URL is the endpoint to POST offers to.
func (s *SimAgent) URL() string { return "http://" + s.ln.Addr().String() + "/v1/realtime" }

// Sessions is the number of live sessions.
func (s *SimAgent) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close stops the server and hangs up every session.
func (s *SimAgent) Close() error {
	s.mu.Lock()
	s.closed = true
	live := make([]*simSession, 0, len(s.sessions))
	for _, ss := range s.sessions {
		live = append(live, ss)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	for _, ss := range live {
		ss.close()
	}
	s.wg.Wait()
	return err
}

func (s *SimAgent) offer(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		http.Error(w, "invalid or missing bearer token", http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		http.Error(w, "want Content-Type application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
	if err != nil {
		http.Error(w, "reading offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	ss, answer, err := s.newSession(id, string(body), r.Header.Get(CallHeader))
	if err != nil {
		s.log.Warn("sim agent could not answer an offer", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ss.close()
		http.Error(w, "sim agent shutting down", http.StatusServiceUnavailable)
		return
	}
	select {
	case <-ss.done:
		// Already hung up (close deletes under s.mu, after closing done):
		// registering it now would leave a stale entry.
	default:
		s.sessions[id] = ss
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/v1/realtime/sessions/"+id)
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

func (s *SimAgent) hangup(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ss := s.sessions[r.PathValue("id")]
	s.mu.Unlock()
	if ss == nil {
		http.NotFound(w, r)
		return
	}
	ss.close()
	w.WriteHeader(http.StatusNoContent)
}

// simSession is one call the sim agent is on.
type simSession struct {
	agent    *SimAgent
	id       string
	call     string // CallHeader value
	pc       *webrtc.PeerConnection
	track    *webrtc.TrackLocalStaticRTP
	done     chan struct{}
	once     sync.Once
	started  atomic.Bool
	speaking atomic.Bool

	mu           sync.Mutex
	dc           *webrtc.DataChannel
	instructions string
}

func (s *SimAgent) newSession(id, offer, call string) (*simSession, string, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	ss := &simSession{agent: s, id: id, call: call, pc: pc, done: make(chan struct{})}
	fail := func(err error) (*simSession, string, error) {
		ss.close()
		return nil, "", err
	}
	if ss.track, err = webrtc.NewTrackLocalStaticRTP(pcmuCodec.RTPCodecCapability, "audio", "sim-agent"); err != nil {
		return fail(fmt.Errorf("audio track: %w", err))
	}
	sender, err := pc.AddTrack(ss.track)
	if err != nil {
		return fail(fmt.Errorf("add audio track: %w", err))
	}
	ss.goDrain(func(b []byte) error { _, _, err := sender.Read(b); return err })
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var gaps seqGaps
		ss.goDrain(func(b []byte) error {
			n, _, err := t.Read(b)
			if err != nil {
				return err
			}
			ss.agent.heard.Add(1)
			var h rtp.Header
			if _, err := h.Unmarshal(b[:n]); err == nil {
				if m := gaps.add(h.SequenceNumber); m > 0 {
					ss.agent.lost.Add(m)
				}
			}
			return nil
		})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != EventsChannel {
			return
		}
		ss.mu.Lock()
		ss.dc = dc
		ss.mu.Unlock()
		dc.OnMessage(func(m webrtc.DataChannelMessage) { ss.handle(m.Data) })
		// The dialer closing its side ends the call here too.
		dc.OnClose(func() { go ss.close() })
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			if !s.opts.Mute {
				ss.spawn(ss.sendAudio)
			}
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
			go ss.close()
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(fmt.Errorf("offer: %w", err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("create answer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("set local description: %w", err))
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return fail(errors.New("ICE gathering did not complete"))
	}
	return ss, pc.LocalDescription().SDP, nil
}

// spawn runs f as a session goroutine the agent waits for on Close.
func (ss *simSession) spawn(f func()) {
	ss.agent.wg.Add(1)
	go func() {
		defer ss.agent.wg.Done()
		f()
	}()
}

func (ss *simSession) goDrain(read func([]byte) error) {
	ss.spawn(func() {
		buf := make([]byte, 1500)
		for read(buf) == nil {
		}
	})
}

func (ss *simSession) close() {
	ss.once.Do(func() {
		close(ss.done)
		if err := ss.pc.GracefulClose(); err != nil {
			ss.agent.log.Debug("sim agent close", "err", err)
		}
		ss.agent.mu.Lock()
		delete(ss.agent.sessions, ss.id)
		ss.agent.mu.Unlock()
	})
}

// sendAudio sends 20 ms PCMU frames paced by the wall clock: speech-like
// noise while the agent "talks", silence otherwise.
func (ss *simSession) sendAudio() {
	r := rand.New(rand.NewPCG(rand.Uint64(), 1))
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(r.Uint32()), Timestamp: r.Uint32()},
		Payload: make([]byte, frameSamples)}
	next, sample := time.Now(), 0
	for {
		kind := toneSilence
		if ss.speaking.Load() {
			kind = toneSpeech
		}
		fill(pkt.Payload, kind, r, &sample)
		if err := ss.track.WriteRTP(&pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			return
		}
		ss.agent.sent.Add(1)
		pkt.SequenceNumber++
		pkt.Timestamp += frameSamples
		next = next.Add(frameDuration)
		t := time.NewTimer(time.Until(next))
		select {
		case <-t.C:
		case <-ss.done:
			t.Stop()
			return
		}
	}
}

type simEvent struct {
	Type    string `json:"type"`
	Session struct {
		Instructions string                  `json:"instructions"`
		Voice        string                  `json:"voice"`
		ToolChoice   string                  `json:"tool_choice"`
		Tools        []struct{ Name string } `json:"tools"`
	} `json:"session"`
	Response struct {
		Instructions string `json:"instructions"`
	} `json:"response"`
	Item struct {
		Type   string `json:"type"`
		CallID string `json:"call_id"`
		Output string `json:"output"`
	} `json:"item"`
}

func (ss *simSession) handle(data []byte) {
	var e simEvent
	if err := json.Unmarshal(data, &e); err != nil {
		ss.send(map[string]any{"type": "error", "error": map[string]any{"message": "invalid JSON: " + err.Error()}})
		return
	}
	switch e.Type {
	case "session.update":
		ss.mu.Lock()
		ss.instructions = e.Session.Instructions
		ss.mu.Unlock()
		if f := ss.agent.opts.OnSession; f != nil {
			info := SimSession{Instructions: e.Session.Instructions, Voice: e.Session.Voice, ToolChoice: e.Session.ToolChoice}
			for _, t := range e.Session.Tools {
				info.Tools = append(info.Tools, t.Name)
			}
			f(info)
		}
		ss.send(map[string]any{"type": "session.updated"})
	case "response.create":
		if ss.started.CompareAndSwap(false, true) {
			welcome := strings.TrimPrefix(e.Response.Instructions, "Start the call by saying exactly: ")
			ss.spawn(func() { ss.script(welcome) })
		}
	case "conversation.item.create":
		if e.Item.Type == "function_call_output" && ss.agent.opts.OnFunctionOutput != nil {
			ss.agent.opts.OnFunctionOutput(e.Item.CallID, e.Item.Output)
		}
	}
}

func (ss *simSession) send(v any) {
	ss.mu.Lock()
	dc := ss.dc
	ss.mu.Unlock()
	if dc == nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	if err := dc.SendText(string(b)); err != nil {
		ss.agent.log.Debug("sim agent send", "err", err)
	}
}

// script plays the conversation: transcript lines at their offsets, then
// end_call with the drawn analysis.
func (ss *simSession) script(welcome string) {
	ss.mu.Lock()
	instr := ss.instructions
	ss.mu.Unlock()
	lines, end, args := ss.agent.plan(ss.call, instr, welcome)
	start := time.Now()
	wait := func(at time.Duration) bool {
		t := time.NewTimer(time.Until(start.Add(at)))
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ss.done:
			return false
		}
	}
	ss.speaking.Store(true)
	ss.send(map[string]any{"type": "output_audio_buffer.started"})
	for _, l := range lines {
		if !wait(l.At) {
			return
		}
		if l.Speaker == "agent" {
			ss.speaking.Store(true)
			ss.send(map[string]any{"type": "response.audio_transcript.done", "transcript": l.Text})
		} else {
			ss.speaking.Store(false)
			ss.send(map[string]any{"type": "conversation.item.input_audio_transcription.completed", "transcript": l.Text})
		}
	}
	if !wait(end) {
		return
	}
	ss.speaking.Store(false)
	ss.send(map[string]any{"type": "output_audio_buffer.stopped"})
	b, _ := json.Marshal(args)
	ss.send(map[string]any{"type": "response.function_call_arguments.done", "name": "end_call",
		"call_id": "call_" + ss.id, "arguments": string(b)})
}

var nameRe = regexp.MustCompile(`(?i:\b(?:calling|speaking with|talking to|hi|hello))\s+(\p{Lu}[\p{L}'-]*)`)

// leadName finds the callee's name in the rendered instructions or welcome.
func leadName(texts ...string) string {
	for _, t := range texts {
		if m := nameRe.FindStringSubmatch(t); m != nil {
			return m[1]
		}
	}
	return ""
}

// plan decides the conversation. With dialdeck's call header it replays
// the SimPlacer's draw for that call (same outcome as `dialdeck simulate`);
// otherwise it draws a fresh one.
func (s *SimAgent) plan(call, instructions, welcome string) ([]engine.TranscriptLine, time.Duration, EndCallArgs) {
	p := s.opts.Sim
	req := engine.CallRequest{WelcomeMessage: welcome, Variables: map[string]string{}}
	if name := leadName(instructions, welcome); name != "" {
		req.Variables["first_name"] = name
	}
	parts := strings.Split(call, "/")
	var res engine.CallResult
	if len(parts) == 4 {
		req.CampaignID, _ = strconv.ParseUint(parts[0], 10, 64)
		req.LeadID, _ = strconv.ParseUint(parts[1], 10, 64)
		req.Attempt, _ = strconv.Atoi(parts[2])
		req.AgentID = parts[3]
		res = p.Simulate(req)
	}
	switch res.Outcome {
	case engine.OutcomeAnswered:
	case engine.OutcomeVoicemail:
		name := req.Variables["first_name"]
		if name == "" {
			name = "there"
		}
		d := p.cfg.VoicemailDuration
		return []engine.TranscriptLine{{At: d * 3 / 4, Speaker: "agent", Text: fmt.Sprintf("Hi %s, sorry we missed you. Please call us back.", name)}},
			d, EndCallArgs{NextAction: engine.ActionVoicemail, Summary: "Reached voicemail and left a message."}
	default:
		// No call header (another dialer) or a callee the carrier did not
		// connect: draw a conversation of our own.
		r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		res.TalkDuration = between(r, p.cfg.TalkMin, p.cfg.TalkMax)
		res.Analysis, res.Transcript = p.conversation(r, req, res.TalkDuration)
	}
	a := res.Analysis
	args := EndCallArgs{LeadQualified: a.LeadQualified, NextAction: a.NextAction, Summary: a.Summary}
	if a.CallbackAt != nil {
		args.CallbackAt = a.CallbackAt.Format(time.RFC3339)
	}
	if len(a.Fields) > 0 {
		args.Fields = map[string]any{}
		for k, v := range a.Fields {
			args.Fields[k] = v
		}
	}
	return res.Transcript, res.TalkDuration, args
}

// SimCallHeader is the header dialdeck sends its own sim agent for req.
func SimCallHeader(req engine.CallRequest) http.Header {
	return http.Header{CallHeader: {fmt.Sprintf("%d/%d/%d/%s", req.CampaignID, req.LeadID, req.Attempt, req.AgentID)}}
}
