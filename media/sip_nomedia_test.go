package media

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// TestRTPNoMediaFiresAfterLastPacket: a stub callee sends audio, then junk
// (RTCP, a stranger's RTP) and stops; the read gives up no_media_timeout
// after the last audio packet, not later (bound loose: twice the timeout).
func TestRTPNoMediaFiresAfterLastPacket(t *testing.T) {
	const timeout = 500 * time.Millisecond
	local := udpLoopback(t)
	s := newRTPStream(local)
	defer s.close()
	callee, stranger := udpLoopback(t), udpLoopback(t)
	to := local.LocalAddr().(*net.UDPAddr)
	s.setRemote(sdpAnswer{Addr: callee.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1})

	stop := make(chan struct{})
	sent := make(chan time.Time, 1)
	go func() {
		var last time.Time
		for i := range 15 {
			if _, err := callee.WriteToUDP(rtpPacket(ptPCMU, uint16(i)), to); err == nil {
				last = time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		sent <- last
		// Not media from the callee: must not keep the call alive.
		rtcp := rtpPacket(200, 0)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			_, _ = callee.WriteToUDP(rtcp[:28], to)
			_, _ = stranger.WriteToUDP(rtpPacket(ptPCMU, uint16(i)), to)
		}
	}()
	defer close(stop)
	buf := make([]byte, 1500)
	got := 0
	for {
		_, err := s.read(buf, timeout, func() bool { return false })
		if err == nil {
			got++
			continue
		}
		if !errors.Is(err, errRTPTimeout) {
			t.Fatalf("read: %v", err)
		}
		break
	}
	last := <-sent
	if late := time.Since(last); late < timeout || late > 2*timeout {
		t.Errorf("no-media fired %v after the last audio packet, want about %v", late, timeout)
	}
	if got != 15 {
		t.Errorf("read %d audio packets, want the callee's 15", got)
	}
}

// TestSIPNoMediaCalleeVanished: the callee answers, sends nothing and never
// answers our BYE (vanish.xml). The call still ends at no_media_timeout:
// waiting for the BYE's response does not hold the result back.
func TestSIPNoMediaCalleeVanished(t *testing.T) {
	const timeout = time.Second
	run := placeSIPCallOpts(t, "vanish.xml", sipCallOpts{noEcho: true,
		mod: func(c *SIPTrunkConfig) { c.NoMediaTimeout = timeout }})
	res := run.res
	if res.Outcome != engine.OutcomeFailed || res.Reason != "no media from the callee for 1s" || !res.Answered {
		t.Fatalf("got %s %q answered %v, want failed: no media", res.Outcome, res.Reason, res.Answered)
	}
	if res.TalkDuration < timeout || res.TalkDuration > 2*timeout {
		t.Errorf("the call ended %v after the answer, want about the no-media timeout %v", res.TalkDuration, timeout)
	}
	if !run.traced("-> BYE") {
		t.Errorf("no BYE after the media timeout: %q", run.trace)
	}
	run.wantSippOK(t)
}
