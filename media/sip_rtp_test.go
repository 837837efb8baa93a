package media

import (
	"net"
	"testing"
	"time"
)

func udpLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rtpPacket(pt uint8, seq uint16) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, pt
	p[2], p[3] = byte(seq>>8), byte(seq)
	return p
}

// gotPacket tells whether c receives a datagram within d.
func gotPacket(c *net.UDPConn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 1500)
	_, _, err := c.ReadFromUDP(buf)
	return err == nil
}

func TestRTPAnswerMovesEarlyMediaLatch(t *testing.T) {
	// Early media: the 183 names one address and RTP comes from another
	// (latched). The 200 names a third: agent audio must go there, not to
	// the early-media source (one-way audio otherwise).
	local := udpLoopback(t)
	s := newRTPStream(local)
	defer s.close()
	early, announce, answer := udpLoopback(t), udpLoopback(t), udpLoopback(t)
	s.setRemote(sdpAnswer{Addr: early.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1})
	s.startEarly()
	deadline := time.Now().Add(2 * time.Second)
	for s.early.Load() == 0 && time.Now().Before(deadline) {
		if _, err := announce.WriteToUDP(rtpPacket(ptPCMU, 1), local.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.stopEarly()
	if s.early.Load() == 0 {
		t.Fatal("early RTP never arrived")
	}
	s.setRemote(sdpAnswer{Addr: answer.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1})
	if err := s.write(rtpPacket(ptPCMU, 2)); err != nil {
		t.Fatal(err)
	}
	if !gotPacket(answer, time.Second) {
		t.Error("agent audio did not reach the 200's SDP address")
	}
	if gotPacket(announce, 100*time.Millisecond) {
		t.Error("agent audio still went to the early-media source")
	}
	// The same SDP again (a 200 repeating the 183's) keeps the latch.
	s.setRemote(sdpAnswer{Addr: answer.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1})
	s.mu.Lock()
	to := s.remote
	s.mu.Unlock()
	if to.Port != answer.LocalAddr().(*net.UDPAddr).Port {
		t.Errorf("remote %v, want the answer's address", to)
	}
}

func TestRTPComfortNoiseKeepsCallAlive(t *testing.T) {
	// After the first audio the callee sends only comfort noise (PT 13) and
	// DTMF (PT 101) for longer than the no-media timeout, then audio again:
	// the read waits for it instead of failing "no media", and returns only
	// audio.
	local := udpLoopback(t)
	s := newRTPStream(local)
	defer s.close()
	peer := udpLoopback(t)
	s.setRemote(sdpAnswer{Addr: peer.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: ptTelephoneEvent})
	to := local.LocalAddr().(*net.UDPAddr)
	send := func(pt uint8, seq uint16) {
		if _, err := peer.WriteToUDP(rtpPacket(pt, seq), to); err != nil {
			t.Error(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(ptPCMU, 1)
		for i := range 16 { // 800 ms of CN/DTMF against a 300 ms timeout
			time.Sleep(50 * time.Millisecond)
			if i%2 == 0 {
				send(13, uint16(2+i))
			} else {
				send(ptTelephoneEvent, uint16(2+i))
			}
		}
		send(ptPCMU, 99)
	}()
	defer func() { <-done }()
	never := func() bool { return false }
	buf := make([]byte, 1500)
	for _, want := range []uint16{1, 99} {
		n, err := s.read(buf, 300*time.Millisecond, never)
		if err != nil {
			t.Fatalf("read: %v (comfort noise and DTMF should keep the call alive)", err)
		}
		if seq := uint16(buf[2])<<8 | uint16(buf[3]); n < 12 || buf[1]&0x7f != ptPCMU || seq != want {
			t.Fatalf("got PT %d seq %d, want audio seq %d", buf[1]&0x7f, seq, want)
		}
	}
	// Silence of every kind still times out.
	if _, err := s.read(buf, 200*time.Millisecond, never); err != errRTPTimeout {
		t.Errorf("read with nothing arriving: %v, want the no-media timeout", err)
	}
}

func TestRTPLatchRejectsOtherSources(t *testing.T) {
	// Once latched, audio from any other source is dropped (RTP bleed).
	local := udpLoopback(t)
	s := newRTPStream(local)
	defer s.close()
	callee, intruder := udpLoopback(t), udpLoopback(t)
	s.setRemote(sdpAnswer{Addr: callee.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1})
	to := local.LocalAddr().(*net.UDPAddr)
	for _, p := range []struct {
		c   *net.UDPConn
		seq uint16
	}{{callee, 1}, {intruder, 2}, {callee, 3}} {
		if _, err := p.c.WriteToUDP(rtpPacket(ptPCMU, p.seq), to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // keep arrival order
	}
	buf := make([]byte, 1500)
	for _, want := range []uint16{1, 3} {
		if _, err := s.read(buf, time.Second, func() bool { return false }); err != nil {
			t.Fatal(err)
		}
		if seq := uint16(buf[2])<<8 | uint16(buf[3]); seq != want {
			t.Fatalf("read seq %d, want %d: the intruder's packet got through", seq, want)
		}
	}
	// Before latching, only the SDP's IP can latch (a public one here).
	s2 := newRTPStream(udpLoopback(t))
	defer s2.close()
	s2.setRemote(sdpAnswer{Addr: &net.UDPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 4000}, PT: ptPCMU, DTMF: -1})
	if _, kind := s2.audio(rtpPacket(ptPCMU, 1), &net.UDPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 4000}); kind != rtpJunk {
		t.Errorf("audio from an IP the SDP did not name was taken (kind %d)", kind)
	}
	if _, kind := s2.audio(rtpPacket(ptPCMU, 2), &net.UDPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 4002}); kind != rtpAudio {
		t.Errorf("audio from the SDP's IP (another port) was refused (kind %d)", kind)
	}
}
