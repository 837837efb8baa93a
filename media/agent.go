package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/pion/webrtc/v4"
)

// EventsChannel is the data channel label OpenAI Realtime uses for its JSON
// events; dialdeck speaks the same protocol so any compatible agent works.
const EventsChannel = "oai-events"

// Agent leg defaults; every one can be overridden per agent (tests use
// milliseconds).
const (
	DefaultAnswerTimeout     = 10 * time.Second
	DefaultConnectTimeout    = 10 * time.Second
	DefaultFirstAudioTimeout = 10 * time.Second
	DefaultMaxDuration       = 10 * time.Minute
)

// AgentConfig says how to reach one agent and how long to wait for it.
type AgentConfig struct {
	URL   string
	Token string // sent as "Authorization: Bearer <token>"; never logged
	Voice string
	Net   NetOptions
	// Header holds extra request headers for the offer (the built-in sim
	// agent reads X-Dialdeck-Call to replay the simulated conversation).
	Header http.Header
	// AnswerTimeout bounds gathering plus the offer POST until the answer.
	AnswerTimeout time.Duration
	// ConnectTimeout bounds ICE, DTLS and the data channel opening.
	ConnectTimeout time.Duration
	// FirstAudioTimeout is how long after connecting the agent may stay silent.
	FirstAudioTimeout time.Duration
	// MaxDuration ends a call whose agent never calls end_call.
	MaxDuration time.Duration
	// ConnectionLostTimeout ends a call whose agent leg has carried no
	// packet at all (audio, RTCP, ICE check) for this long: the agent
	// vanished without hanging up. Shorter blips are ridden out.
	ConnectionLostTimeout time.Duration
	HTTPClient            *http.Client
	Log                   *slog.Logger
}

func (c AgentConfig) withDefaults() AgentConfig {
	if c.AnswerTimeout <= 0 {
		c.AnswerTimeout = DefaultAnswerTimeout
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.FirstAudioTimeout <= 0 {
		c.FirstAudioTimeout = DefaultFirstAudioTimeout
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = DefaultMaxDuration
	}
	if c.ConnectionLostTimeout <= 0 {
		c.ConnectionLostTimeout = DefaultConnectionLostTimeout
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Voice == "" {
		c.Voice = "alloy"
	}
	return c
}

// agentEvents receives what the agent says and does; callbacks must not block.
type agentEvents struct {
	transcript func(speaker, text string)
	speaking   func(bool)
}

// AgentLeg is one live PeerConnection to an AI agent.
type AgentLeg struct {
	cfg      AgentConfig
	pc       *webrtc.PeerConnection
	track    *webrtc.TrackLocalStaticRTP
	dc       *webrtc.DataChannel
	location string
	ev       agentEvents

	remote    atomic.Pointer[webrtc.TrackRemote] // the agent's audio, once it arrives
	hasRemote chan struct{}                      // closed when remote is set
	opened    chan struct{}
	ended     chan struct{}
	endOnce   sync.Once
	closeOnce sync.Once

	mu        sync.Mutex
	endReason string
	byAgent   bool
	analysis  *engine.Analysis

	ignored atomic.Int64

	// lost ends the call once a disconnected leg stays so for the rest of
	// the connection-lost timeout; disconnectedAt is when it went (under mu).
	lost           *time.Timer
	disconnectedAt time.Time
}

// DialAgent opens the agent leg: a complete (non-trickle) offer POSTed to
// the agent, the answer applied, and waits until the data channel is open.
// The returned error's text is the human-readable failure reason.
func DialAgent(ctx context.Context, cfg AgentConfig, req engine.CallRequest, ev agentEvents) (*AgentLeg, error) {
	cfg = cfg.withDefaults()
	cfg.Net.ice = iceTimesFor(cfg.ConnectionLostTimeout, cfg.ConnectTimeout)
	api, err := newAPI(cfg.Net)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	a := &AgentLeg{cfg: cfg, pc: pc, ev: ev, hasRemote: make(chan struct{}),
		opened: make(chan struct{}), ended: make(chan struct{})}
	if err := a.setup(req); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.negotiate(ctx); err != nil {
		a.Close()
		return nil, err
	}
	t := time.NewTimer(cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case <-a.opened:
		return a, nil
	case <-a.ended:
		a.Close()
		r, _ := a.EndReason()
		return nil, errors.New(r)
	case <-t.C:
		a.Close()
		return nil, fmt.Errorf("agent connection not established within %v (ICE/DTLS or data channel %s never came up)", cfg.ConnectTimeout, EventsChannel)
	case <-ctx.Done():
		a.Close()
		return nil, fmt.Errorf("hung up while connecting the agent: %s", cause(ctx))
	}
}

func (a *AgentLeg) setup(req engine.CallRequest) error {
	track, err := webrtc.NewTrackLocalStaticRTP(pcmuCodec.RTPCodecCapability, "audio", "dialdeck")
	if err != nil {
		return fmt.Errorf("local audio track: %w", err)
	}
	a.track = track
	sender, err := a.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("add audio track: %w", err)
	}
	// RTCP must be read for the reports interceptor to see it; the loop ends
	// when the connection closes.
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	ordered := true
	dc, err := a.pc.CreateDataChannel(EventsChannel, &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		return fmt.Errorf("data channel %s: %w", EventsChannel, err)
	}
	a.dc = dc
	dc.OnOpen(func() {
		if err := a.sendSession(req); err != nil {
			a.end("could not start the agent session: "+err.Error(), false)
			return
		}
		close(a.opened)
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) { a.handle(m.Data) })
	dc.OnClose(func() { a.end("agent closed the events channel", false) })
	a.pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		// One audio m-line is offered, so one track; keep the first regardless.
		if a.remote.CompareAndSwap(nil, t) {
			close(a.hasRemote)
		}
	})
	a.pc.OnICEConnectionStateChange(a.iceState)
	a.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s != webrtc.PeerConnectionStateFailed {
			return
		}
		if a.isOpen() {
			// It was up: the agent vanished without hanging up.
			a.end(a.lostReason(), false)
		} else {
			a.end("ICE/DTLS connection to the agent failed", false)
		}
	})
	return nil
}

func (a *AgentLeg) isOpen() bool {
	select {
	case <-a.opened:
		return true
	default:
		return false
	}
}

func (a *AgentLeg) lostReason() string {
	return fmt.Sprintf("agent stopped responding: no packets for %v (connection lost without a hang-up)", a.cfg.ConnectionLostTimeout)
}

// iceState follows a live leg's ICE state: "disconnected" (no packet for a
// while) is logged and starts the rest of the connection-lost timeout;
// packets again before it runs out ("connected") cancel it.
func (a *AgentLeg) iceState(s webrtc.ICEConnectionState) {
	if !a.isOpen() {
		return // still connecting: the connect timeout governs
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch s {
	case webrtc.ICEConnectionStateDisconnected:
		if a.lost != nil {
			return
		}
		a.disconnectedAt = time.Now()
		left := a.cfg.ConnectionLostTimeout - a.cfg.Net.ice.disconnected
		a.cfg.Log.Warn("agent connection disconnected", "silent_for", a.cfg.Net.ice.disconnected, "ends_call_in", left)
		a.lost = time.AfterFunc(left, func() { a.end(a.lostReason(), false) })
	case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
		if a.lost == nil {
			return
		}
		if a.lost.Stop() {
			a.cfg.Log.Info("agent connection recovered", "disconnected_for", time.Since(a.disconnectedAt).Round(time.Millisecond))
		}
		a.lost = nil
	}
}

// negotiate gathers every candidate, POSTs the offer and applies the answer.
func (a *AgentLeg) negotiate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.AnswerTimeout)
	defer cancel()
	offer, err := a.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(a.pc)
	if err := a.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("ICE gathering did not complete: %s", ctxReason(ctx, a.cfg.AnswerTimeout))
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL, strings.NewReader(a.pc.LocalDescription().SDP))
	if err != nil {
		return fmt.Errorf("agent URL: %w", err)
	}
	for k, v := range a.cfg.Header {
		hreq.Header[k] = v
	}
	hreq.Header.Set("Content-Type", "application/sdp")
	if a.cfg.Token != "" {
		hreq.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	}
	resp, err := a.cfg.HTTPClient.Do(hreq)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Errorf("agent unreachable at %s: connection refused", hostOf(a.cfg.URL))
		case ctx.Err() != nil:
			return fmt.Errorf("agent did not answer the offer: %s", ctxReason(ctx, a.cfg.AnswerTimeout))
		}
		return fmt.Errorf("agent unreachable at %s: %v", hostOf(a.cfg.URL), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerSDP+1))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("agent did not answer the offer: %s", ctxReason(ctx, a.cfg.AnswerTimeout))
		}
		return fmt.Errorf("reading the agent's answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("agent rejected the offer: HTTP %d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), excerpt(body))
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := resp.Request.URL.Parse(loc); err == nil {
			a.location = u.String()
		}
	}
	answer, err := parseAnswer(body)
	if err != nil {
		return err
	}
	if err := a.pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("agent's SDP answer is unusable: %v", err)
	}
	return nil
}

func ctxReason(ctx context.Context, d time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && context.Cause(ctx) == context.DeadlineExceeded {
		return fmt.Sprintf("answer timeout after %v", d)
	}
	return "hung up: " + cause(ctx)
}

// hostOf names the agent in reasons without its path or query (which may
// carry credentials).
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "the configured URL"
}

// excerpt keeps an error body short enough for a stored reason.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty body)"
	}
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

// EndCallTool is the function the agent calls to end the call; its
// arguments become the attempt's analysis.
var EndCallTool = map[string]any{
	"type":        "function",
	"name":        "end_call",
	"description": "End the call once the conversation is over, recording its outcome.",
	"parameters": map[string]any{
		"type": "object",
		"properties": map[string]any{
			"lead_qualified": map[string]any{"type": "boolean", "description": "the lead is interested or matches the success criteria"},
			"next_action": map[string]any{"type": "string",
				"enum": []string{engine.ActionQualified, engine.ActionNotInterested, engine.ActionCallback, engine.ActionDoNotCall, engine.ActionVoicemail}},
			"summary":     map[string]any{"type": "string", "description": "one or two sentences about the call"},
			"callback_at": map[string]any{"type": "string", "description": "RFC 3339 time the callee asked to be called back"},
			"fields":      map[string]any{"type": "object", "description": "structured facts collected during the call"},
		},
		"required": []string{"lead_qualified", "next_action", "summary"},
	},
}

func (a *AgentLeg) sendSession(req engine.CallRequest) error {
	session := map[string]any{
		"type": "session.update",
		"session": map[string]any{
			"instructions":              req.Prompt,
			"voice":                     a.cfg.Voice,
			"tools":                     []any{EndCallTool},
			"tool_choice":               "auto",
			"input_audio_transcription": map[string]any{"model": "whisper-1"},
		},
	}
	if err := a.sendJSON(session); err != nil {
		return err
	}
	resp := map[string]any{"type": "response.create"}
	if req.WelcomeMessage != "" {
		resp["response"] = map[string]any{"instructions": "Start the call by saying exactly: " + req.WelcomeMessage}
	}
	return a.sendJSON(resp)
}

func (a *AgentLeg) sendJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := a.dc.SendText(string(b)); err != nil {
		return fmt.Errorf("send event: %w", err)
	}
	return nil
}

type agentEvent struct {
	Type       string          `json:"type"`
	Transcript string          `json:"transcript"`
	Name       string          `json:"name"`
	CallID     string          `json:"call_id"`
	Arguments  string          `json:"arguments"`
	Error      json.RawMessage `json:"error"`
}

// EndCallArgs are the end_call tool's arguments.
type EndCallArgs struct {
	LeadQualified bool           `json:"lead_qualified"`
	NextAction    string         `json:"next_action"`
	Summary       string         `json:"summary"`
	CallbackAt    string         `json:"callback_at,omitempty"`
	Fields        map[string]any `json:"fields,omitempty"`
}

// maxAnswerSDP bounds the answer body read from the agent.
const maxAnswerSDP = 1 << 20

// parseAnswer checks the agent's answer body before pion sees it: it must
// be non-empty SDP with at least one media section. Every rejection is an
// error whose text says why.
func parseAnswer(body []byte) (webrtc.SessionDescription, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return webrtc.SessionDescription{}, errors.New("agent's SDP answer is unusable: empty body")
	}
	if len(body) > maxAnswerSDP {
		return webrtc.SessionDescription{}, fmt.Errorf("agent's SDP answer is unusable: %d bytes, over the %d-byte limit", len(body), maxAnswerSDP)
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}
	parsed, err := desc.Unmarshal()
	if err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("agent's SDP answer is unusable: not SDP: %v", err)
	}
	if len(parsed.MediaDescriptions) == 0 {
		return webrtc.SessionDescription{}, errors.New("agent's SDP answer is unusable: no media sections")
	}
	return desc, nil
}

// parseAgentEvent decodes one data-channel message: a JSON object with a
// non-empty string "type". Every rejection is an error with the reason.
func parseAgentEvent(data []byte) (agentEvent, error) {
	var e agentEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return agentEvent{}, fmt.Errorf("agent event is not a JSON object: %v", err)
	}
	if e.Type == "" {
		return agentEvent{}, errors.New("agent event has no type")
	}
	return e, nil
}

// parseEndCallArgs decodes end_call's arguments (a JSON object in a string).
func parseEndCallArgs(s string) (EndCallArgs, error) {
	var args EndCallArgs
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		return EndCallArgs{}, fmt.Errorf("end_call arguments are not a JSON object: %v", err)
	}
	return args, nil
}

func (a *AgentLeg) handle(data []byte) {
	// handle runs on pion's data channel goroutine: a panic here (in the
	// bridge's callbacks or the engine's progress hook) would kill the
	// process and every live call. This call ends failed instead.
	defer func() {
		if v := recover(); v != nil {
			id := engine.ErrorID()
			a.cfg.Log.Error("handling an agent event panicked", "id", id, "panic", maskDigits(fmt.Sprint(v)), "stack", string(debug.Stack()))
			a.end(fmt.Sprintf("internal error handling an agent event (see log, id %s)", id), false)
		}
	}()
	e, err := parseAgentEvent(data)
	if err != nil {
		a.ignored.Add(1)
		a.cfg.Log.Debug("agent event ignored", "err", err)
		return
	}
	switch e.Type {
	case "response.audio_transcript.done", "response.output_audio_transcript.done":
		a.transcript("agent", e.Transcript)
	case "conversation.item.input_audio_transcription.completed":
		a.transcript("callee", e.Transcript)
	case "output_audio_buffer.started":
		a.speaking(true)
	case "output_audio_buffer.stopped", "output_audio_buffer.cleared":
		a.speaking(false)
	case "error":
		a.cfg.Log.Warn("agent reported an error", "error", excerpt(e.Error))
	case "response.function_call_arguments.done":
		a.functionCall(e)
	default:
		a.ignored.Add(1)
	}
}

func (a *AgentLeg) transcript(speaker, text string) {
	if text = strings.TrimSpace(text); text != "" && a.ev.transcript != nil {
		a.ev.transcript(speaker, text)
	}
}

func (a *AgentLeg) speaking(on bool) {
	if a.ev.speaking != nil {
		a.ev.speaking(on)
	}
}

func (a *AgentLeg) functionCall(e agentEvent) {
	if e.Name != "end_call" {
		a.cfg.Log.Warn("agent called an unknown function", "name", e.Name)
		_ = a.sendJSON(functionOutput(e.CallID, `{"error":"unknown function"}`))
		return
	}
	args, err := parseEndCallArgs(e.Arguments)
	if err != nil {
		a.cfg.Log.Warn("end_call arguments are not valid JSON", "err", err)
	}
	an := analysisFrom(args, a.cfg.Log)
	a.mu.Lock()
	a.analysis = an
	a.mu.Unlock()
	if err := a.sendJSON(functionOutput(e.CallID, `{"ok":true}`)); err != nil {
		a.cfg.Log.Debug("end_call output not sent", "err", err)
	}
	a.end("agent ended the call", true)
}

func functionOutput(callID, output string) map[string]any {
	return map[string]any{"type": "conversation.item.create",
		"item": map[string]any{"type": "function_call_output", "call_id": callID, "output": output}}
}

// analysisFrom validates end_call arguments into an analysis: an unknown
// next_action or a bad callback time is dropped (and logged) rather than
// stored, since both drive retries.
func analysisFrom(args EndCallArgs, log *slog.Logger) *engine.Analysis {
	an := &engine.Analysis{LeadQualified: args.LeadQualified, Summary: args.Summary}
	switch args.NextAction {
	case engine.ActionQualified, engine.ActionNotInterested, engine.ActionCallback, engine.ActionDoNotCall, engine.ActionVoicemail:
		an.NextAction = args.NextAction
	case "":
	default:
		log.Warn("end_call next_action not recognised; ignored", "next_action", args.NextAction)
	}
	if args.CallbackAt != "" {
		if t, err := time.Parse(time.RFC3339, args.CallbackAt); err == nil {
			an.CallbackAt = &t
		} else {
			log.Warn("end_call callback_at is not RFC 3339; ignored", "callback_at", args.CallbackAt)
		}
	}
	if len(args.Fields) > 0 {
		an.Fields = make(map[string]string, len(args.Fields))
		for k, v := range args.Fields {
			if s, ok := v.(string); ok {
				an.Fields[k] = s
			} else if b, err := json.Marshal(v); err == nil {
				an.Fields[k] = string(b)
			}
		}
	}
	return an
}

func (a *AgentLeg) end(reason string, byAgent bool) {
	a.endOnce.Do(func() {
		a.mu.Lock()
		a.endReason, a.byAgent = reason, byAgent
		a.mu.Unlock()
		close(a.ended)
	})
}

// Done is closed when the agent ended the call or the connection failed.
func (a *AgentLeg) Done() <-chan struct{} { return a.ended }

// EndReason says why the leg ended; byAgent is true for end_call.
func (a *AgentLeg) EndReason() (reason string, byAgent bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.endReason, a.byAgent
}

// Analysis is the end_call arguments (nil if the agent never called it).
func (a *AgentLeg) Analysis() *engine.Analysis {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.analysis
}

// Ignored counts events dialdeck did not act on (unknown or unparsable).
func (a *AgentLeg) Ignored() int64 { return a.ignored.Load() }

// ReadRTP reads one RTP packet the agent sent. It blocks until the agent's
// track arrives and fails once the leg is closed.
func (a *AgentLeg) ReadRTP(b []byte) (int, error) {
	select {
	case <-a.hasRemote:
	case <-a.ended:
		return 0, io.EOF
	}
	n, _, err := a.remote.Load().Read(b)
	return n, err
}

// WriteRTP sends one RTP packet to the agent, payload untouched.
func (a *AgentLeg) WriteRTP(b []byte) error {
	_, err := a.track.Write(b)
	return err
}

// Close hangs up: it lets a pending function output drain, closes the
// PeerConnection and DELETEs the session resource when the agent gave one.
func (a *AgentLeg) Close() {
	a.closeOnce.Do(func() {
		a.end("hung up by dialdeck", false)
		a.mu.Lock()
		if a.lost != nil {
			a.lost.Stop()
		}
		a.mu.Unlock()
		if a.dc != nil && a.dc.ReadyState() == webrtc.DataChannelStateOpen {
			// The function_call_output was queued just before: give SCTP a
			// moment to deliver it so the agent sees its tool call answered.
			deadline := time.Now().Add(250 * time.Millisecond)
			for a.dc.BufferedAmount() > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if err := a.pc.GracefulClose(); err != nil {
			a.cfg.Log.Debug("closing agent peer connection", "err", err)
		}
		if a.location != "" {
			a.deleteSession()
		}
	})
}

func (a *AgentLeg) deleteSession() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, a.location, bytes.NewReader(nil))
	if err != nil {
		return
	}
	if a.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.cfg.Token)
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		a.cfg.Log.Debug("agent session DELETE failed", "err", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	// 404/405: the agent already forgot the session or does not support
	// DELETE; closing the PeerConnection has hung up anyway.
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		a.cfg.Log.Debug("agent session DELETE refused", "status", resp.StatusCode)
	}
}
