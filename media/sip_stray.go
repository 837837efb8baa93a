package media

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// maxStrayHangups bounds the ACK+BYE exchanges for stray 2xx running at
// once: each holds a goroutine for up to 5 s.
const maxStrayHangups = 32

// sentInvites remembers the INVITEs dialdeck sent recently (Call-ID and
// From-tag), so a stray 2xx is only hung up when it answers one of ours:
// anyone else's 200 would otherwise make dialdeck send ACK and BYE to
// whatever Contact it names (a reflector).
type sentInvites struct {
	mu        sync.Mutex
	m         map[string]sentInvite // by Call-ID
	lastPrune time.Time
}

type sentInvite struct {
	fromTag string
	until   time.Time
}

// strayWindow is how long a 2xx to an INVITE can still come: the ring
// timeout, then 64*T1 for the CANCEL's crossing answer, plus 32 s (Timer D)
// for retransmissions.
func strayWindow(ring time.Duration) time.Duration {
	return ring + 64*sip.T1 + 32*time.Second
}

func (s *sentInvites) add(callID, fromTag string, now time.Time, keep time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]sentInvite{}
	}
	if now.Sub(s.lastPrune) > time.Second {
		for k, v := range s.m {
			if now.After(v.until) {
				delete(s.m, k)
			}
		}
		s.lastPrune = now
	}
	s.m[callID] = sentInvite{fromTag: fromTag, until: now.Add(keep)}
}

// ours tells whether a response with this Call-ID and From-tag answers an
// INVITE dialdeck sent within its window.
func (s *sentInvites) ours(callID, fromTag string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[callID]
	return ok && v.fromTag == fromTag && !now.After(v.until)
}

// rememberInvite records an INVITE just sent.
func (c *SIPCarrier) rememberInvite(inv *sip.Request) {
	if inv.CallID() == nil || inv.From() == nil {
		return
	}
	tag, _ := inv.From().Params.Get("tag")
	c.sent.add(inv.CallID().Value(), tag, time.Now(), strayWindow(c.cfg.RingTimeout))
}
