package ui

import (
	"context"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// fakeEvents mimics engine.Subscription: a 1-slot signal and a pending list.
type fakeEvents struct {
	mu      sync.Mutex
	c       chan struct{}
	pending []engine.Event
}

func (f *fakeEvents) Ready() <-chan struct{} { return f.c }
func (f *fakeEvents) Drain() []engine.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.pending
	f.pending = nil
	return out
}
func (f *fakeEvents) publish(e engine.Event) {
	f.mu.Lock()
	f.pending = append(f.pending, e)
	f.mu.Unlock()
	select {
	case f.c <- struct{}{}:
	default:
	}
}

func TestPumpCoalescesAndSpacesSends(t *testing.T) {
	ev := &fakeEvents{c: make(chan struct{}, 1)}
	type sent struct {
		at time.Time
		n  int
	}
	var mu sync.Mutex
	var sends []sent
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Pump(ctx, ev, func(m tea.Msg) {
			mu.Lock()
			sends = append(sends, sent{time.Now(), len(m.(EventsMsg).Events)})
			mu.Unlock()
		}, 20*time.Millisecond)
		close(done)
	}()
	const total = 2000
	for i := 0; i < total; i++ {
		ev.publish(engine.Event{Kind: engine.EventCall, CampaignID: 1})
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	// Wait until every event has been handed on.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := 0
		for _, s := range sends {
			n += s.n
		}
		mu.Unlock()
		if n == total {
			break
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for i, s := range sends {
		n += s.n
		if i > 0 && s.at.Sub(sends[i-1].at) < 20*time.Millisecond {
			t.Errorf("sends %d and %d only %v apart", i-1, i, s.at.Sub(sends[i-1].at))
		}
	}
	if n != total {
		t.Errorf("%d events handed on, want %d", n, total)
	}
	if len(sends) >= total/10 {
		t.Errorf("%d sends for %d events: not coalesced", len(sends), total)
	}
}
