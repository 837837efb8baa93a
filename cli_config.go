package main

import (
	"fmt"
	"strings"

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
		// A token over plain HTTP to another machine travels in clear text.
		if ag.Kind == config.AgentWebRTC && ag.Token.IsSet() && strings.HasPrefix(ag.URL, "http://") && !isLoopbackURL(ag.URL) {
			fmt.Fprintf(g.stdout, "WARNING: agent %q sends its token over plain http:// to a remote host; use https://\n", ag.ID)
		}
	}
	fmt.Fprintln(g.stdout, "config ok")
	return nil
}
