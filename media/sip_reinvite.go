package media

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// onInvite answers a re-INVITE inside a live call; dialdeck takes no new
// calls. With an SDP offer the call's RTP follows it (new address resets
// the latch, codec switch) and the answer names the one codec chosen plus
// telephone-event if offered. Without SDP our 200 carries a fresh offer and
// the answer comes in the ACK (onAck).
func (c *SIPCarrier) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	toTag := ""
	if h := req.To(); h != nil {
		toTag, _ = h.Params.Get("tag")
	}
	if toTag == "" {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 603, "Decline", nil))
		return
	}
	// A re-INVITE must belong to a dialog of ours: Call-ID and our
	// From-tag as its To-tag (a guessed Call-ID alone must not move media).
	call, dlg := c.dialogOf(req)
	if call != nil && dlg == nil {
		// Answered but not yet set up here (just after our ACK): ask the
		// callee to try again (RFC 3261 §14.2).
		res := sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "1"))
		_ = tx.Respond(res)
		return
	}
	if call == nil || dlg.localTag() != toTag {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if h := req.Contact(); h != nil {
		dlg.setTarget(h.Address)
	}
	c.trace("<- re-INVITE")
	var body []byte
	if len(req.Body()) > 0 {
		offer, err := parseSDPAnswer(req.Body())
		if err != nil {
			c.log.Info("re-INVITE SDP refused", "err", err)
			c.trace("-> 488 Not Acceptable Here (%v)", err)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		call.applySDP(offer)
		dir := answerDir(offer.Dir)
		body = call.localSDP([]uint8{offer.PT}, offer.DTMF, dir)
		c.trace("-> 200 OK (re-INVITE: %s at %s, %s)", codecName(offer.PT), offer.Addr, dir)
	} else {
		body = call.localSDP([]uint8{ptPCMU, ptPCMA}, ptTelephoneEvent, dirSendRecv)
		c.trace("-> 200 OK (re-INVITE without SDP: our offer)")
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.HeaderClone(&c.contact))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	_ = tx.Respond(res)
}

// onAck takes the SDP answer an ACK carries (after a re-INVITE without SDP).
func (c *SIPCarrier) onAck(req *sip.Request, _ sip.ServerTransaction) {
	call := c.callOf(req)
	if call == nil || len(req.Body()) == 0 {
		return
	}
	ans, err := parseSDPAnswer(req.Body())
	if err != nil {
		c.log.Info("SDP in ACK unusable", "err", err)
		c.trace("-- SDP in ACK unusable: %v", err)
		return
	}
	call.applySDP(ans)
	c.trace("<- ACK (SDP: %s at %s)", codecName(ans.PT), ans.Addr)
}

// dialogOf is the call a request's Call-ID names, with its dialog (nil
// until the call is answered and registered).
func (c *SIPCarrier) dialogOf(req *sip.Request) (*sipCall, *sipDialog) {
	h := req.CallID()
	if h == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	call := c.calls[h.Value()]
	if call == nil {
		return nil, nil
	}
	return call, call.dlg
}

func (c *SIPCarrier) callOf(req *sip.Request) *sipCall {
	h := req.CallID()
	if h == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[h.Value()]
}

// applySDP moves the call's media and takes its direction (a hold pauses
// the no-media timer); a hold with c=0.0.0.0 keeps the old destination
// rather than send to an unspecified address.
func (s *sipCall) applySDP(a sdpAnswer) {
	if a.Addr.IP.IsUnspecified() || a.Addr.Port == 0 {
		s.rtp.setDir(a.Dir)
		return
	}
	s.rtp.setRemote(a)
}

// localSDP is our SDP with the given formats; the o= version goes up only
// when the media part changes (RFC 3264 §8).
func (s *sipCall) localSDP(audio []uint8, dtmf int, dir string) []byte {
	s.sdpMu.Lock()
	defer s.sdpMu.Unlock()
	b := sdpBody(s.c.advertIP, s.rtp.port(), s.sessID, s.sdpVer, audio, dtmf, dir)
	if m := sdpMedia(b); m != s.lastSDP {
		s.sdpVer++
		s.lastSDP = m
		b = sdpBody(s.c.advertIP, s.rtp.port(), s.sessID, s.sdpVer, audio, dtmf, dir)
	}
	return b
}

// sdpMedia is an SDP without its o= line.
func sdpMedia(b []byte) string {
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(l, "o=") {
			out.WriteString(l)
		}
	}
	return out.String()
}

func codecName(pt uint8) string {
	if pt == ptPCMA {
		return "PCMA"
	}
	return "PCMU"
}
