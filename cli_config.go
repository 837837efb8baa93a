package main

import (
	"fmt"

	"github.com/dialdeck/dialdeck/config"
)

func cmdConfigCheck(g *globals, args []string) error {
	if len(args) > 1 {
		return usagef("usage: dialdeck config check [file]")
	}
	if len(args) == 1 {
		g.config = args[0]
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	fmt.Fprint(g.stdout, cfg.Summary())
	for _, ag := range cfg.Agents {
		if ag.Kind != config.AgentSim {
			fmt.Fprintf(g.stdout, "WARNING: agent %q is of kind %q: real WebRTC agents are not implemented in this build yet; its calls will fail.\n", ag.ID, ag.Kind)
		}
	}
	fmt.Fprintln(g.stdout, "config ok")
	return nil
}
