package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dialdeck/dialdeck/media"
)

// simAgentTokenEnv names the variable holding the token agent-sim requires:
// an environment variable rather than a flag so it stays out of `ps`.
const simAgentTokenEnv = "DIALDECK_SIM_AGENT_TOKEN"

// cmdAgentSim runs the built-in sim agent on its own, so another dialdeck
// (kind webrtc, url = the printed URL) or any WHIP-style client can call it.
func cmdAgentSim(g *globals, args []string) error {
	fs := flag.NewFlagSet("agent-sim", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8089", "loopback address to listen on (port 0 picks a free one)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("agent-sim takes no arguments")
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: cfg.Engine.LogLevel}))
	// The configured sim odds and talk times shape its conversations. A
	// caller other than dialdeck's built-in path names no agent, so the first
	// sim agent's end_call odds apply to every call.
	sc := simConfig(cfg)
	for _, ag := range cfg.Agents {
		if odds, ok := sc.Agents[ag.ID]; ok {
			sc.Agents[""] = odds
			break
		}
	}
	sim := media.NewSimPlacer(sc, nil)
	agent, err := media.StartSimAgent(*listen, media.SimAgentOptions{Sim: sim, Token: os.Getenv(simAgentTokenEnv), Log: log})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(g.stdout, "sim agent listening: POST SDP offers to %s (Ctrl-C stops)\n", agent.URL())
	<-ctx.Done()
	return agent.Close()
}
