package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/pion/rtp"
)

// Carrier places the phone leg of a call. The sim carrier is built in; a
// SIP trunk carrier implements the same interface.
type Carrier interface {
	// Dial rings the callee and returns once the call is answered (a
	// PhoneCall) or has failed to connect (a *DialError). onState receives
	// progress such as "ringing"; it must not block.
	Dial(ctx context.Context, req engine.CallRequest, onState func(state string)) (PhoneCall, error)
}

// ProgressCarrier is a Carrier that also reports a detail with each state
// (a SIP carrier: "180 Ringing", the final response). The bridge prefers
// DialProgress when a carrier has it and shows the detail in the UI.
type ProgressCarrier interface {
	Carrier
	DialProgress(ctx context.Context, req engine.CallRequest, onState func(state, detail string)) (PhoneCall, error)
}

// PhoneCall is an answered phone leg carrying PCMU RTP both ways. A phone
// leg may also have SIPCode() int (the answering response, stored on the
// attempt) and end ReadRTP with a *PhoneLegError whose Reason becomes the
// call's reason.
type PhoneCall interface {
	// ReadRTP reads one RTP packet from the callee; io.EOF once the callee
	// hung up.
	ReadRTP(b []byte) (int, error)
	// WriteRTP sends one RTP packet to the callee.
	WriteRTP(b []byte) error
	// Voicemail tells whether a voicemail box answered rather than a person.
	Voicemail() bool
	// Hangup ends the call; safe to call more than once.
	Hangup()
}

// DialError is a phone leg that never connected: busy, no answer or a
// carrier failure.
type DialError struct {
	Outcome engine.Outcome
	Reason  string
	Ring    time.Duration
	// SIPCode is the final SIP response, when the carrier speaks SIP.
	SIPCode int
	// Permanent: the number cannot be reached at all; do not retry.
	Permanent bool
}

func (e *DialError) Error() string { return e.Reason }

// SimCarrier is the built-in simulated carrier. Each call's outcome and
// durations are the SimPlacer's draw for (campaign, lead, attempt), so a
// bridged run matches what `dialdeck simulate` predicts.
type SimCarrier struct {
	sim  *SimPlacer
	lost atomic.Uint64 // sequence gaps in what callees heard
	// RecordLimit is how long a voicemail box records after its beep before
	// hanging up.
	RecordLimit time.Duration
	placements  *os.File // test hook: see PlacementLogEnv
}

// PlacementLogEnv is a test hook, not a feature: when this environment
// variable names a file, the sim carrier appends one line to it when a dial
// starts and one when that phone leg ends:
//
//	start <pid> <campaign> <lead> <attempt> <unix ns>
//	end <pid> <campaign> <lead> <attempt> <unix ns> <outcome>
//
// The file is opened O_APPEND and each line is one write(2), so a SIGKILL
// leaves only whole lines (a start without its end is a call the kill cut
// off). The crash-loop test reads it to prove no (lead, attempt) was placed
// twice and no lead had two calls at once.
const PlacementLogEnv = "DIALDECK_SIM_PLACEMENT_LOG"

// NewSimCarrier returns a carrier drawing from sim.
func NewSimCarrier(sim *SimPlacer) *SimCarrier {
	c := &SimCarrier{sim: sim, RecordLimit: 2 * time.Second}
	if p := os.Getenv(PlacementLogEnv); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v (no placement log)\n", PlacementLogEnv, err)
		} else {
			c.placements = f
		}
	}
	return c
}

// logPlacement appends one whole line to the placement log, if any.
func (c *SimCarrier) logPlacement(event string, req engine.CallRequest, outcome engine.Outcome) {
	if c.placements == nil {
		return
	}
	b := make([]byte, 0, 96)
	b = append(b, event...)
	for _, n := range []uint64{uint64(os.Getpid()), req.CampaignID, req.LeadID, uint64(req.Attempt), uint64(time.Now().UnixNano())} {
		b = append(b, ' ')
		b = strconv.AppendUint(b, n, 10)
	}
	if outcome != "" {
		b = append(b, ' ')
		b = append(b, outcome...)
	}
	b = append(b, '\n')
	_, _ = c.placements.Write(b)
}

// Dial waits out the drawn ring time (wall clock) and answers or fails.
func (c *SimCarrier) Dial(ctx context.Context, req engine.CallRequest, onState func(string)) (PhoneCall, error) {
	res := c.sim.Simulate(req)
	c.logPlacement("start", req, "")
	onState("ringing")
	rang := time.Now()
	t := time.NewTimer(res.RingDuration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		c.logPlacement("end", req, engine.OutcomeFailed)
		return nil, &DialError{Outcome: engine.OutcomeFailed, Reason: "hung up while ringing: " + cause(ctx), Ring: time.Since(rang)}
	case <-t.C:
	}
	if !res.Answered {
		c.logPlacement("end", req, res.Outcome)
		return nil, &DialError{Outcome: res.Outcome, Reason: res.Reason, Ring: res.RingDuration}
	}
	seed := c.sim.cfg.Seed ^ req.CampaignID<<40 ^ req.LeadID<<8 ^ uint64(req.Attempt)
	callee := &simCallee{voicemail: res.Outcome == engine.OutcomeVoicemail, out: make(chan []byte, 64), lost: &c.lost,
		done: make(chan struct{}), exited: make(chan struct{})}
	if c.placements != nil {
		callee.onEnd = func() { c.logPlacement("end", req, res.Outcome) }
	}
	var script []segment
	if callee.voicemail {
		// Greeting, then the beep, then the box records for a while.
		greet := c.sim.cfg.VoicemailDuration - beepLength
		if greet < 0 {
			greet = 0
		}
		script = []segment{{greet, toneSpeech}, {beepLength, toneBeep}, {c.RecordLimit, toneSilence}}
	} else {
		// A person: a "Hello?" and then speech bursts and silences until
		// the agent hangs up.
		script = []segment{{600 * time.Millisecond, toneSpeech}}
	}
	go callee.run(seed, script, !callee.voicemail)
	return callee, nil
}

const (
	frameDuration = 20 * time.Millisecond
	frameSamples  = 160 // 20 ms at 8 kHz
	beepLength    = 500 * time.Millisecond
)

type tone int

const (
	toneSilence tone = iota
	toneSpeech
	toneBeep
)

type segment struct {
	d    time.Duration
	kind tone
}

// simCallee generates the callee's audio as 20 ms PCMU frames paced by the
// wall clock and swallows what it hears.
type simCallee struct {
	voicemail bool
	out       chan []byte
	done      chan struct{}
	exited    chan struct{}
	once      sync.Once
	heard     atomic.Uint64
	seq       seqGaps
	lost      *atomic.Uint64
	onEnd     func() // once, after the callee's goroutine exited
	endOnce   sync.Once
}

// Lost is the packets callees never heard, from RTP sequence gaps.
func (c *SimCarrier) Lost() uint64 { return c.lost.Load() }

// seqGaps counts packets missing from an RTP stream by its sequence
// numbers (wrapping at 2^16; late or repeated packets are not counted).
type seqGaps struct {
	started bool
	last    uint16
}

func (g *seqGaps) add(seq uint16) (missing uint64) {
	if !g.started {
		g.started, g.last = true, seq
		return 0
	}
	d := seq - g.last
	if d == 0 || d >= 0x8000 {
		return 0
	}
	g.last = seq
	return uint64(d - 1)
}

func (c *simCallee) run(seed uint64, script []segment, endless bool) {
	defer close(c.exited)
	defer close(c.out)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(r.Uint32()),
		Timestamp: r.Uint32(), SSRC: r.Uint32()}, Payload: make([]byte, frameSamples)}
	next := time.Now()
	sample := 0
	for i := 0; ; i++ {
		var seg segment
		switch {
		case i < len(script):
			seg = script[i]
		case endless:
			// Alternate speech bursts and silences of 0.4-2 s.
			seg = segment{time.Duration(400+r.IntN(1600)) * time.Millisecond, tone(i % 2)}
		default:
			return // the voicemail box hangs up
		}
		for sent := time.Duration(0); sent < seg.d; sent += frameDuration {
			fill(pkt.Payload, seg.kind, r, &sample)
			b, err := pkt.Marshal()
			if err != nil {
				return
			}
			// Pace by the wall clock, not a ticker: a late frame is sent at
			// once and the schedule catches up instead of drifting.
			next = next.Add(frameDuration)
			if d := time.Until(next); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-c.done:
					t.Stop()
					return
				}
			}
			select {
			case c.out <- b:
			case <-c.done:
				return
			default: // nobody reading fast enough: a real line would drop it too
			}
			pkt.SequenceNumber++
			pkt.Timestamp += frameSamples
		}
	}
}

func (c *simCallee) ReadRTP(b []byte) (int, error) {
	select {
	case p, ok := <-c.out:
		if !ok {
			return 0, io.EOF
		}
		return copy(b, p), nil
	case <-c.done:
		return 0, io.EOF
	}
}

func (c *simCallee) WriteRTP(b []byte) error {
	select {
	case <-c.done:
		return errors.New("callee hung up")
	default:
	}
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return fmt.Errorf("callee got a bad RTP packet: %w", err)
	}
	c.heard.Add(1)
	// WriteRTP is called by one relay goroutine only, so seq needs no lock.
	if n := c.seq.add(p.SequenceNumber); n > 0 {
		c.lost.Add(n)
	}
	return nil
}

func (c *simCallee) Voicemail() bool { return c.voicemail }

func (c *simCallee) Hangup() {
	c.once.Do(func() { close(c.done) })
	<-c.exited
	if c.onEnd != nil {
		c.endOnce.Do(c.onEnd)
	}
}

// fill writes one frame of µ-law audio: silence, noise-like speech or a
// 1 kHz beep (sample keeps the sine's phase across frames).
func fill(p []byte, kind tone, r *rand.Rand, sample *int) {
	for i := range p {
		var v float64
		switch kind {
		case toneSpeech:
			v = (r.Float64()*2 - 1) * 6000
		case toneBeep:
			v = 8000 * math.Sin(2*math.Pi*1000*float64(*sample)/8000)
		}
		*sample++
		p[i] = linearToMulaw(int16(v))
	}
}

// linearToMulaw is G.711 µ-law encoding of one 16-bit sample.
func linearToMulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	if v > clip {
		v = clip
	}
	v += bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0f
	return ^(sign | byte(exp<<4) | byte(mant))
}
