package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func cmdRun(g *globals, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	headless := fs.Bool("headless", false, "run the engine without the UI, logging to stdout")
	exitWhenDone := fs.Bool("exit-when-done", false, "exit once no campaign is running or scheduled and no call is live")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("run takes no arguments")
	}
	if !*headless {
		return usagef("run needs --headless; plain dialdeck (no command) opens the TUI with the engine inside")
	}
	a, err := openApp(g, appOptions{logTo: g.stdout, placesCalls: true})
	if err != nil {
		return err
	}
	defer a.close()
	if f := a.cfg.DNC.File; f != "" {
		if err := importDNCFile(a, f); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.log.Info("dialdeck engine running", "config", a.cfg.Source, "database", a.store.Path(), "tick", a.eng.TickInterval(), "version", version)
	done := make(chan error, 1)
	go func() { done <- a.eng.Run(runCtx) }()
	poll := time.NewTicker(500 * time.Millisecond)
	var exiting bool
	var graceUntil time.Time
	defer poll.Stop()
	for {
		select {
		case err := <-done:
			a.log.Info("dialdeck engine stopped")
			return err
		case <-poll.C:
			if *exitWhenDone && !exiting && allDone(a.eng) {
				exiting = true
				graceUntil = time.Now().Add(webhookGrace)
				a.log.Info("every campaign is done; exiting once due webhooks are sent (--exit-when-done)")
			}
			if exiting {
				soon, later, dead, err := a.eng.WebhookBacklog(10 * time.Second)
				if err == nil && soon > 0 && time.Now().Before(graceUntil) {
					continue
				}
				if soon+later+dead > 0 {
					a.log.Warn("webhook events still queued; they are delivered the next time the engine runs",
						"dueSoon", soon, "waitingRetry", later, "dead", dead)
				}
				cancel()
			}
		}
	}
}

// webhookGrace is how long --exit-when-done waits for webhook events that are
// due (or retried) within seconds before it exits anyway.
const webhookGrace = 30 * time.Second

// allDone: nothing is running or scheduled and no call is live.
func allDone(e *engine.Engine) bool {
	camps, err := e.Campaigns()
	if err != nil {
		return false
	}
	for _, c := range camps {
		if c.State == engine.StateRunning || c.State == engine.StateScheduled {
			return false
		}
	}
	return e.ActiveCount(0) == 0
}

func importDNCFile(a *app, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("[dnc] file: %w", err)
	}
	defer f.Close()
	sum, err := a.eng.DNCImport(f, "", "config file "+path)
	if err != nil {
		return fmt.Errorf("[dnc] file %s: %w", path, err)
	}
	a.log.Info("dnc file imported", "file", path, "added", sum.Added, "invalid", sum.Invalid)
	return nil
}
