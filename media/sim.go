package media

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// SimOdds are the weights of a simulated callee's outcomes.
type SimOdds struct {
	Answered, Busy, NoAnswer, Voicemail, Failed float64
}

// AgentOdds are the weights of a simulated agent's end_call next_action.
type AgentOdds struct {
	Qualified, NotInterested, Callback, DoNotCall float64
}

// SimConfig configures the simulated carrier ([carriers.sim]).
type SimConfig struct {
	Seed              uint64
	Odds              SimOdds
	RingMin, RingMax  time.Duration
	TalkMin, TalkMax  time.Duration
	VoicemailDuration time.Duration
	// Agents maps agent IDs to their simulated analysis odds; agents not
	// listed use DefaultAgentOdds.
	Agents map[string]AgentOdds
}

// DefaultAgentOdds is used for agents without configured odds.
var DefaultAgentOdds = AgentOdds{Qualified: 3, NotInterested: 4, Callback: 2, DoNotCall: 1}

// SimPlacer simulates calls: each (campaign, lead, attempt) gets an outcome
// and durations drawn from a generator seeded by those IDs, so a run is
// reproducible whatever order calls are placed in.
type SimPlacer struct {
	cfg   SimConfig
	clock engine.Clock
}

// NewSimPlacer returns a simulated placer waiting on clock (nil: wall clock).
func NewSimPlacer(cfg SimConfig, clock engine.Clock) *SimPlacer {
	if clock == nil {
		clock = engine.SystemClock{}
	}
	if cfg.RingMax < cfg.RingMin {
		cfg.RingMax = cfg.RingMin
	}
	if cfg.TalkMax < cfg.TalkMin {
		cfg.TalkMax = cfg.TalkMin
	}
	return &SimPlacer{cfg: cfg, clock: clock}
}

// Simulate draws a call's result without waiting: engine.Simulate runs a
// campaign on a virtual clock with it.
func (p *SimPlacer) Simulate(req engine.CallRequest) engine.CallResult {
	r := rand.New(rand.NewPCG(p.cfg.Seed, req.CampaignID<<40^req.LeadID<<8^uint64(req.Attempt)))
	o := p.cfg.Odds
	outcome := pick(r, []float64{o.Answered, o.Busy, o.NoAnswer, o.Voicemail, o.Failed},
		[]engine.Outcome{engine.OutcomeAnswered, engine.OutcomeBusy, engine.OutcomeNoAnswer, engine.OutcomeVoicemail, engine.OutcomeFailed})
	res := engine.CallResult{Outcome: outcome, RingDuration: between(r, p.cfg.RingMin, p.cfg.RingMax)}
	switch outcome {
	case engine.OutcomeBusy:
		res.RingDuration /= 4
		res.Reason = "callee busy"
	case engine.OutcomeNoAnswer:
		res.Reason = "no answer"
		res.RingDuration = p.cfg.RingMax * 2
	case engine.OutcomeFailed:
		res.RingDuration /= 2
		res.Reason = "simulated carrier failure"
	case engine.OutcomeVoicemail:
		res.Answered = true
		res.TalkDuration = p.cfg.VoicemailDuration
		res.Reason = "voicemail greeting and beep"
	case engine.OutcomeAnswered:
		res.Answered = true
		res.TalkDuration = between(r, p.cfg.TalkMin, p.cfg.TalkMax)
		res.Analysis, res.Transcript = p.conversation(r, req, res.TalkDuration)
	}
	return res
}

func (p *SimPlacer) conversation(r *rand.Rand, req engine.CallRequest, talk time.Duration) (*engine.Analysis, []engine.TranscriptLine) {
	odds, ok := p.cfg.Agents[req.AgentID]
	if !ok {
		odds = DefaultAgentOdds
	}
	action := pick(r, []float64{odds.Qualified, odds.NotInterested, odds.Callback, odds.DoNotCall},
		[]string{engine.ActionQualified, engine.ActionNotInterested, engine.ActionCallback, engine.ActionDoNotCall})
	name := req.Variables["first_name"]
	if name == "" {
		name = "there"
	}
	welcome := req.WelcomeMessage
	if welcome == "" {
		welcome = fmt.Sprintf("Hi %s, this is an automated assistant calling for %s.", name, req.CampaignName)
	}
	a := &engine.Analysis{NextAction: action, Fields: map[string]string{}}
	reply := ""
	switch action {
	case engine.ActionQualified:
		a.LeadQualified = true
		a.Summary = fmt.Sprintf("%s is interested and wants to go ahead.", name)
		reply = "Yes, that sounds good, let's do it."
		a.Fields["interest"] = "high"
	case engine.ActionNotInterested:
		a.Summary = fmt.Sprintf("%s declined.", name)
		reply = "No thanks, I'm not interested."
	case engine.ActionCallback:
		at := p.clock.Now().Add(callbackDelay).Truncate(time.Second)
		a.CallbackAt = &at
		a.Summary = fmt.Sprintf("%s asked to be called back later.", name)
		reply = "I'm busy right now, can you call me back in a couple of minutes?"
	case engine.ActionDoNotCall:
		a.Summary = fmt.Sprintf("%s asked not to be called again.", name)
		reply = "Please take me off your list and don't call again."
	}
	step := talk / 4
	lines := []engine.TranscriptLine{
		{At: 0, Speaker: "agent", Text: welcome},
		{At: step, Speaker: "callee", Text: "Hello? Yes, speaking."},
		{At: 2 * step, Speaker: "agent", Text: "I'm calling about your renewal. Is now a good time?"},
		{At: 3 * step, Speaker: "callee", Text: reply},
	}
	return a, lines
}

// Place simulates one call, waiting out its ring and talk time on the clock.
// A cancelled context hangs up at once.
func (p *SimPlacer) Place(ctx context.Context, req engine.CallRequest) engine.CallResult {
	res := p.Simulate(req)
	progress := func(s string, line string) {
		if req.OnProgress != nil {
			req.OnProgress(engine.CallProgress{State: s, LastLine: line})
		}
	}
	progress("ringing", "")
	select {
	case <-ctx.Done():
		return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "hung up while ringing: " + cause(ctx)}
	case <-p.clock.After(res.RingDuration):
	}
	if !res.Answered {
		return res
	}
	state := "talking"
	if res.Outcome == engine.OutcomeVoicemail {
		state = "voicemail"
	}
	start := p.clock.Now()
	for i, l := range res.Transcript {
		wait := l.At - p.clock.Now().Sub(start)
		if i > 0 && wait > 0 {
			select {
			case <-ctx.Done():
				res.Outcome, res.Reason, res.Analysis = engine.OutcomeFailed, "hung up mid-call: "+cause(ctx), nil
				res.TalkDuration, res.Transcript = p.clock.Now().Sub(start), res.Transcript[:i]
				return res
			case <-p.clock.After(wait):
			}
		}
		progress(state, l.Speaker+": "+l.Text)
	}
	if rest := res.TalkDuration - p.clock.Now().Sub(start); rest > 0 {
		if len(res.Transcript) == 0 {
			progress(state, "")
		}
		select {
		case <-ctx.Done():
			res.Outcome, res.Reason, res.Analysis = engine.OutcomeFailed, "hung up mid-call: "+cause(ctx), nil
			res.TalkDuration = p.clock.Now().Sub(start)
		case <-p.clock.After(rest):
		}
	}
	return res
}

func cause(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		return c.Error()
	}
	return "campaign stopped or dialdeck shutting down"
}

func pick[T any](r *rand.Rand, weights []float64, vals []T) T {
	total := 0.0
	for _, w := range weights {
		if w > 0 {
			total += w
		}
	}
	if total <= 0 {
		return vals[0]
	}
	x := r.Float64() * total
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		if x < w {
			return vals[i]
		}
		x -= w
	}
	return vals[len(vals)-1]
}

func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

// callbackDelay is when a simulated callee asks to be called back: soon, so
// a demo campaign shows callbacks being honoured within minutes.
const callbackDelay = 2 * time.Minute
