package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Agent is what the engine needs to know about a configured AI agent.
type Agent struct {
	ID             string
	Prompt         string
	WelcomeMessage string
	// Analysis: the agent reports post-call analysis (end_call arguments),
	// and dispositions come from it.
	Analysis bool
}

// Number is a configured caller ID the campaigns dial from.
type Number struct {
	ID             string
	CallerID       string
	CallsPerSecond float64
}

// Options wire an Engine to its ports and configuration.
type Options struct {
	Store  Store
	Placer CallPlacer
	Clock  Clock
	Logger *slog.Logger

	Agents           []Agent
	Numbers          []Number
	OrgMaxConcurrent int
	TickInterval     time.Duration

	// Webhooks: the signing secret (a campaign's webhookSecret overrides
	// it; empty sends unsigned), the per-attempt timeout, the sender
	// (default HTTPSender) and the User-Agent.
	WebhookSecret  string
	WebhookTimeout time.Duration
	WebhookSender  WebhookSender
	UserAgent      string
}

// DefaultTickInterval is the spec's 15-second dialer tick.
const DefaultTickInterval = 15 * time.Second

// Engine runs campaigns. All methods are safe for concurrent use.
type Engine struct {
	store   Store
	placer  CallPlacer
	clock   Clock
	log     *slog.Logger
	agents  map[string]Agent
	numbers map[string]Number
	orgMax  int
	tick    time.Duration

	// mu guards the in-memory call state below; it is never held across
	// storage or network I/O.
	mu       sync.Mutex
	active   map[callKey]*ActiveCall
	perCamp  map[uint64]int
	lastTick time.Time
	nextTick time.Time
	pacer    *pacer
	windows  map[uint64]*campaignWindows
	badZones map[string]bool // lead zones that failed to load, warned once
	testKill *killHook       // KillAtEnv test hook; nil outside crash tests
	closed   bool

	// claimMu serialises ticks and lifecycle changes so capacity is never
	// over-committed and a paused campaign claims nothing after Pause returns.
	claimMu sync.Mutex
	// importMu lets one lead import run at a time: each keeps its own
	// dedupe set and time-zone group list for the campaign.
	importMu sync.Mutex

	calls      sync.WaitGroup
	callCtx    context.Context
	cancelCall context.CancelFunc

	events *broker
	stats  *callStats
	sim    *simState // non-nil in dry-run mode (NewSimulation)

	whWake      chan struct{}
	whSecret    string
	whTimeout   time.Duration
	whSender    WebhookSender
	whUserAgent string
}

type callKey struct {
	campaign uint64
	lead     uint64
}

// New opens an engine over a store. It reconciles calls that were in flight
// when a previous run stopped (each counts as a failed attempt, retried per
// policy) and repairs phone indexes left incomplete by an interrupted import.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if opts.Placer == nil {
		return nil, errors.New("engine: no call placer")
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.TickInterval <= 0 {
		opts.TickInterval = DefaultTickInterval
	}
	if opts.OrgMaxConcurrent <= 0 {
		opts.OrgMaxConcurrent = 10
	}
	e := &Engine{
		store:    opts.Store,
		placer:   opts.Placer,
		clock:    opts.Clock,
		log:      opts.Logger,
		agents:   map[string]Agent{},
		numbers:  map[string]Number{},
		orgMax:   opts.OrgMaxConcurrent,
		tick:     opts.TickInterval,
		active:   map[callKey]*ActiveCall{},
		perCamp:  map[uint64]int{},
		windows:  map[uint64]*campaignWindows{},
		testKill: loadKillHook(),
		events:   newBroker(),
		stats:    newCallStats(),
	}
	for _, a := range opts.Agents {
		e.agents[a.ID] = a
	}
	for _, n := range opts.Numbers {
		e.numbers[n.ID] = n
	}
	e.pacer = newPacer()
	e.whWake = make(chan struct{}, 1)
	e.whSecret, e.whTimeout, e.whSender, e.whUserAgent = opts.WebhookSecret, opts.WebhookTimeout, opts.WebhookSender, opts.UserAgent
	if e.whTimeout <= 0 {
		e.whTimeout = DefaultWebhookTimeout
	}
	if e.whSender == nil {
		e.whSender = HTTPSender{Client: &http.Client{}}
	}
	if e.whUserAgent == "" {
		e.whUserAgent = "dialdeck/dev"
	}
	e.callCtx, e.cancelCall = context.WithCancel(context.Background())
	if err := e.recover(); err != nil {
		return nil, err
	}
	return e, nil
}

// TickInterval is the configured dialer tick.
func (e *Engine) TickInterval() time.Duration { return e.tick }

// OrgMaxConcurrent is the organisation-wide call capacity.
func (e *Engine) OrgMaxConcurrent() int { return e.orgMax }

// Now is the engine clock's time.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Agents lists the configured agent IDs.
func (e *Engine) Agents() []Agent {
	out := make([]Agent, 0, len(e.agents))
	for _, a := range e.agents {
		out = append(out, a)
	}
	return out
}

// Numbers lists the configured numbers.
func (e *Engine) Numbers() []Number {
	out := make([]Number, 0, len(e.numbers))
	for _, n := range e.numbers {
		out = append(out, n)
	}
	return out
}

// Run ticks until ctx is done: one tick at once, then every TickInterval.
// It returns after in-flight calls have been hung up and recorded.
func (e *Engine) Run(ctx context.Context) error {
	var wh sync.WaitGroup
	wh.Add(1)
	go func() { defer wh.Done(); e.runWebhooks(ctx) }()
	defer wh.Wait()
	for {
		if err := e.Tick(ctx); err != nil {
			e.log.Error("dialer tick", "err", err)
			e.events.publish(Event{Kind: EventError, Message: err.Error()})
		}
		e.mu.Lock()
		e.nextTick = e.clock.Now().Add(e.tick)
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			e.Shutdown()
			return nil
		case <-e.clock.After(e.tick):
		}
	}
}

// Shutdown stops placing calls, hangs up the live ones and waits until their
// outcomes are recorded. The engine can not place calls afterwards.
func (e *Engine) Shutdown() {
	// Under claimMu so no tick is between its closed check and launching.
	e.claimMu.Lock()
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancelCall()
	e.claimMu.Unlock()
	e.calls.Wait()
}

// WaitCalls blocks until every call placed so far has ended and been
// recorded. Tests and the simulator use it.
func (e *Engine) WaitCalls() { e.calls.Wait() }

// NextTick is when the running loop will tick next (zero before Run).
func (e *Engine) NextTick() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nextTick
}

// recover reconciles in-flight records from a previous run.
func (e *Engine) recover() error {
	var camps []*Campaign
	if err := e.store.View(func(tx Tx) error {
		var err error
		camps, err = tx.Campaigns()
		return err
	}); err != nil {
		return fmt.Errorf("engine: load campaigns: %w", err)
	}
	for _, c := range camps {
		if c.PhoneIndexDirty {
			if err := e.rebuildPhoneIndex(c.ID); err != nil {
				return fmt.Errorf("engine: campaign %d: rebuild phone index: %w", c.ID, err)
			}
		}
		var inflight []InflightRecord
		if err := e.store.View(func(tx Tx) error {
			var err error
			inflight, err = tx.Inflight(c.ID)
			return err
		}); err != nil {
			return fmt.Errorf("engine: campaign %d: read in-flight calls: %w", c.ID, err)
		}
		for _, rec := range inflight {
			res := CallResult{Outcome: OutcomeFailed, Reason: "dialdeck stopped during the call (reconciled at restart)"}
			if err := e.record(c.ID, rec.LeadID, rec.Attempt, rec.StartedAt, res); err != nil {
				return fmt.Errorf("engine: campaign %d: reconcile lead %d: %w", c.ID, rec.LeadID, err)
			}
			e.log.Warn("reconciled call interrupted by restart", "campaign", c.ID, "lead", rec.LeadID, "attempt", rec.Attempt)
		}
	}
	return nil
}
