package media

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSIPHoldIsNotNoMedia(t *testing.T) {
	// The callee holds the call (a=inactive, RTP stops) for 3 s against a
	// 1 s no-media timeout, then takes it back (a=sendrecv): the call is not
	// ended as "no media", our answers say inactive then sendrecv (sipp
	// checks them and fails otherwise) and the audio after the un-hold
	// reaches ReadRTP.
	sp := startSipp(t, "hold.xml", true)
	rtpLo := freePortPair(t, 37000, 45000)
	c, err := NewSIPCarrier(SIPTrunkConfig{ID: "t", Trunk: sp.addr, BindAddr: "127.0.0.1", RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3,
		RingTimeout: 3 * time.Second, NoMediaTimeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	var trace []string
	var unheld time.Time
	c.Trace = func(l string) {
		mu.Lock()
		defer mu.Unlock()
		trace = append(trace, l)
		if unheld.IsZero() && strings.Contains(l, "sendrecv)") {
			unheld = time.Now()
		}
	}
	unheldAt := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return unheld
	}
	call, err := c.Dial(context.Background(), testRequest(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	var gap time.Duration
	last := time.Now()
	after := 0 // packets a second after the un-hold
	for after < 25 {
		if _, err := call.ReadRTP(buf); err != nil {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("ReadRTP during or after the hold: %v (trace %q)", err, trace)
		}
		now := time.Now()
		gap = max(gap, now.Sub(last))
		last = now
		if u := unheldAt(); !u.IsZero() && now.Sub(u) > time.Second {
			after++
		}
	}
	call.Hangup()
	if gap < 2*time.Second {
		t.Errorf("longest gap in the audio %v: the hold did not stop the RTP, the test proves nothing", gap)
	}
	if code := sp.wait(10 * time.Second); code != 0 {
		t.Errorf("sipp exit %d (it checks a=inactive then a=sendrecv in our answers):\n%s", code, sp.tail())
	}
}

func TestSDPDirection(t *testing.T) {
	// The direction is read at media level, else session level (default
	// sendrecv), and answered per RFC 3264 §6.1.
	for _, tc := range []struct{ session, media, want, answer string }{
		{"", "", dirSendRecv, dirSendRecv},
		{"", "a=inactive\r\n", dirInactive, dirInactive},
		{"a=sendonly\r\n", "", dirSendOnly, dirRecvOnly},
		{"a=inactive\r\n", "a=recvonly\r\n", dirRecvOnly, dirSendOnly},
	} {
		body := "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + tc.session +
			"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" + tc.media
		a, err := parseSDPAnswer([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if a.Dir != tc.want || answerDir(a.Dir) != tc.answer {
			t.Errorf("session %q media %q: dir %q answered %q, want %q answered %q", tc.session, tc.media, a.Dir, answerDir(a.Dir), tc.want, tc.answer)
		}
	}
	// While the callee does not send, silence is no "no media", and we do
	// not send either when the answer is inactive.
	s := newRTPStream(udpLoopback(t))
	defer s.close()
	peer := udpLoopback(t)
	s.setRemote(sdpAnswer{Addr: peer.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1, Dir: dirInactive})
	if err := s.write(rtpPacket(ptPCMU, 1)); err != nil || gotPacket(peer, 100*time.Millisecond) {
		t.Errorf("RTP sent while the call is inactive (err %v)", err)
	}
	stop := make(chan struct{})
	go func() {
		time.Sleep(400 * time.Millisecond)
		s.setDir(dirSendRecv)
		close(stop)
	}()
	start := time.Now()
	_, err := s.read(make([]byte, 1500), 200*time.Millisecond, func() bool { return false })
	<-stop
	if err != errRTPTimeout || time.Since(start) < 550*time.Millisecond {
		t.Errorf("read: %v after %v, want the no-media timeout 200ms after the un-hold at 400ms", err, time.Since(start))
	}
}
