package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/emiago/sipgo/sip"
)

// Causes of ending the wait for an answer.
var (
	errRingTimeout = errors.New("ring timeout")
	errDialCancel  = errors.New("dial cancelled")
)

// progress ranks SIP call states so a late or reordered provisional (a 180
// after a 183, or after the 200) never moves the UI backwards.
var progressRank = map[string]int{"trying": 1, "ringing": 2, "early media": 3, "answered": 4}

// DialProgress is Dial with the SIP detail of each step ("180 Ringing",
// the final code) for the UI; the bridge prefers it when present.
func (c *SIPCarrier) DialProgress(ctx context.Context, req engine.CallRequest, onState func(state, detail string)) (PhoneCall, error) {
	// Nothing rings before the INVITE leaves.
	failed := func(reason string) *DialError {
		return &DialError{Outcome: engine.OutcomeFailed, Reason: reason}
	}
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, failed("hung up before dialing: " + cause(ctx))
	}
	done := false
	defer func() {
		if !done {
			release()
		}
	}()
	media, err := c.ports.open()
	if err != nil {
		return nil, failed("sip trunk " + c.cfg.ID + ": " + err.Error())
	}
	rtp := newRTPStream(media)
	defer func() {
		if !done {
			rtp.close()
		}
	}()
	log := c.log.With("phone", engine.MaskPhone(req.Phone), "campaign", req.CampaignID, "lead", req.LeadID, "attempt", req.Attempt)

	sessID := rand.Uint64() >> 2
	offer := sdpOffer(c.advertIP, rtp.port(), sessID)
	inv := c.newInvite(req, offer)
	callID := inv.CallID().Value()
	if err := c.prepareContact(inv); err != nil {
		log.Warn("INVITE not sent", "err", err)
		return nil, failed(c.transportReason(err))
	}
	// Known by Call-ID from now on: a BYE right after our ACK (or a
	// re-INVITE) must find the call, not get 481.
	call := &sipCall{c: c, rtp: rtp, callID: callID, sessID: sessID, sdpVer: sessID, lastSDP: sdpMedia(offer),
		noMedia: c.cfg.NoMediaTimeout, release: release, bye: make(chan struct{}), local: make(chan struct{})}
	c.addPending(call)
	defer func() {
		if !done {
			c.dropPending(call)
		}
	}()
	c.trace("-> INVITE %s", inv.Recipient.String())

	var rank int
	state := func(s, detail string) {
		if r := progressRank[s]; r > rank {
			rank = r
			onState(s, detail)
		}
	}
	state("trying", "INVITE sent")

	var early *sdpAnswer
	// The ring counts from the first provisional past 100 Trying (180,
	// 183, ...): a trunk that never said anything did not ring.
	var rang time.Time
	onResponse := func(res *sip.Response) {
		detail := fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
		if res.IsProvisional() && res.StatusCode != 100 && rang.IsZero() {
			rang = time.Now()
		}
		switch {
		case res.StatusCode == 100:
			state("trying", detail)
		case res.StatusCode == 183 && len(res.Body()) > 0:
			a, err := parseSDPAnswer(res.Body())
			if err != nil {
				log.Debug("early media SDP unusable", "err", err)
				state("ringing", detail)
				break
			}
			early = &a
			rtp.setRemote(a)
			rtp.startEarly()
			state("early media", detail)
		case res.IsProvisional():
			state("ringing", detail)
		}
	}
	ir := c.runInvite(ctx, inv, onResponse)
	rtp.stopEarly()
	var ring time.Duration
	if !rang.IsZero() {
		ring = time.Since(rang)
	}
	log.Debug("INVITE done", "call_id", callID)

	if ir.dlg == nil {
		d := c.inviteFailure(ctx, ir, ring)
		if ir.err != nil && ir.final == nil && ir.abandon == nil {
			log.Warn("call failed", "reason", d.Reason)
		} else {
			log.Info("call not answered", "code", d.SIPCode, "reason", d.Reason)
		}
		return nil, d
	}
	dlg := ir.dlg
	c.trace("-> ACK")
	res := ir.final
	if early != nil {
		c.trace("-- early media: %d RTP packets before the answer", rtp.early.Load())
	}
	ans, perr := parseSDPAnswer(res.Body())
	if perr != nil && early != nil && len(res.Body()) == 0 {
		ans, perr = *early, nil // the 183's SDP stands
	}
	call.code = res.StatusCode
	if !c.register(call, dlg) {
		call.sendBye()
		dlg.end()
		return nil, failed("sip trunk " + c.cfg.ID + " closed")
	}
	done = true // the call owns the slot and the socket now
	if perr != nil {
		call.Hangup()
		return nil, &DialError{Outcome: engine.OutcomeFailed, Reason: "answered with unusable SDP: " + perr.Error(), Ring: ring, SIPCode: res.StatusCode}
	}
	rtp.setRemote(ans)
	codec := "PCMU"
	if ans.PT == ptPCMA {
		codec = "PCMA"
	}
	state("answered", fmt.Sprintf("%d %s", res.StatusCode, res.Reason))
	log.Info("call answered", "ring", ring.Round(time.Millisecond), "codec", codec, "rtp_to", ans.Addr.String())
	return call, nil
}

// newInvite builds the INVITE: Request-URI user is the callee's number, From
// user the caller ID; no session timers (no "timer" in Supported).
func (c *SIPCarrier) newInvite(req engine.CallRequest, sdp []byte) *sip.Request {
	ruri := c.trunk
	ruri.User = req.Phone
	inv := sip.NewRequest(sip.INVITE, ruri)
	inv.SetTransport(c.transport)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: req.CallerID, Host: c.fromHost}, Params: sip.NewParams()}
	if req.CallerID == "" {
		from.Address.User = "anonymous"
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: req.Phone, Host: c.trunk.Host}})
	if c.cfg.OutboundProxy != "" {
		inv.AppendHeader(sip.NewHeader("Route", "<sip:"+c.cfg.OutboundProxy+";lr>"))
	}
	inv.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
	inv.AppendHeader(sip.NewHeader("User-Agent", "dialdeck"))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.AppendHeader(sip.HeaderClone(&c.contact))
	callID := sip.CallIDHeader(fmt.Sprintf("%016x%016x@dialdeck", rand.Uint64(), rand.Uint64()))
	inv.AppendHeader(&callID)
	inv.SetBody(sdp)
	return inv
}

// responseError maps a final non-2xx response to how the lead ends.
// hadCredentials: the trunk has a password; sentCredentials: the INVITE
// that got res carried them (it answered a challenge).
func responseError(res *sip.Response, hadCredentials, sentCredentials bool) *DialError {
	code := res.StatusCode
	status := fmt.Sprintf("%d %s", code, strings.TrimSpace(res.Reason))
	d := &DialError{Outcome: engine.OutcomeFailed, Reason: status, SIPCode: code}
	switch code {
	case 486, 600:
		d.Outcome, d.Reason = engine.OutcomeBusy, "callee busy ("+status+")"
	case 480, 408, 487:
		d.Outcome, d.Reason = engine.OutcomeNoAnswer, "no answer ("+status+")"
	case 603:
		d.Outcome, d.Reason = engine.OutcomeNoAnswer, "declined ("+status+")"
	case 403:
		if sentCredentials {
			// Trunks commonly refuse a wrong password with 403 rather
			// than a new challenge.
			d.Reason = status + " (check the trunk's username and password)"
		}
	case 404, 484, 410, 604:
		d.Reason, d.Permanent = "number not reachable ("+status+")", true
	case 401, 407:
		if hadCredentials {
			d.Reason = "SIP authentication failed (" + status + "): check the trunk's username and password"
		} else {
			d.Reason = "the SIP trunk wants authentication (" + status + ") but no username/password is configured"
		}
	}
	return d
}

// sipCall is an answered SIP phone leg.
type sipCall struct {
	c       *SIPCarrier
	dlg     *sipDialog // set (under c.mu) once answered
	active  bool       // answered and registered: Close hangs it up
	rtp     *rtpStream
	callID  string
	sessID  uint64 // our SDP's o= session id
	sdpMu   sync.Mutex
	sdpVer  uint64 // our SDP's o= version, bumped when what we send changes
	lastSDP string // the media part of the last SDP we sent
	noMedia time.Duration
	// mediaLost: no RTP for noMedia; the callee is likely gone, so
	// Hangup does not wait for the BYE's response.
	mediaLost atomic.Bool
	release   func()
	code      int

	bye     chan struct{} // the callee hung up
	byeOnce sync.Once
	local   chan struct{} // Hangup was called
	once    sync.Once
}

// SIPCode is the final response that answered the call (200).
func (s *sipCall) SIPCode() int { return s.code }

// EarlyPackets is the RTP packets received as early media before the answer.
func (s *sipCall) EarlyPackets() uint64 { return s.rtp.early.Load() }

func (s *sipCall) ReadRTP(b []byte) (int, error) {
	n, err := s.rtp.read(b, s.noMedia, s.stopped)
	if err == nil {
		return n, nil
	}
	select {
	case <-s.bye:
		return 0, io.EOF
	case <-s.local:
		return 0, io.EOF
	default:
	}
	if errors.Is(err, errRTPTimeout) {
		s.mediaLost.Store(true)
		s.c.trace("-- no RTP from the callee for %v", s.noMedia)
		if n, from := s.rtp.droppedSummary(); n > 0 {
			// Audio that came from another source than the latched one:
			// the usual cause of a "no media" on a live call.
			s.c.log.Warn("SIP call: no media from the latched RTP source; packets from other sources were dropped",
				"call_id", s.callID, "dropped", n, "from", from)
		}
		return 0, &PhoneLegError{Reason: fmt.Sprintf("no media from the callee for %v", s.noMedia)}
	}
	return 0, fmt.Errorf("RTP socket: %w", err)
}

// stopped tells whether either side hung up.
func (s *sipCall) stopped() bool {
	select {
	case <-s.bye:
		return true
	case <-s.local:
		return true
	default:
		return false
	}
}

func (s *sipCall) WriteRTP(b []byte) error {
	select {
	case <-s.bye:
		return errors.New("callee hung up")
	case <-s.local:
		return errors.New("call hung up")
	default:
	}
	return s.rtp.write(b)
}

func (s *sipCall) Voicemail() bool { return false }

// remoteHangup is the callee's BYE: ReadRTP returns io.EOF from now on.
func (s *sipCall) remoteHangup() {
	s.byeOnce.Do(func() {
		close(s.bye)
		_ = s.rtp.conn.SetReadDeadline(time.Now())
	})
}

func (s *sipCall) sendBye() {
	s.c.trace("-> BYE")
	s.byeTx()
}

// byeTx runs the BYE transaction (up to 5 s without a response).
func (s *sipCall) byeTx() {
	c := s.c
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.dlg.bye(ctx); err != nil {
		c.log.Debug("BYE", "err", err)
		c.trace("-- BYE: %v", err)
		return
	}
	c.trace("<- 200 OK (BYE)")
}

// byeWait is how long Hangup waits for the BYE's response before it
// returns and lets the transaction finish in the background: a callee that
// vanished never answers, and the call's end must not wait 5 s for it.
const byeWait = time.Second

// Hangup sends BYE unless the callee already hung up, then frees the RTP
// port and the trunk's call slot once the BYE is answered or given up. It
// returns after at most byeWait (at once when the callee's media was lost:
// it is most likely gone); Close still waits for the BYE.
func (s *sipCall) Hangup() {
	s.once.Do(func() {
		close(s.local)
		_ = s.rtp.conn.SetReadDeadline(time.Now())
		finish := func() {
			s.rtp.close()
			s.dlg.end()
			s.c.unregister(s)
			s.release()
		}
		select {
		case <-s.bye:
			finish()
			return
		default:
		}
		s.c.trace("-> BYE")
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.byeTx()
			finish()
		}()
		wait := byeWait
		if s.mediaLost.Load() {
			wait = 0
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
	})
}
