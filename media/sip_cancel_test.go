package media

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func TestSIPCancelIgnoredDoesNotHoldDial(t *testing.T) {
	// The trunk rings, then ignores our CANCEL (no 487 ever): Dial returns
	// about cancelWait after the ring timeout, not 64*T1 (32 s) later, and
	// Close waits closeGrace at most for the unanswered INVITE.
	sp := startSipp(t, "cancel_ignored.xml", true)
	rtpLo := freePortPair(t, 37000, 45000)
	c, err := NewSIPCarrier(SIPTrunkConfig{ID: "t", Trunk: sp.addr, BindAddr: "127.0.0.1", RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3, RingTimeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var trace []string
	c.Trace = func(l string) {
		mu.Lock()
		trace = append(trace, l)
		mu.Unlock()
	}
	start := time.Now()
	_, err = c.Dial(context.Background(), testRequest(1), nil)
	took := time.Since(start)
	var de *DialError
	if !errors.As(err, &de) || de.Outcome != engine.OutcomeNoAnswer {
		t.Errorf("Dial: %v, want no_answer", err)
	}
	// Loose bound: the bug held it 33 s.
	if took > 5*time.Second {
		t.Errorf("Dial returned %v after start with the CANCEL unanswered, want about ring timeout + %v", took, cancelWait)
	}
	mu.Lock()
	cancelled := slices.ContainsFunc(trace, func(l string) bool { return strings.HasPrefix(l, "-> CANCEL") })
	mu.Unlock()
	if !cancelled {
		t.Errorf("no CANCEL sent: %q", trace)
	}
	cs := time.Now()
	c.Close()
	if d := time.Since(cs); d > 10*time.Second {
		t.Errorf("Close took %v with the INVITE's CANCEL unanswered, want about %v", d, closeGrace)
	}
	// The RTP port went back: another carrier on the same range can bind it.
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rtpLo})
	if err != nil {
		t.Errorf("RTP port %d still held after Dial returned: %v", rtpLo, err)
	} else {
		conn.Close()
	}
}
