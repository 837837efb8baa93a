package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/dialdeck/dialdeck/ui"
)

// runTUI opens the app (so a database held by another dialdeck is reported
// on the plain terminal, before the screen switches), runs the engine in the
// background and the TUI in front. Logs go to the configured log file only:
// the terminal belongs to the UI.
func runTUI(g *globals) int {
	a, err := openApp(g, appOptions{placesCalls: true})
	if err != nil {
		return report(g, err)
	}
	defer a.close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engineDone := make(chan error, 1)
	go func() { engineDone <- a.eng.Run(ctx) }()

	mono := ui.NoColor(os.Getenv)
	m := ui.New(a.eng, ui.Options{ReadOnly: g.readonly, Mono: mono})
	var opts []tea.ProgramOption
	if mono {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	p := tea.NewProgram(m, opts...)

	sub := a.eng.Subscribe()
	pumpCtx, stopPump := context.WithCancel(ctx)
	go ui.Pump(pumpCtx, ui.SubscriptionEvents(sub), p.Send, ui.MinSnapshotGap)

	// A closed SSH session (SIGHUP) or a service stop (SIGTERM) ends the
	// program like a confirmed quit: live calls are hung up and recorded.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGHUP, syscall.SIGTERM)
	var termed atomic.Bool
	go func() {
		if _, ok := <-term; ok {
			termed.Store(true)
			p.Kill()
		}
	}()
	_, runErr := p.Run()
	signal.Stop(term)
	close(term)
	if termed.Load() {
		a.log.Warn("terminal closed or terminated: stopping the engine")
		runErr = nil
	}
	stopPump()
	sub.Close()

	// Stop dialing and hang up the live calls cleanly; a Ctrl+C while that
	// runs forces the exit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		fmt.Fprintln(g.stderr, "dialdeck: forced exit; live calls were not recorded (they are reconciled at the next start)")
		os.Exit(exitErr)
	}()
	if n := a.eng.ActiveCount(0); n > 0 {
		fmt.Fprintf(g.stderr, "dialdeck: hanging up %d live calls…\n", n)
	}
	cancel()
	<-engineDone
	if runErr != nil {
		fmt.Fprintln(g.stderr, "dialdeck:", runErr)
		return exitErr
	}
	return exitOK
}
