package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/dialdeck/dialdeck/config"
	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/media"
	"github.com/dialdeck/dialdeck/storage"
)

// app is a configured engine over an open database.
type app struct {
	cfg     *config.Config
	store   *storage.Store
	eng     *engine.Engine
	log     *slog.Logger
	logFile *os.File
	clock   engine.Clock
	// stopPlacer stops what the call path started (the built-in sim agent).
	stopPlacer func()
}

// loadConfig resolves and loads the config; it tells on stderr when the
// built-in default is used.
func loadConfig(g *globals) (*config.Config, error) {
	cwd, _ := os.Getwd()
	path, builtin := config.Resolve(g.config, cwd)
	if builtin {
		cfg, err := config.Default(defaultConfig)
		if err != nil {
			return nil, fmt.Errorf("built-in config: %w", err)
		}
		fmt.Fprintln(g.stderr, "dialdeck: no --config and no ./dialdeck.toml: using the built-in default (example.toml)")
		return cfg, nil
	}
	return config.Load(path)
}

type appOptions struct {
	logTo  io.Writer // nil: the configured log file
	clock  engine.Clock
	placer engine.CallPlacer
	// placesCalls: the command runs the engine (run, the TUI), so the SIP
	// trunks and the sim agent start now and a port in use fails the start.
	// Other commands only read or edit the database: they open no socket.
	placesCalls bool
}

// openApp loads the config, opens the database (failing fast if another
// dialdeck holds it) and builds the engine. It ensures the config's
// campaigns exist as drafts.
func openApp(g *globals, o appOptions) (*app, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, clock: o.clock}
	if a.clock == nil {
		a.clock = engine.SystemClock{}
	}
	logTo := o.logTo
	if logTo == nil {
		f, err := os.OpenFile(cfg.Engine.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open log file: %w", err)
		}
		a.logFile, logTo = f, f
	}
	a.log = slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: cfg.Engine.LogLevel}))
	dbPath := cfg.Engine.Database
	if g.db != "" {
		dbPath = g.db
	}
	st, err := storage.Open(dbPath, storage.Options{})
	if err != nil {
		a.close()
		return nil, err
	}
	a.store = st
	placer := o.placer
	switch {
	case placer != nil:
	case o.placesCalls:
		if placer, a.stopPlacer, err = newPlacer(cfg, a.clock, a.log); err != nil {
			a.close()
			return nil, err
		}
	default:
		lp := &lazyPlacer{build: func() (engine.CallPlacer, func(), error) { return newPlacer(cfg, a.clock, a.log) }}
		placer, a.stopPlacer = lp, lp.stop
	}
	eng, err := engine.New(engineOptions(cfg, st, placer, a.clock, a.log))
	if err != nil {
		a.close()
		return nil, err
	}
	a.eng = eng
	for _, c := range cfg.Campaigns {
		if _, created, err := eng.EnsureCampaign(campaignSpec(c)); err != nil {
			a.log.Warn("config campaign not created", "name", c.Name, "err", err)
			fmt.Fprintf(g.stderr, "dialdeck: config campaign %q: %v\n", c.Name, err)
		} else if created {
			a.log.Info("created campaign from config", "name", c.Name)
		}
	}
	return a, nil
}

func (a *app) close() {
	if a.eng != nil {
		a.eng.Shutdown()
	}
	if a.stopPlacer != nil {
		a.stopPlacer()
	}
	if a.store != nil {
		a.store.Close()
	}
	if a.logFile != nil {
		a.logFile.Close()
	}
}

func engineOptions(cfg *config.Config, st engine.Store, placer engine.CallPlacer, clock engine.Clock, log *slog.Logger) engine.Options {
	opts := engine.Options{Store: st, Placer: placer, Clock: clock, Logger: log,
		OrgMaxConcurrent: cfg.Org.MaxConcurrentCalls, TickInterval: cfg.Engine.TickInterval,
		WebhookSecret: cfg.Webhooks.Secret.Reveal(), WebhookTimeout: cfg.Webhooks.Timeout, UserAgent: "dialdeck/" + version}
	for _, ag := range cfg.Agents {
		opts.Agents = append(opts.Agents, engine.Agent{ID: ag.ID, Prompt: ag.Prompt, WelcomeMessage: ag.WelcomeMessage, Analysis: ag.Analysis})
	}
	for _, n := range cfg.Numbers {
		cps := n.CallsPerSecond
		// The engine paces per number; a trunk slower than its number caps
		// it here too, so calls are not started only to be refused.
		if t, ok := trunkOf(cfg, n.Carrier); ok && t.CallsPerSecond > 0 && t.CallsPerSecond < cps {
			cps = t.CallsPerSecond
		}
		opts.Numbers = append(opts.Numbers, engine.Number{ID: n.ID, CallerID: n.CallerID, CallsPerSecond: cps})
	}
	return opts
}

func campaignSpec(c config.Campaign) engine.CampaignSpec {
	return engine.CampaignSpec{
		Name: c.Name, AgentID: c.AgentID, PhoneNumberID: c.PhoneNumberID, MaxConcurrent: c.MaxConcurrent,
		Schedule: engine.Schedule{Timezone: c.Schedule.Timezone, WindowStart: c.Schedule.WindowStart,
			WindowEnd: c.Schedule.WindowEnd, Weekdays: c.Schedule.Weekdays, LeadLocalTime: c.Schedule.LeadLocalTime},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: c.RetryPolicy.MaxAttempts, BackoffMinutes: c.RetryPolicy.BackoffMinutes,
			RetryOn: c.RetryPolicy.RetryOn},
		WebhookURL: c.WebhookURL, ScheduledStartAt: c.ScheduledStartAt, DefaultRegion: c.DefaultRegion,
	}
}

// simConfig turns [carriers.sim] and the sim agents' odds into the sim
// placer's configuration.
func simConfig(cfg *config.Config) media.SimConfig {
	s := cfg.Carriers.Sim
	sc := media.SimConfig{
		Seed:    uint64(s.Seed),
		Odds:    media.SimOdds{Answered: s.Answered, Busy: s.Busy, NoAnswer: s.NoAnswer, Voicemail: s.Voicemail, Failed: s.Failed},
		RingMin: s.RingMin, RingMax: s.RingMax, TalkMin: s.TalkMin, TalkMax: s.TalkMax, VoicemailDuration: s.VoicemailDuration,
		Agents: map[string]media.AgentOdds{},
	}
	if s.Seed == 0 {
		sc.Seed = uint64(os.Getpid()) ^ uint64(os.Getppid())<<20
	}
	for _, ag := range cfg.Agents {
		if ag.Kind == config.AgentSim {
			sc.Agents[ag.ID] = media.AgentOdds{Qualified: ag.Sim.Qualified, NotInterested: ag.Sim.NotInterested,
				Callback: ag.Sim.Callback, DoNotCall: ag.Sim.DoNotCall}
		}
	}
	return sc
}

// newPlacer builds the call path: every call is a phone leg from its
// number's carrier (the sim carrier or a SIP trunk) bridged over real WebRTC
// to its agent. The returned func closes the SIP trunks and stops the sim
// agent; call it after the engine has shut down.
func newPlacer(cfg *config.Config, clock engine.Clock, log *slog.Logger) (engine.CallPlacer, func(), error) {
	sim := media.NewSimPlacer(simConfig(cfg), clock)
	resolve, stopAgents, err := agentResolver(cfg, sim, log)
	if err != nil {
		return nil, nil, err
	}
	carrier, closeCarriers, err := newCarriers(cfg, sim, log)
	if err != nil {
		stopAgents()
		return nil, nil, err
	}
	return media.NewBridge(carrier, resolve, log), func() { closeCarriers(); stopAgents() }, nil
}

// lazyPlacer builds the call path on the first call only. Commands that do
// not run the engine never call it, so they bind no SIP or RTP port and start
// no sim agent (a running dialdeck may hold them).
type lazyPlacer struct {
	build func() (engine.CallPlacer, func(), error)

	mu     sync.Mutex
	placer engine.CallPlacer
	stopFn func()
	err    error
}

func (l *lazyPlacer) Place(ctx context.Context, req engine.CallRequest) engine.CallResult {
	l.mu.Lock()
	if l.placer == nil && l.err == nil {
		l.placer, l.stopFn, l.err = l.build()
	}
	p, err := l.placer, l.err
	l.mu.Unlock()
	if err != nil {
		return engine.CallResult{Outcome: engine.OutcomeFailed, Reason: "call path not started: " + err.Error()}
	}
	return p.Place(ctx, req)
}

func (l *lazyPlacer) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopFn != nil {
		l.stopFn()
	}
}

// agentResolver gives each call its agent leg's configuration. Agents of
// kind sim talk to the built-in sim agent, started here on a free loopback
// port (only when some agent is of kind sim); kind webrtc agents are
// reached at their configured URL with their token. The returned func stops
// the sim agent.
func agentResolver(cfg *config.Config, sim *media.SimPlacer, log *slog.Logger) (media.AgentResolver, func(), error) {
	agents := map[string]config.Agent{}
	// Numbers whose calls go out over a real trunk: the sim agent must not
	// replay the sim carrier's draw for them (a SIP callee who answered is
	// not a voicemail box because [carriers.sim] says so).
	realCarrier := map[string]bool{}
	for _, n := range cfg.Numbers {
		realCarrier[n.ID] = n.Carrier != config.CarrierSim
	}
	needSim := false
	for _, ag := range cfg.Agents {
		agents[ag.ID] = ag
		needSim = needSim || ag.Kind == config.AgentSim
	}
	stop := func() {}
	var simAgent *media.SimAgent
	if needSim {
		var err error
		simAgent, err = media.StartSimAgent("127.0.0.1:0", media.SimAgentOptions{Sim: sim, Log: log.With("component", "sim-agent")})
		if err != nil {
			return nil, nil, fmt.Errorf("start the built-in sim agent: %w", err)
		}
		log.Info("built-in sim agent listening", "url", simAgent.URL())
		stop = func() {
			if err := simAgent.Close(); err != nil {
				log.Warn("stopping the sim agent", "err", err)
			}
		}
	}
	resolve := func(req engine.CallRequest) (media.AgentConfig, error) {
		ag, ok := agents[req.AgentID]
		if !ok {
			return media.AgentConfig{}, fmt.Errorf("agent %q is not in the config", req.AgentID)
		}
		c := media.AgentConfig{Voice: ag.Voice, MaxDuration: ag.MaxCallDuration, ConnectionLostTimeout: ag.ConnectionLost, Log: log}
		switch ag.Kind {
		case config.AgentSim:
			c.URL = simAgent.URL()
			if !realCarrier[req.NumberID] {
				c.Header = media.SimCallHeader(req)
			}
		case config.AgentWebRTC:
			c.URL, c.Token = ag.URL, ag.Token.Reveal()
		default:
			return media.AgentConfig{}, fmt.Errorf("agent %q has unknown kind %q", ag.ID, ag.Kind)
		}
		// An agent on this machine only answers with loopback candidates,
		// which pion leaves out unless asked.
		c.Net.Loopback = isLoopbackURL(c.URL)
		return c, nil
	}
	return resolve, stop, nil
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// withApp opens the app for one command and closes it after.
func withApp(g *globals, fn func(a *app) error) error {
	a, err := openApp(g, appOptions{})
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a)
}

// isLocked tells whether err is the database lock error.
func isLocked(err error) bool { return errors.Is(err, storage.ErrLocked) }

// maskPhone hides all but the last 4 digits (for logs and human output).
func maskPhone(p string) string { return engine.MaskPhone(p) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
