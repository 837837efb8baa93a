package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/dialdeck/dialdeck/engine"
)

// EventsMsg carries the engine events gathered since the previous one. The
// UI refetches what it shows when it gets one.
type EventsMsg struct{ Events []engine.Event }

// MinSnapshotGap bounds how often Pump sends: at most 10 messages a second,
// however busy the engine is, so a flood of call events cannot starve input
// or redraw the screen more often than anyone can read it.
const MinSnapshotGap = 100 * time.Millisecond

// Pump reads ev until ctx is done and hands send (normally Program.Send) one
// coalesced EventsMsg per burst, never two within gap.
func Pump(ctx context.Context, ev Events, send func(tea.Msg), gap time.Duration) {
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ev.Ready():
			if !ok {
				return
			}
		}
		if wait := gap - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		evs := ev.Drain()
		if len(evs) == 0 {
			continue
		}
		last = time.Now()
		send(EventsMsg{Events: evs})
	}
}
