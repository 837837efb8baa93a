package engine

import (
	"math"
	"sync"
	"time"
)

// pacer spaces call starts per number so a number never exceeds its
// calls-per-second: each call gets the next free slot, 1/cps apart.
type pacer struct {
	mu   sync.Mutex
	next map[string]time.Time
}

func newPacer() *pacer { return &pacer{next: map[string]time.Time{}} }

// budget is how many calls a number can start from now until horizon.
func (p *pacer) budget(number string, cps float64, now, horizon time.Time) int {
	if cps <= 0 {
		return math.MaxInt32
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	free := p.next[number]
	if free.Before(now) {
		free = now
	}
	if !free.Before(horizon) {
		return 0
	}
	n := int(horizon.Sub(free).Seconds()*cps) + 1
	return n
}

// slot reserves the next start time for a number.
func (p *pacer) slot(number string, cps float64, now time.Time) time.Time {
	if cps <= 0 {
		return now
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.next[number]
	if at.Before(now) {
		at = now
	}
	p.next[number] = at.Add(time.Duration(float64(time.Second) / cps))
	return at
}
