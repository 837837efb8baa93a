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
