package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// AgentResolver gives the agent leg's configuration for one call.
type AgentResolver func(req engine.CallRequest) (AgentConfig, error)

// Bridge places calls: it dials the phone leg, connects the agent leg over
// WebRTC once the callee answers and relays RTP packets between them
// unchanged. It implements engine.CallPlacer.
type Bridge struct {
	carrier Carrier
	agent   AgentResolver
	log     *slog.Logger
	latency LatencyStats
}

// NewBridge joins calls from carrier to the agents agent resolves.
func NewBridge(carrier Carrier, agent AgentResolver, log *slog.Logger) *Bridge {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bridge{carrier: carrier, agent: agent, log: log}
}

// Latency is the relay's added latency over every call so far.
func (b *Bridge) Latency() *LatencyStats { return &b.latency }

// liveState is a call's progress as last reported, so each update can
// change one field and resend the rest.
type liveState struct {
	mu sync.Mutex
	p  engine.CallProgress
	fn func(engine.CallProgress)
}

func (s *liveState) update(f func(p *engine.CallProgress)) {
	if s.fn == nil {
		return
	}
	s.mu.Lock()
	f(&s.p)
	p := s.p
	s.mu.Unlock()
	s.fn(p)
}

// Place dials, bridges and returns how the call ended. It honours ctx: a
// cancelled call hangs up both legs and returns promptly.
func (b *Bridge) Place(ctx context.Context, req engine.CallRequest) engine.CallResult {
	live := &liveState{fn: req.OnProgress}
	live.update(func(p *engine.CallProgress) { p.State = "dialing" })
	start := time.Now()
	log := b.log.With("campaign", req.CampaignID, "lead", req.LeadID, "attempt", req.Attempt, "phone", engine.MaskPhone(req.Phone))

	var (
		call PhoneCall
		err  error
	)
	if pc, ok := b.carrier.(ProgressCarrier); ok {
		call, err = pc.DialProgress(ctx, req, func(s, detail string) {
			live.update(func(p *engine.CallProgress) { p.State, p.Detail = s, detail })
		})
	} else {
		call, err = b.carrier.Dial(ctx, req, func(s string) { live.update(func(p *engine.CallProgress) { p.State = s }) })
	}
	if err != nil {
		var de *DialError
		if errors.As(err, &de) {
			// The carrier knows how long it rang (0: nothing rang).
			return engine.CallResult{Outcome: de.Outcome, Reason: de.Reason, RingDuration: de.Ring, SIPCode: de.SIPCode, Permanent: de.Permanent}
		}
		return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "carrier: " + err.Error(), RingDuration: time.Since(start)}
	}
	// From here on the phone leg is up: whatever happens below, a panic
	// included (the engine recovers it and may redial the lead), it is hung
	// up. Hangup is idempotent, so the normal paths' own hang-ups stay.
	defer call.Hangup()
	answered := time.Now()
	res := engine.CallResult{Answered: true, RingDuration: answered.Sub(start), Outcome: engine.OutcomeAnswered}
	if sc, ok := call.(interface{ SIPCode() int }); ok {
		res.SIPCode = sc.SIPCode()
	}
	if call.Voicemail() {
		res.Outcome = engine.OutcomeVoicemail
	}
	fail := func(reason string) engine.CallResult {
		res.Outcome, res.Reason = engine.OutcomeFailed, reason
		res.TalkDuration = time.Since(answered)
		log.Info("call failed", "reason", reason)
		return res
	}

	cfg, err := b.agent(req)
	if err != nil {
		call.Hangup()
		return fail(err.Error())
	}
	// The call's logger (campaign, lead, masked phone) unless the resolver
	// gave one of its own; before withDefaults, which would discard it.
	if cfg.Log == nil || cfg.Log == b.log {
		cfg.Log = log
	}
	cfg = cfg.withDefaults()
	live.update(func(p *engine.CallProgress) { p.State = "connecting agent" })
	var (
		mu         sync.Mutex
		transcript []engine.TranscriptLine
	)
	leg, err := DialAgent(ctx, cfg, req, agentEvents{
		transcript: func(speaker, text string) {
			mu.Lock()
			transcript = append(transcript, engine.TranscriptLine{At: time.Since(answered), Speaker: speaker, Text: text})
			mu.Unlock()
			live.update(func(p *engine.CallProgress) { p.LastLine = speaker + ": " + text })
		},
		speaking: func(on bool) { live.update(func(p *engine.CallProgress) { p.AgentSpeaking = on }) },
	})
	if err != nil {
		call.Hangup()
		return fail(err.Error())
	}
	defer leg.Close() // idempotent, like Hangup: no agent leg outlives Place
	state := "talking"
	if call.Voicemail() {
		state = "voicemail"
	}
	live.update(func(p *engine.CallProgress) { p.State = state })

	var toAgent, fromAgent atomic.Uint64
	firstAudio, calleeGone, broken := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var phoneErr error // why the phone leg stopped; read after calleeGone
	var (
		brokenOnce sync.Once
		brokenBy   *relayPanic // set before broken is closed
	)
	// A panic in a relay goroutine (a carrier's or pion's bug on this
	// call's packets) would kill the process and every live call: the
	// relay recovers it, and the call ends failed here.
	panicked := func(err error) {
		var rp *relayPanic
		if errors.As(err, &rp) {
			brokenOnce.Do(func() {
				brokenBy = rp
				log.Error("media relay panicked", "id", rp.id, "panic", maskDigits(fmt.Sprint(rp.v)), "stack", rp.stack)
				close(broken)
			})
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(calleeGone)
		phoneErr = b.relay(call.ReadRTP, leg.WriteRTP, &toAgent, nil)
		panicked(phoneErr)
	}()
	go func() {
		defer wg.Done()
		panicked(b.relay(leg.ReadRTP, call.WriteRTP, &fromAgent, firstAudio))
	}()
	teardown := func() {
		leg.Close()
		call.Hangup()
		wg.Wait()
		res.PacketsToAgent, res.PacketsFromAgent = toAgent.Load(), fromAgent.Load()
		res.TalkDuration = time.Since(answered)
		mu.Lock()
		res.Transcript = append([]engine.TranscriptLine(nil), transcript...)
		mu.Unlock()
		if ig := leg.Ignored(); ig > 0 {
			log.Debug("agent events ignored", "count", ig)
		}
	}

	noAudio := time.NewTimer(cfg.FirstAudioTimeout)
	defer noAudio.Stop()
	maxDur := time.NewTimer(cfg.MaxDuration)
	defer maxDur.Stop()
	waitAudio := firstAudio
	for {
		select {
		case <-broken:
			teardown()
			return fail(brokenBy.Error())
		case <-waitAudio:
			noAudio.Stop()
			waitAudio = nil
			continue
		case <-noAudio.C:
			teardown()
			return fail(fmt.Sprintf("no audio from the agent within %v", cfg.FirstAudioTimeout))
		case <-maxDur.C:
			teardown()
			return fail(fmt.Sprintf("agent never ended the call (max call duration %v reached)", cfg.MaxDuration))
		case <-ctx.Done():
			teardown()
			var h *HangUp
			if errors.As(context.Cause(ctx), &h) {
				res.Reason = h.Reason // ended on purpose: not a failure
				break
			}
			return fail("hung up mid-call: " + cause(ctx))
		case <-calleeGone:
			res.Analysis = leg.Analysis()
			teardown()
			var legErr *PhoneLegError
			var rp *relayPanic
			if errors.As(phoneErr, &rp) {
				return fail(rp.Error())
			}
			if errors.As(phoneErr, &legErr) {
				// The carrier ended the call for a reason of its own ("no media").
				return fail(legErr.Reason)
			}
			if phoneErr != nil && !errors.Is(phoneErr, io.EOF) {
				// Not a hang-up: the carrier lost the call mid-conversation.
				return fail("phone leg lost: " + phoneErr.Error())
			}
			res.Reason = "callee hung up"
			if call.Voicemail() {
				res.Reason = "voicemail box hung up"
			}
		case <-leg.Done():
			reason, byAgent := leg.EndReason()
			res.Analysis = leg.Analysis()
			teardown()
			if !byAgent {
				return fail(reason)
			}
			res.Reason = reason
		}
		break
	}
	live.update(func(p *engine.CallProgress) { p.State = "ended"; p.AgentSpeaking = false })
	log.Info("call ended", "outcome", res.Outcome, "to_agent", res.PacketsToAgent, "from_agent", res.PacketsFromAgent,
		"talk", res.TalkDuration.Round(time.Millisecond))
	return res
}

// HangUp, as the cause of a call's context (context.WithCancelCause), ends
// an answered call on purpose (`sip test --talk`): the call keeps its
// answered outcome with Reason as its reason.
type HangUp struct{ Reason string }

func (h *HangUp) Error() string { return h.Reason }

// relay copies packets from src to dst as they arrive: no ticker, no
// buffering, so the only added latency is one read and one write. A
// failed write drops that packet (as a network would) and goes on. It
// returns the read error that ended it (io.EOF for a hang-up).
func (b *Bridge) relay(src func([]byte) (int, error), dst func([]byte) error, n *atomic.Uint64, first chan struct{}) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &relayPanic{v: v, stack: string(debug.Stack()), id: engine.ErrorID()}
		}
	}()
	buf := make([]byte, 1500)
	for {
		k, err := src(buf)
		if err != nil {
			return err
		}
		t := time.Now()
		if dst(buf[:k]) != nil {
			continue
		}
		b.latency.add(time.Since(t))
		if n.Add(1) == 1 && first != nil {
			close(first)
		}
	}
}

// relayPanic is a panic recovered in a relay goroutine; its Error is the
// call's failure reason. The value and stack go to the log only (they may
// hold anything): the stored reason carries an id to find that log line.
type relayPanic struct {
	v     any
	stack string
	id    string
}

func (p *relayPanic) Error() string {
	return fmt.Sprintf("internal error relaying the call's audio (see log, id %s)", p.id)
}

// LatencyStats is a histogram of the relay's added latency per packet.
type LatencyStats struct {
	buckets [len(latencyBounds) + 1]atomic.Uint64
	max     atomic.Int64
}

var latencyBounds = [...]time.Duration{50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond,
	500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}

func (s *LatencyStats) add(d time.Duration) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	s.buckets[i].Add(1)
	for {
		m := s.max.Load()
		if int64(d) <= m || s.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Quantile is an upper bound of the q-quantile (0..1) of added latency; the
// last bucket reports the maximum seen.
func (s *LatencyStats) Quantile(q float64) time.Duration {
	var total uint64
	for i := range s.buckets {
		total += s.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := uint64(q*float64(total) + 0.5)
	var seen uint64
	for i := range s.buckets {
		seen += s.buckets[i].Load()
		if seen >= want && i < len(latencyBounds) {
			return latencyBounds[i]
		}
	}
	return time.Duration(s.max.Load())
}

// Max is the largest added latency seen.
func (s *LatencyStats) Max() time.Duration { return time.Duration(s.max.Load()) }
