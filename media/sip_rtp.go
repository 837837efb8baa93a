package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// rtpPorts hands out even UDP ports from the trunk's RTP range.
type rtpPorts struct {
	ip       net.IP
	min, max int
	mu       sync.Mutex
	next     int
}

func newRTPPorts(ip net.IP, min, max int) *rtpPorts {
	if min%2 == 1 {
		min++
	}
	return &rtpPorts{ip: ip, min: min, max: max, next: min}
}

// open binds the next free even port, walking the range once.
func (p *rtpPorts) open() (*net.UDPConn, error) {
	n := (p.max-p.min)/2 + 1
	for range n {
		p.mu.Lock()
		port := p.next
		p.next += 2
		if p.next > p.max {
			p.next = p.min
		}
		p.mu.Unlock()
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.ip, Port: port})
		if err == nil {
			return conn, nil
		}
	}
	return nil, fmt.Errorf("no free RTP port in %d-%d", p.min, p.max)
}

// PhoneLegError ends an answered phone leg for a reason other than a
// hang-up; the bridge uses Reason as the call's reason (outcome failed).
type PhoneLegError struct{ Reason string }

func (e *PhoneLegError) Error() string { return e.Reason }

// rtpStream is a SIP call's media: one UDP socket, symmetric RTP (sent from
// the port we receive on), PCMU to the bridge whatever the trunk speaks.
type rtpStream struct {
	conn *net.UDPConn

	mu      sync.Mutex
	remote  *net.UDPAddr // where RTP goes: the SDP's address, then the latched source
	sdpAddr *net.UDPAddr // the address the last SDP named
	latched bool
	pcma    bool
	pt      uint8
	learn   rtpLearner // the source being learnt (before the latch, or to re-learn)
	lastRx  time.Time  // last packet from the latched source
	dropped rtpDrops   // packets dropped from other sources since the latch
	now     func() time.Time
	// held: the callee's SDP says it does not send (inactive, recvonly),
	// so silence is not "no media"; resumed is when it last stopped being.
	held    bool
	resumed time.Time
	// mute: our answer says we do not send (inactive, recvonly).
	mute bool

	wmu  sync.Mutex
	wbuf []byte

	early     atomic.Uint64 // packets received before the answer
	earlyStop chan struct{}
	earlyDone chan struct{}
}

func newRTPStream(conn *net.UDPConn) *rtpStream {
	return &rtpStream{conn: conn, wbuf: make([]byte, 1500), now: time.Now}
}

func (s *rtpStream) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// setRemote applies an SDP answer (183, 200 or a re-INVITE's offer): where
// to send and which codec the trunk speaks. An SDP naming a new address
// (the 200's differs from the 183's, or a re-INVITE moves the media) resets
// the latch: the address learnt from early media may be an announcement
// server the call no longer uses.
func (s *rtpStream) setRemote(a sdpAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sdpAddr == nil || !s.sdpAddr.IP.Equal(a.Addr.IP) || s.sdpAddr.Port != a.Addr.Port {
		s.sdpAddr, s.remote, s.latched = a.Addr, a.Addr, false
		s.learn = rtpLearner{}
	} else if !s.latched {
		s.remote = a.Addr
	}
	s.pt = a.PT
	s.pcma = a.PT == ptPCMA
	s.setDirLocked(a.Dir)
}

// setDir takes the direction of the callee's latest SDP.
func (s *rtpStream) setDir(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setDirLocked(dir)
}

func (s *rtpStream) setDirLocked(dir string) {
	if dir == "" {
		dir = dirSendRecv
	}
	held := !sends(dir)
	if s.held && !held {
		s.resumed = s.now()
	}
	s.held = held
	s.mute = !sends(answerDir(dir))
}

// quietOK tells, when no RTP came for timeout, whether that is expected
// (the callee holds the call) and until when to wait again.
func (s *rtpStream) quietOK(timeout time.Duration) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.held {
		return now.Add(timeout), true
	}
	if end := s.resumed.Add(timeout); end.After(now) {
		return end, true // back from hold: the timer restarts at the resume
	}
	return time.Time{}, false
}

// startEarly drains early media (183 with SDP) while the call rings: the
// socket is live and the remote address can be learned from it.
func (s *rtpStream) startEarly() {
	if s.earlyStop != nil {
		return
	}
	s.earlyStop, s.earlyDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.earlyDone)
		buf := make([]byte, 1500)
		for {
			select {
			case <-s.earlyStop:
				return
			default:
			}
			_ = s.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, from, err := s.conn.ReadFromUDP(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if _, kind := s.audio(buf[:n], from); kind == rtpAudio {
				s.early.Add(1)
			}
		}
	}()
}

func (s *rtpStream) stopEarly() {
	if s.earlyStop == nil {
		return
	}
	close(s.earlyStop)
	<-s.earlyDone
	s.earlyStop = nil
	_ = s.conn.SetReadDeadline(time.Time{})
}

// What one datagram on the RTP socket is.
type rtpKind int

const (
	rtpJunk  rtpKind = iota // not RTP, RTCP, or from a source we do not take media from
	rtpOther                // RTP from the callee but not the audio codec: comfort noise, telephone-event
	rtpAudio                // the negotiated audio, now PCMU
)

// audio checks one datagram. RTP version 2 in the negotiated codec is
// converted PCMA to PCMU in place. The remote address is learnt like
// Asterisk's strictrtp: before the latch RTP from any source is taken (a
// carrier's media server often sends from another public IP than its SDP
// names), and the latch goes to a source once it sent rtpLearnPackets
// packets in sequence with one SSRC. Once latched, other sources are
// dropped (RTP bleed, injection) unless the latched one has been silent for
// rtpRelearnSilence: then a new source that sends rtpLearnPackets in
// sequence takes the latch (an SBC failover without a re-INVITE).
func (s *rtpStream) audio(b []byte, from *net.UDPAddr) (int, rtpKind) {
	if len(b) < 12 || b[0]>>6 != 2 || from == nil {
		return 0, rtpJunk
	}
	pt := b[1] & 0x7f
	if pt >= 72 && pt <= 76 {
		return 0, rtpJunk // RTCP (SR/RR/SDES/BYE/APP) on the RTP port
	}
	seq := binary.BigEndian.Uint16(b[2:])
	ssrc := binary.BigEndian.Uint32(b[8:])
	s.mu.Lock()
	want, pcma := s.pt, s.pcma
	now := s.now()
	switch {
	case s.latched && sameAddr(from, s.remote):
		s.lastRx = now
	case s.latched:
		if now.Sub(s.lastRx) < rtpRelearnSilence || !s.learn.add(from, ssrc, seq) {
			s.dropped.add(from)
			s.mu.Unlock()
			return 0, rtpJunk
		}
		s.remote, s.lastRx = from, now
		s.learn = rtpLearner{}
	default:
		if s.learn.add(from, ssrc, seq) {
			s.remote, s.latched, s.lastRx = from, true, now
			s.learn = rtpLearner{}
		}
	}
	s.mu.Unlock()
	if pt != want {
		return 0, rtpOther
	}
	if pcma {
		off, end, ok := rtpPayload(b)
		if !ok {
			return 0, rtpJunk
		}
		alawToUlawInPlace(b[off:end])
		b[1] = b[1]&0x80 | ptPCMU
	}
	return len(b), rtpAudio
}

// droppedSummary is the packets dropped from other sources than the
// latched one, for the "no media" log: count and up to rtpDropSources
// sources (IP:port).
func (s *rtpStream) droppedSummary() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srcs := make([]string, 0, len(s.dropped.from))
	for a, n := range s.dropped.from {
		srcs = append(srcs, fmt.Sprintf("%s (%d)", a, n))
	}
	sort.Strings(srcs)
	return s.dropped.n, srcs
}

const (
	// rtpLearnPackets in sequence with one SSRC make a source the callee's
	// (Asterisk's strictrtp probation is 4).
	rtpLearnPackets = 4
	// rtpRelearnSilence is how long the latched source must be silent before
	// another source can take the latch.
	rtpRelearnSilence = time.Second
	// rtpDropSources bounds the sources remembered for the log.
	rtpDropSources = 4
)

// rtpLearner follows one candidate source: its SSRC and last sequence
// number, and how many packets came in sequence.
type rtpLearner struct {
	from  *net.UDPAddr
	ssrc  uint32
	seq   uint16
	count int
}

// add counts one packet and tells whether the source has now sent
// rtpLearnPackets in sequence. Another source, SSRC or a gap restarts it.
func (l *rtpLearner) add(from *net.UDPAddr, ssrc uint32, seq uint16) bool {
	if l.count > 0 && sameAddr(from, l.from) && ssrc == l.ssrc && seq == l.seq+1 {
		l.count++
	} else {
		l.from, l.ssrc, l.count = from, ssrc, 1
	}
	l.seq = seq
	return l.count >= rtpLearnPackets
}

// rtpDrops counts packets dropped from other sources than the latched one.
type rtpDrops struct {
	n    int
	from map[string]int
}

func (d *rtpDrops) add(from *net.UDPAddr) {
	d.n++
	if d.from == nil {
		d.from = map[string]int{}
	}
	k := from.String()
	if _, ok := d.from[k]; ok || len(d.from) < rtpDropSources {
		d.from[k]++
	}
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.Port == b.Port && a.IP.Equal(b.IP)
}

// rtpPayload is where an RTP packet's payload starts and ends.
func rtpPayload(b []byte) (off, end int, ok bool) {
	off = 12 + 4*int(b[0]&0x0f)
	end = len(b)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return 0, 0, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	if b[0]&0x20 != 0 && end > 0 {
		end -= int(b[end-1])
	}
	if off > end {
		return 0, 0, false
	}
	return off, end, true
}

var errRTPTimeout = errors.New("rtp read timeout")

var errRTPStopped = errors.New("rtp stream stopped")

// read returns the next audio packet as PCMU, waiting up to timeout for
// any RTP from the callee (only audio is returned).
// stopped is checked around each deadline change: a hang-up sets the
// deadline to now after making stopped true, and a later reset of the
// deadline here must not hide it.
func (s *rtpStream) read(b []byte, timeout time.Duration, stopped func() bool) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		if stopped() {
			return 0, errRTPStopped
		}
		if err := s.conn.SetReadDeadline(deadline); err != nil {
			return 0, err
		}
		if stopped() {
			return 0, errRTPStopped
		}
		n, from, err := s.conn.ReadFromUDP(b)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if d, ok := s.quietOK(timeout); ok {
					deadline = d
					continue
				}
				return 0, errRTPTimeout
			}
			return 0, err
		}
		switch n, kind := s.audio(b[:n], from); kind {
		case rtpAudio:
			return n, nil
		case rtpOther:
			// Comfort noise or DTMF: the callee is there, only quiet.
			deadline = time.Now().Add(timeout)
		}
	}
}

// write sends one PCMU packet from the bridge, as PCMA if the trunk asked.
func (s *rtpStream) write(b []byte) error {
	s.mu.Lock()
	to, pcma, mute := s.remote, s.pcma, s.mute
	s.mu.Unlock()
	if mute {
		return nil // on hold: our answer said we do not send
	}
	if to == nil {
		return errors.New("no RTP destination yet")
	}
	if !pcma {
		_, err := s.conn.WriteToUDP(b, to)
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if len(b) < 12 || len(b) > len(s.wbuf) {
		return errors.New("bad RTP packet")
	}
	p := s.wbuf[:len(b)]
	copy(p, b)
	off, end, ok := rtpPayload(p)
	if !ok {
		return errors.New("bad RTP packet")
	}
	ulawToAlawInPlace(p[off:end])
	p[1] = p[1]&0x80 | ptPCMA
	_, err := s.conn.WriteToUDP(p, to)
	return err
}

func (s *rtpStream) close() {
	s.stopEarly()
	s.conn.Close()
}
