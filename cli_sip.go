package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dialdeck/dialdeck/config"
	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/media"
)

// cmdSIPTest places one real call through a trunk, bridged to an agent like
// a campaign call, and prints every SIP step and the result. It needs no
// database: nothing is stored.
func cmdSIPTest(g *globals, args []string) error {
	fs := flag.NewFlagSet("sip test", flag.ContinueOnError)
	ring := fs.Duration("ring-timeout", 0, "give up ringing after this long (default: the trunk's ring_timeout)")
	talk := fs.Duration("talk", 10*time.Second, "hang up this long after the answer (the agent may end the call sooner)")
	agentID := fs.String("agent", "", "agent to bridge to (default: the agent of a campaign using the trunk, else the first agent)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: dialdeck sip test <carrier-id> <E.164> [--ring-timeout D] [--talk D] [--agent ID]")
	}
	if *ring < 0 || *talk <= 0 {
		return usagef("--ring-timeout must not be negative and --talk must be positive")
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	trunk, err := testTrunk(cfg, pos[0])
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.TrimSpace(pos[1]), "+") {
		return fmt.Errorf("number %q is not in E.164 form: write it as +<country code><number>, e.g. +14155550123", pos[1])
	}
	phone, _, err := engine.NormalizePhone(pos[1], "")
	if err != nil {
		return fmt.Errorf("number %q: %v", pos[1], err)
	}
	req, agent, err := testRequest(cfg, trunk, phone, *agentID)
	if err != nil {
		return err
	}
	if *ring > 0 {
		trunk.RingTimeout = *ring
	}

	logFile, err := os.OpenFile(cfg.Engine.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: cfg.Engine.LogLevel})).With("cmd", "sip test")

	sim := media.NewSimPlacer(simConfig(cfg), engine.SystemClock{})
	resolve, stopAgents, err := agentResolver(cfg, sim, log)
	if err != nil {
		return err
	}
	defer stopAgents()
	carrier, err := media.NewSIPCarrier(sipTrunkConfig(trunk), log.With("trunk", trunk.ID))
	if err != nil {
		return err // it names the trunk
	}
	defer carrier.Close()

	out := &testPrinter{w: g.stdout, start: time.Now()}
	carrier.Trace = func(line string) { out.line("sip", line) }
	fmt.Fprintf(g.stdout, "test call: %s -> %s via trunk %s (%s %s), agent %s (%s), ring timeout %s, talk %s\n",
		req.CallerID, phone, trunk.ID, trunk.Transport, trunk.Trunk, agent.ID, agent.Kind, trunk.RingTimeout, *talk)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		once       sync.Once
		mu         sync.Mutex // OnProgress is called from several goroutines
		lastState  string
		lastDetail string
	)
	req.OnProgress = func(p engine.CallProgress) {
		mu.Lock()
		defer mu.Unlock()
		if p.State != lastState {
			lastState = p.State
			detail := ""
			// The detail sticks to later states; show it when it is news.
			if p.Detail != "" && p.Detail != lastDetail {
				detail = " (" + p.Detail + ")"
			}
			lastDetail = p.Detail
			out.line("call", p.State+detail)
		}
		if p.State == "talking" || p.State == "voicemail" {
			once.Do(func() {
				time.AfterFunc(*talk, func() {
					cancel(&media.HangUp{Reason: fmt.Sprintf("dialdeck hung up after --talk %s", *talk)})
				})
			})
		}
	}
	bridge := media.NewBridge(carrier, resolve, log)
	res := bridge.Place(ctx, req)
	printTestResult(g.stdout, res)
	if !res.Answered {
		return fmt.Errorf("the test call was not answered: %s", res.Outcome)
	}
	return nil
}

// testTrunk finds the trunk named on the command line ("id" or "sip:id").
func testTrunk(cfg *config.Config, arg string) (config.SIPTrunk, error) {
	id := strings.TrimPrefix(arg, config.CarrierSIPPrefix)
	if t, ok := cfg.SIPTrunk(id); ok {
		return t, nil
	}
	if len(cfg.Carriers.SIP) == 0 {
		return config.SIPTrunk{}, fmt.Errorf("unknown SIP carrier %q: %s has no [[carriers.sip]] (see example.toml)", arg, cfg.Source)
	}
	known := make([]string, len(cfg.Carriers.SIP))
	for i, t := range cfg.Carriers.SIP {
		known[i] = fmt.Sprintf("%q", t.ID)
	}
	return config.SIPTrunk{}, fmt.Errorf("unknown SIP carrier %q (configured: %s)", arg, strings.Join(known, ", "))
}

// testRequest builds the call: the caller ID of a number on the trunk (else
// the first number), and the agent asked for, else that of a campaign using
// such a number, else the first agent.
func testRequest(cfg *config.Config, trunk config.SIPTrunk, phone, agentID string) (engine.CallRequest, config.Agent, error) {
	number := cfg.Numbers[0]
	for _, n := range cfg.Numbers {
		if n.Carrier == trunk.Carrier() {
			number = n
			break
		}
	}
	if agentID == "" {
		agentID = cfg.Agents[0].ID
		for _, c := range cfg.Campaigns {
			if n, ok := cfg.Number(c.PhoneNumberID); ok && n.Carrier == trunk.Carrier() {
				agentID = c.AgentID
				break
			}
		}
	}
	agent, ok := cfg.Agent(agentID)
	if !ok {
		return engine.CallRequest{}, config.Agent{}, fmt.Errorf("unknown agent %q (agents: %s)", agentID, agentIDs(cfg))
	}
	vars := map[string]string{"phone": phone}
	prompt, _ := engine.Render(agent.Prompt, vars)
	welcome, _ := engine.Render(agent.WelcomeMessage, vars)
	return engine.CallRequest{
		CampaignName: "sip test", Attempt: 1, Phone: phone, CallerID: number.CallerID, NumberID: number.ID,
		AgentID: agent.ID, Variables: vars, Prompt: prompt, WelcomeMessage: welcome,
	}, agent, nil
}

func agentIDs(cfg *config.Config) string {
	ids := make([]string, len(cfg.Agents))
	for i, a := range cfg.Agents {
		ids[i] = fmt.Sprintf("%q", a.ID)
	}
	return strings.Join(ids, ", ")
}

// testPrinter prints timestamped lines from the carrier's and the bridge's
// goroutines without interleaving them.
type testPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *testPrinter) line(source, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%8.3fs  %-4s  %s\n", time.Since(p.start).Seconds(), source, text)
}

func printTestResult(w io.Writer, res engine.CallResult) {
	code := "none"
	if res.SIPCode != 0 {
		code = fmt.Sprint(res.SIPCode)
	}
	answered := "no"
	if res.Answered {
		answered = "yes"
	}
	fmt.Fprintf(w, "result:   %s\n", res.Outcome)
	fmt.Fprintf(w, "answered: %s\n", answered)
	fmt.Fprintf(w, "sip code: %s\n", code)
	fmt.Fprintf(w, "reason:   %s\n", orNone(res.Reason))
	fmt.Fprintf(w, "ring:     %s\n", res.RingDuration.Round(time.Millisecond))
	if res.Answered {
		fmt.Fprintf(w, "talk:     %s\n", res.TalkDuration.Round(time.Millisecond))
		fmt.Fprintf(w, "packets:  %d from the callee to the agent, %d from the agent to the callee\n", res.PacketsToAgent, res.PacketsFromAgent)
	}
}
