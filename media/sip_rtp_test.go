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
	// Once latched (rtpLearnPackets in sequence), audio from any other
	// source is dropped (RTP bleed) while the latched source keeps sending.
	local := udpLoopback(t)
	s := newRTPStream(local)
	defer s.close()
	callee, intruder := udpLoopback(t), udpLoopback(t)
	s.setRemote(sdpAnswer{Addr: callee.LocalAddr().(*net.UDPAddr), PT: ptPCMU, DTMF: -1})
	to := local.LocalAddr().(*net.UDPAddr)
	type pkt struct {
		c   *net.UDPConn
		seq uint16
	}
	var seqs []pkt
	for i := range rtpLearnPackets {
		seqs = append(seqs, pkt{callee, uint16(1 + i)})
	}
	seqs = append(seqs, pkt{intruder, 50}, pkt{intruder, 51}, pkt{callee, 10})
	for _, p := range seqs {
		if _, err := p.c.WriteToUDP(rtpPacket(ptPCMU, p.seq), to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // keep arrival order
	}
	buf := make([]byte, 1500)
	for _, want := range []uint16{1, 2, 3, 4, 10} {
		if _, err := s.read(buf, time.Second, func() bool { return false }); err != nil {
			t.Fatal(err)
		}
		if seq := uint16(buf[2])<<8 | uint16(buf[3]); seq != want {
			t.Fatalf("read seq %d, want %d: the intruder's packet got through", seq, want)
		}
	}
	n, from := s.droppedSummary()
	if n != 2 || len(from) != 1 || from[0] != intruder.LocalAddr().String()+" (2)" {
		t.Errorf("dropped %d from %v, want 2 from the intruder %v", n, from, intruder.LocalAddr())
	}
}

// feed passes count packets in sequence from one source through s.audio and
// counts the kinds.
func feed(s *rtpStream, from *net.UDPAddr, ssrc uint32, seq0 uint16, count int) map[rtpKind]int {
	got := map[rtpKind]int{}
	for i := range count {
		p := rtpPacket(ptPCMU, seq0+uint16(i))
		p[8], p[9], p[10], p[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		_, k := s.audio(p, from)
		got[k]++
	}
	return got
}

func TestRTPLatchLearnsFromOtherPublicIP(t *testing.T) {
	// A carrier's media server sends from another public IP than its SDP
	// names (or the SDP names CGNAT space 100.64/10): every packet is audio
	// and the latch goes to the real source.
	for _, sdpIP := range []string{"203.0.113.10", "100.64.1.1"} {
		s := newRTPStream(udpLoopback(t))
		s.setRemote(sdpAnswer{Addr: &net.UDPAddr{IP: net.ParseIP(sdpIP), Port: 30000}, PT: ptPCMU, DTMF: -1})
		from := &net.UDPAddr{IP: net.ParseIP("198.51.100.20"), Port: 40000}
		if got := feed(s, from, 7, 1, 500); got[rtpAudio] != 500 {
			t.Errorf("SDP %s, RTP from %v: %v, want 500 audio", sdpIP, from, got)
		}
		if !s.latched || !sameAddr(s.remote, from) {
			t.Errorf("SDP %s: latched=%v to %v, want %v", sdpIP, s.latched, s.remote, from)
		}
	}
}

func TestRTPLatchRelearnsAfterSilence(t *testing.T) {
	// An SBC failover moves the source (same IP, new port) without a
	// re-INVITE: dropped while the old source is live, taken once it has
	// been silent for rtpRelearnSilence and the new one sends in sequence.
	s := newRTPStream(udpLoopback(t))
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	old := &net.UDPAddr{IP: net.ParseIP("203.0.113.10"), Port: 30000}
	moved := &net.UDPAddr{IP: net.ParseIP("203.0.113.10"), Port: 30002}
	s.setRemote(sdpAnswer{Addr: old, PT: ptPCMU, DTMF: -1})
	if got := feed(s, old, 1, 1, 10); got[rtpAudio] != 10 || !s.latched {
		t.Fatalf("latched source: %v latched=%v", got, s.latched)
	}
	// Bleed while the latched source is live: dropped.
	now = now.Add(rtpRelearnSilence / 2)
	if got := feed(s, moved, 2, 100, 20); got[rtpJunk] != 20 {
		t.Errorf("other source while the latched one is live: %v, want all dropped", got)
	}
	// The old source silent long enough: the new one is learnt; the
	// packets before the latch are dropped.
	now = now.Add(rtpRelearnSilence)
	got := feed(s, moved, 2, 200, 10)
	if got[rtpJunk] != rtpLearnPackets-1 || got[rtpAudio] != 10-(rtpLearnPackets-1) {
		t.Errorf("new source after silence: %v", got)
	}
	if !sameAddr(s.remote, moved) {
		t.Errorf("remote %v, want the new source %v", s.remote, moved)
	}
	// A source with gaps in its sequence never takes the latch.
	now = now.Add(2 * rtpRelearnSilence)
	third := &net.UDPAddr{IP: net.ParseIP("198.51.100.9"), Port: 5000}
	for i := range 20 {
		if _, k := s.audio(rtpPacket(ptPCMU, uint16(i*2)), third); k != rtpJunk {
			t.Fatalf("packet %d from a source with gaps taken", i)
		}
	}
}
