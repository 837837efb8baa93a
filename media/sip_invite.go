package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// closeGrace is how long Close waits for a first response to an INVITE
// that has none yet, so it can CANCEL it (RFC 3261 §9.1) rather than drop it.
const closeGrace = 2 * time.Second

// cancelWait is how long a dial given up after a provisional response waits
// for the INVITE's final response (487, or a 200 crossing the CANCEL) before
// it returns; the INVITE is still watched in the background for 64*T1.
const cancelWait = 500 * time.Millisecond

// errCarrierClosed: the carrier closed while the call was being set up.
var errCarrierClosed = errors.New("sip trunk closed")

// notSentError: the INVITE could not leave (no connection to the trunk).
type notSentError struct{ err error }

func (e notSentError) Error() string { return e.err.Error() }
func (e notSentError) Unwrap() error { return e.err }

// inviteResult is how an outbound INVITE ended.
type inviteResult struct {
	final   *sip.Response // the final response, nil if none came
	dlg     *sipDialog    // answered: the 2xx was ACKed and is ours
	crossed bool          // a 2xx came after we gave up: ACKed and hung up
	abandon error         // errRingTimeout, errDialCancel, errCarrierClosed; nil if we waited to the end
	replied bool          // the trunk sent any response
	authed  bool          // we answered a digest challenge with credentials
	err     error         // transaction error (timeout, transport) when no final came
}

// runInvite sends the INVITE and waits for it to end. Unlike sipgo's
// WaitAnswer it reads every response of the transaction (no cap: trunks
// repeat 180/183), retries a digest challenge, sends CANCEL only after a
// provisional response (RFC 3261 §9.1) and keeps reading after it until a
// final response or 64*T1, so a 2xx that crosses the CANCEL is ACKed and
// hung up instead of leaving the callee in dead air.
//
// onResponse sees each response (in the loop's goroutine) until the result
// is handed back. Giving up before any response hands back at once; the
// loop then goes on in the background until a provisional (then CANCEL), a
// final response, Timer B, or Close.
func (c *SIPCarrier) runInvite(ctx context.Context, inv *sip.Request, onResponse func(*sip.Response)) inviteResult {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return inviteResult{err: errCarrierClosed}
	}
	c.dialWG.Add(1)
	c.mu.Unlock()
	tx, err := c.client.TransactionRequest(context.Background(), inv)
	if err != nil {
		c.dialWG.Done()
		return inviteResult{err: notSentError{err}}
	}
	c.rememberInvite(inv)
	out := make(chan inviteResult, 1)
	go func() {
		defer c.dialWG.Done()
		c.inviteLoop(ctx, inv, tx, onResponse, out)
	}()
	return <-out
}

func (c *SIPCarrier) inviteLoop(ctx context.Context, inv *sip.Request, tx sip.ClientTransaction, onResponse func(*sip.Response), out chan<- inviteResult) {
	var r inviteResult
	published := false
	publish := func() {
		if !published {
			published = true
			out <- r
		}
	}
	defer publish()
	terminate := true
	defer func() {
		if terminate {
			tx.Terminate()
		}
	}()

	ring := time.NewTimer(c.cfg.RingTimeout)
	defer ring.Stop()
	var giveUp <-chan time.Time // 64*T1 after the CANCEL
	var giveUpT *time.Timer
	var grace <-chan time.Time // Close: how long a silent INVITE may still get a provisional
	var graceT *time.Timer
	var cancelWaitC <-chan time.Time // when the caller gets the result after a CANCEL
	var cancelWaitT *time.Timer
	defer func() {
		if giveUpT != nil {
			giveUpT.Stop()
		}
		if cancelWaitT != nil {
			cancelWaitT.Stop()
		}
		if graceT != nil {
			graceT.Stop()
		}
	}()
	ctxDone, closing := ctx.Done(), c.closing
	sawProvisional, cancelSent := false, false
	authTries := 0

	cancel := func() {
		if cancelSent {
			return
		}
		cancelSent = true
		switch r.abandon {
		case errRingTimeout:
			c.trace("-> CANCEL (no final response within %v)", c.cfg.RingTimeout)
		case errCarrierClosed:
			c.trace("-> CANCEL (sip trunk closing)")
		default:
			c.trace("-> CANCEL (call abandoned)")
		}
		c.sendCancel(inv)
		giveUpT = time.NewTimer(64 * sip.T1)
		giveUp = giveUpT.C
		// The caller gets the result once the 487 (or a crossing 200) is
		// in, or cancelWait after the CANCEL: a trunk that ignores it must
		// not hold the dial for 64*T1. The loop goes on in the background.
		cancelWaitT = time.NewTimer(cancelWait)
		cancelWaitC = cancelWaitT.C
	}
	abandon := func(why error) {
		if r.abandon != nil {
			return
		}
		r.abandon = why
		ring.Stop()
		if sawProvisional {
			cancel()
			return
		}
		// A CANCEL must wait for a provisional response: answer the
		// caller now and keep watching the transaction.
		publish()
	}

	for {
		select {
		case res := <-tx.Responses():
			r.replied = true
			if published {
				c.trace("<- %d %s (after giving up)", res.StatusCode, res.Reason)
			} else {
				c.trace("<- %d %s", res.StatusCode, res.Reason)
				if onResponse != nil {
					onResponse(res)
				}
			}
			switch {
			case res.IsProvisional():
				sawProvisional = true
				if r.abandon != nil {
					cancel()
				}
			case res.IsSuccess():
				r.final = res
				d := c.newDialog(res, tx)
				// Later 2xx on this transaction: retransmissions (ACK again)
				// or forks with another To-tag (ACK and BYE them).
				tx.OnRetransmission(func(rr *sip.Response) {
					if !rr.IsSuccess() {
						return
					}
					tag := ""
					if h := rr.To(); h != nil {
						tag, _ = h.Params.Get("tag")
					}
					if tag == d.toTag {
						d.reAck()
						return
					}
					fork := c.newDialog(rr, nil)
					c.goTracked(func() { fork.hangupNow("forked 200") })
				})
				if r.abandon != nil {
					r.crossed = true
					c.trace("<- %d %s (after CANCEL)", res.StatusCode, res.Reason)
					d.hangupNow("200 crossed the CANCEL")
					return
				}
				if err := d.ack(); err != nil {
					// The callee is on the line without our ACK: try BYE.
					r.err = err
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					_ = d.bye(ctx)
					cancel()
					return
				}
				r.dlg = d
				terminate = false // the call ends it; it absorbs 2xx retransmissions meanwhile
				return
			case (res.StatusCode == 401 || res.StatusCode == 407) && c.cfg.Password != "" &&
				authTries < 2 && r.abandon == nil && hasChallenge(res):
				authTries++
				r.authed = true
				tx.Terminate()
				c.trace("-> INVITE (with credentials)")
				ntx, err := c.client.TransactionDigestAuth(context.Background(), inv, res,
					sipgo.DigestAuth{Username: c.cfg.Username, Password: c.cfg.Password})
				if err != nil {
					r.err = err
					return
				}
				tx, sawProvisional = ntx, false
			default:
				r.final = res
				return
			}
		case <-tx.Done():
			r.err = tx.Err()
			return
		case <-ring.C:
			abandon(errRingTimeout)
		case <-ctxDone:
			ctxDone = nil
			abandon(errDialCancel)
		case <-closing:
			closing = nil
			abandon(errCarrierClosed)
			if !sawProvisional || cancelSent {
				// Give the trunk a moment to answer so the call can be
				// CANCELled; a trunk that said nothing by then is dropped.
				graceT = time.NewTimer(closeGrace)
				grace = graceT.C
			}
		case <-cancelWaitC:
			cancelWaitC = nil
			publish()
		case <-grace:
			return
		case <-giveUp:
			// RFC 3261 §9.1: no final response 64*T1 after CANCEL.
			return
		}
	}
}

func hasChallenge(res *sip.Response) bool {
	if res.StatusCode == 407 {
		return res.GetHeader("Proxy-Authenticate") != nil
	}
	return res.GetHeader("WWW-Authenticate") != nil
}

// sendCancel cancels the pending INVITE (RFC 3261 §9.1: same Request-URI,
// Call-ID, From, To, CSeq number and top Via). Its own response does not
// matter: the INVITE transaction's final response decides, so it is only
// traced.
func (c *SIPCarrier) sendCancel(inv *sip.Request) {
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(h))
	}
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.SetTransport(inv.Transport())
	req.SetBody(nil)
	req.Laddr = inv.Laddr
	tx, err := c.client.TransactionRequest(context.Background(), req)
	if err != nil {
		c.log.Warn("CANCEL not sent", "err", err)
		c.trace("-- CANCEL not sent: %v", err)
		return
	}
	c.dialWG.Add(1) // called from a dial goroutine: the count is above zero
	go func() {
		defer c.dialWG.Done()
		defer tx.Terminate()
		t := time.NewTimer(64 * sip.T1)
		defer t.Stop()
		for {
			select {
			case res := <-tx.Responses():
				if res.IsProvisional() {
					continue
				}
				c.trace("<- %d %s (CANCEL)", res.StatusCode, res.Reason)
				return
			case <-tx.Done():
				return
			case <-t.C:
				return
			case <-c.closing:
				// Only traced: Close need not wait Timer F for it.
				return
			}
		}
	}()
}

// prepareContact puts our port in the INVITE's Contact. Over TLS dialdeck
// does not listen, so the port is the outbound connection's, known only once
// it is open (sipgo's dialog API did the same from the Via).
func (c *SIPCarrier) prepareContact(inv *sip.Request) error {
	ct := inv.Contact()
	if ct == nil || ct.Address.Port != 0 {
		return nil
	}
	if err := sipgo.ClientRequestBuild(c.client, inv); err != nil {
		return err
	}
	if _, err := c.ua.TransportLayer().ClientRequestConnection(context.Background(), inv); err != nil {
		return err
	}
	if v := inv.Via(); v != nil {
		ct.Address.Port = v.Port
	}
	return nil
}

// inviteFailure maps an INVITE that did not end in a call to the lead's
// outcome.
func (c *SIPCarrier) inviteFailure(ctx context.Context, ir inviteResult, ring time.Duration) *DialError {
	d := &DialError{Outcome: engine.OutcomeFailed, Ring: ring}
	if ir.final != nil {
		d.SIPCode = ir.final.StatusCode
	}
	switch {
	case ir.crossed:
		// The callee answered as we cancelled; we ACKed and hung up at once.
		// SIP code stays 200 (what the trunk really sent; docs/sip.md).
		switch ir.abandon {
		case errRingTimeout:
			d.Outcome = engine.OutcomeNoAnswer
			d.Reason = fmt.Sprintf("no answer within %v (a 200 crossed our CANCEL; hung up at once)", c.cfg.RingTimeout)
		case errDialCancel:
			d.Reason = "hung up while ringing: " + cause(ctx) + " (a 200 crossed our CANCEL; hung up at once)"
		default:
			d.Reason = "sip trunk " + c.cfg.ID + " closed while ringing (a 200 crossed our CANCEL; hung up at once)"
		}
	case ir.abandon == errRingTimeout:
		if !ir.replied {
			d.Reason = fmt.Sprintf("no response from the SIP trunk %s within %v", c.cfg.Trunk, c.cfg.RingTimeout)
		} else {
			d.Outcome, d.Reason = engine.OutcomeNoAnswer, fmt.Sprintf("no answer within %v", c.cfg.RingTimeout)
		}
	case ir.abandon == errDialCancel:
		d.Reason = "hung up while ringing: " + cause(ctx)
	case ir.abandon != nil:
		d.Reason = "sip trunk " + c.cfg.ID + " closed while ringing"
	case ir.final != nil:
		d = responseError(ir.final, c.cfg.Password != "", ir.authed)
		d.Ring = ring
	case errors.Is(ir.err, sip.ErrTransactionTimeout):
		d.Reason = fmt.Sprintf("no response from the SIP trunk %s (timeout)", c.cfg.Trunk)
	case errors.As(ir.err, new(notSentError)), errors.Is(ir.err, sip.ErrTransactionTransport):
		d.Reason = c.transportReason(ir.err)
	case errors.Is(ir.err, errCarrierClosed):
		d.Reason = "sip trunk " + c.cfg.ID + " closed"
	case ir.err != nil:
		d.Reason = "SIP error: " + ir.err.Error()
	default:
		d.Reason = "SIP error: the INVITE ended without a final response"
	}
	return d
}

// transportReason words a failure to reach the trunk. A failed connect
// (tcp, tls) is named by its target and cause, without Go's
// "dial tcp <nil>->host:port: connect:" prefix.
func (c *SIPCarrier) transportReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		target := c.trunk.HostPort()
		if c.cfg.OutboundProxy != "" {
			target = c.cfg.OutboundProxy
		}
		why := op.Err.Error()
		var errno syscall.Errno
		if errors.As(op.Err, &errno) {
			why = errno.Error()
		}
		return fmt.Sprintf("SIP transport error: cannot connect to %s over %s: %s", target, c.cfg.Transport, why)
	}
	return "SIP transport error: " + err.Error()
}
