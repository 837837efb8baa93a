package media

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSIPCloseHangsUpInParallel(t *testing.T) {
	// Four live calls to a trunk that never answers BYE (vanish.xml): Close
	// sends the four BYEs at once, not one per byeWait (1 s) as when it
	// hung up one call after another.
	const n = 4
	sp := startSipp(t, "vanish.xml", true, "-m", "4")
	c := newTestCarrier(t, sp, func(tc *SIPTrunkConfig) { tc.RTPPortMax = tc.RTPPortMin + 4*n })
	var mu sync.Mutex
	var byes []time.Time
	c.Trace = func(l string) {
		if strings.HasPrefix(l, "-> BYE") {
			mu.Lock()
			byes = append(byes, time.Now())
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := testRequest(uint64(i + 1))
			req.Phone, req.CallerID = sipTestPhone, sipTestCallerID
			if _, err := c.Dial(context.Background(), req, nil); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		c.Close()
		return
	}
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(byes) != n {
		t.Fatalf("%d BYEs sent, want %d", len(byes), n)
	}
	first, last := byes[0], byes[0]
	for _, b := range byes {
		if b.Before(first) {
			first = b
		}
		if b.After(last) {
			last = b
		}
	}
	// Loose bound: one after another they spread over (n-1)*byeWait = 3 s.
	if spread := last.Sub(first); spread > byeWait {
		t.Errorf("BYEs spread over %v, want them sent together (not one per %v)", spread, byeWait)
	}
}
