package engine

import (
	"sync"
	"time"
)

// EventKind says what changed.
type EventKind string

const (
	// EventCampaign: a campaign's state, settings, leads or counters changed.
	EventCampaign EventKind = "campaign"
	// EventCall: a live call started, progressed or ended.
	EventCall EventKind = "call"
	// EventDNC: the do-not-call list changed.
	EventDNC EventKind = "dnc"
	// EventError: something failed in the background (Message says what).
	EventError EventKind = "error"
	// EventLog: a notable happening worth showing an operator.
	EventLog EventKind = "log"
)

// Event is one change notification. Subscribers get them coalesced: many
// changes to one campaign between two reads arrive as one event.
type Event struct {
	Kind       EventKind `json:"kind"`
	CampaignID uint64    `json:"campaignId,omitempty"`
	Message    string    `json:"message,omitempty"`
	At         time.Time `json:"at"`
}

// Subscription receives coalesced events. C is signalled (never blocks the
// engine) when events are pending; Drain takes them.
type Subscription struct {
	C <-chan struct{}

	b       *broker
	c       chan struct{}
	mu      sync.Mutex
	pending []Event
	index   map[coalesceKey]int
}

type coalesceKey struct {
	kind EventKind
	cid  uint64
}

// maxPendingMessages bounds what a slow subscriber can make the engine hold.
const maxPendingMessages = 256

// Drain returns and clears the pending events, oldest first.
func (s *Subscription) Drain() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pending
	s.pending = nil
	s.index = map[coalesceKey]int{}
	return out
}

// Close ends the subscription.
func (s *Subscription) Close() { s.b.remove(s) }

func (s *Subscription) push(ev Event) {
	s.mu.Lock()
	k := coalesceKey{ev.Kind, ev.CampaignID}
	coalesce := ev.Kind == EventCampaign || ev.Kind == EventCall || ev.Kind == EventDNC
	if i, ok := s.index[k]; ok && coalesce {
		s.pending[i] = ev
	} else if len(s.pending) < maxPendingMessages {
		if coalesce {
			s.index[k] = len(s.pending)
		}
		s.pending = append(s.pending, ev)
	}
	s.mu.Unlock()
	select {
	case s.c <- struct{}{}:
	default:
	}
}

type broker struct {
	mu   sync.Mutex
	subs map[*Subscription]bool
}

func newBroker() *broker { return &broker{subs: map[*Subscription]bool{}} }

func (b *broker) publish(ev Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	b.mu.Lock()
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.push(ev)
	}
}

func (b *broker) remove(s *Subscription) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

// Subscribe starts a subscription to the engine's change events.
func (e *Engine) Subscribe() *Subscription {
	c := make(chan struct{}, 1)
	s := &Subscription{C: c, c: c, b: e.events, index: map[coalesceKey]int{}}
	e.events.mu.Lock()
	e.events.subs[s] = true
	e.events.mu.Unlock()
	return s
}

func (e *Engine) changed(cid uint64) {
	e.events.publish(Event{Kind: EventCampaign, CampaignID: cid, At: e.clock.Now()})
}
