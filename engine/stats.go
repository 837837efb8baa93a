package engine

import (
	"sync"
	"time"
)

// statsMinutes is how far back calls-per-minute history goes.
const statsMinutes = 30

// callStats counts ended calls per campaign per minute, for the UI's
// calls-per-minute sparkline. Memory is fixed per campaign.
type callStats struct {
	mu   sync.Mutex
	camp map[uint64]*minuteRing
}

type minuteRing struct {
	minute [statsMinutes]int64 // unix minute of each slot
	count  [statsMinutes]int
}

func newCallStats() *callStats { return &callStats{camp: map[uint64]*minuteRing{}} }

func (s *callStats) add(cid uint64, at time.Time) {
	m := at.Unix() / 60
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.camp[cid]
	if r == nil {
		r = &minuteRing{}
		s.camp[cid] = r
	}
	i := m % statsMinutes
	if r.minute[i] != m {
		r.minute[i], r.count[i] = m, 0
	}
	r.count[i]++
}

// CallsPerMinute returns ended calls per minute for the last 30 minutes,
// oldest first, ending with the current minute.
func (e *Engine) CallsPerMinute(cid uint64) []int {
	out := make([]int, statsMinutes)
	now := e.clock.Now().Unix() / 60
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	r := e.stats.camp[cid]
	if r == nil {
		return out
	}
	for k := 0; k < statsMinutes; k++ {
		m := now - int64(statsMinutes-1-k)
		if i := m % statsMinutes; r.minute[i] == m {
			out[k] = r.count[i]
		}
	}
	return out
}
