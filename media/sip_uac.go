package media

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sipDialog is the UAC side of one confirmed (or about to be confirmed)
// dialog, built from the 2xx that created it. dialdeck keeps its own instead
// of sipgo's DialogClientSession: that one needs sipgo's WaitAnswer, which
// stops after 10 responses and loses a 2xx that crosses a CANCEL.
type sipDialog struct {
	c         *SIPCarrier
	callID    string
	toTag     string
	from      *sip.FromHeader
	to        *sip.ToHeader
	tmu       sync.Mutex
	target    sip.Uri  // the callee's Contact (a re-INVITE's Contact updates it); under tmu
	routes    []string // route set: the 2xx's Record-Route reversed, else the outbound proxy
	transport string
	cseq      atomic.Uint32
	inviteSeq uint32
	tx        sip.ClientTransaction // the INVITE's; nil for a stray 2xx

	ackReq atomic.Pointer[sip.Request] // the ACK sent, resent on 2xx retransmissions
}

// newDialog builds the dialog a 2xx creates (RFC 3261 §12.1.2). tx may be
// nil (a 2xx whose transaction is gone).
func (c *SIPCarrier) newDialog(res *sip.Response, tx sip.ClientTransaction) *sipDialog {
	d := &sipDialog{c: c, tx: tx, transport: c.transport}
	if h := res.From(); h != nil {
		d.from = sip.HeaderClone(h).(*sip.FromHeader)
	}
	if h := res.To(); h != nil {
		d.to = sip.HeaderClone(h).(*sip.ToHeader)
		d.toTag, _ = h.Params.Get("tag")
	}
	if h := res.CallID(); h != nil {
		d.callID = h.Value()
	}
	if h := res.CSeq(); h != nil {
		d.inviteSeq = h.SeqNo
		d.cseq.Store(h.SeqNo)
	}
	if v := res.Via(); v != nil && v.Transport != "" {
		d.transport = v.Transport
	}
	d.target = c.trunk
	d.target.User = ""
	if h := res.Contact(); h != nil {
		d.target = *h.Address.Clone()
	}
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		d.routes = append(d.routes, rr[i].Value())
	}
	if len(d.routes) == 0 && c.cfg.OutboundProxy != "" {
		// No Record-Route: the proxy did not ask to stay on the path, but a
		// box that must use an outbound proxy (NAT, firewall) cannot reach
		// the callee's Contact directly either.
		d.routes = []string{"<sip:" + c.cfg.OutboundProxy + ";lr>"}
	}
	return d
}

// setTarget takes the remote target from a re-INVITE's Contact (RFC 3261
// §12.2.2): later BYEs go there.
func (d *sipDialog) setTarget(u sip.Uri) {
	d.tmu.Lock()
	d.target = *u.Clone()
	d.tmu.Unlock()
}

// localTag is our From-tag: in-dialog requests from the callee carry it as
// their To-tag.
func (d *sipDialog) localTag() string {
	if d.from == nil {
		return ""
	}
	tag, _ := d.from.Params.Get("tag")
	return tag
}

// request builds an in-dialog request; ACK reuses the INVITE's CSeq number.
func (d *sipDialog) request(method sip.RequestMethod) *sip.Request {
	d.tmu.Lock()
	target := *d.target.Clone()
	d.tmu.Unlock()
	req := sip.NewRequest(method, target)
	for _, r := range d.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	if d.from != nil {
		req.AppendHeader(sip.HeaderClone(d.from))
	}
	if d.to != nil {
		req.AppendHeader(sip.HeaderClone(d.to))
	}
	callID := sip.CallIDHeader(d.callID)
	req.AppendHeader(&callID)
	seq := d.inviteSeq
	if method != sip.ACK {
		seq = d.cseq.Add(1)
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(sip.HeaderClone(&d.c.contact))
	req.SetTransport(d.transport)
	req.SetBody(nil)
	return req
}

// ack sends the ACK for the 2xx (outside any transaction, RFC 3261 §13.2.2.4).
func (d *sipDialog) ack() error {
	req := d.request(sip.ACK)
	if err := d.c.client.WriteRequest(req); err != nil {
		return fmt.Errorf("sending ACK: %w", err)
	}
	d.ackReq.Store(req.Clone())
	return nil
}

// reAck answers a retransmitted 2xx with the same ACK again.
func (d *sipDialog) reAck() {
	a := d.ackReq.Load()
	if a == nil {
		return
	}
	_ = d.c.client.WriteRequest(a.Clone(), func(*sipgo.Client, *sip.Request) error { return nil })
}

// bye sends BYE and waits for its final response (or ctx).
func (d *sipDialog) bye(ctx context.Context) error {
	req := d.request(sip.BYE)
	tx, err := d.c.client.TransactionRequest(ctx, req)
	if err != nil {
		return fmt.Errorf("sending BYE: %w", err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() {
				return fmt.Errorf("BYE answered %d %s", res.StatusCode, res.Reason)
			}
			return nil
		case <-tx.Done():
			return fmt.Errorf("BYE: %w", tx.Err())
		case <-ctx.Done():
			return fmt.Errorf("BYE: %w", ctx.Err())
		}
	}
}

// hangupNow ACKs and BYEs a 2xx dialdeck does not want (it crossed our
// CANCEL, a fork, or a stray): the callee must not be left in dead air.
func (d *sipDialog) hangupNow(why string) {
	c := d.c
	if err := d.ack(); err != nil {
		c.log.Warn("ACK of an unwanted 200", "why", why, "err", err)
	}
	c.trace("-> ACK (%s)", why)
	c.trace("-> BYE (%s)", why)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.bye(ctx); err != nil {
		c.log.Info("BYE of an unwanted 200", "why", why, "err", err)
		c.trace("-- BYE: %v", err)
		return
	}
	c.trace("<- 200 OK (BYE)")
}

// end terminates the INVITE transaction (it otherwise lingers in
// "Accepted" until Timer M).
func (d *sipDialog) end() {
	if d.tx != nil {
		d.tx.Terminate()
	}
}

// onStrayResponse gets responses no transaction claims. A 2xx to an INVITE
// that arrives after its transaction ended (a late or forked answer) is a
// callee on the line: re-ACK it if it is a live call's, else ACK and BYE it
// if it answers an INVITE dialdeck sent recently (Call-ID and From-tag),
// at most maxStrayHangups at once.
func (c *SIPCarrier) onStrayResponse(res *sip.Response) {
	cs := res.CSeq()
	if !res.IsSuccess() || cs == nil || cs.MethodName != sip.INVITE || res.CallID() == nil {
		return
	}
	tag := ""
	if h := res.To(); h != nil {
		tag, _ = h.Params.Get("tag")
	}
	c.mu.Lock()
	var live *sipDialog
	if call := c.calls[res.CallID().Value()]; call != nil {
		live = call.dlg
	}
	c.mu.Unlock()
	if live != nil && live.toTag == tag {
		live.reAck()
		return
	}
	fromTag := ""
	if h := res.From(); h != nil {
		fromTag, _ = h.Params.Get("tag")
	}
	if !c.sent.ours(res.CallID().Value(), fromTag, time.Now()) {
		// Not an answer to an INVITE of ours: ACK+BYE would go wherever its
		// Contact points.
		c.log.Debug("stray 200 to an INVITE we did not send: ignored", "source", res.Source())
		return
	}
	if c.strays.Add(1) > maxStrayHangups {
		c.strays.Add(-1)
		c.log.Warn("stray 200 to an INVITE: too many hang-ups running, ignored")
		return
	}
	c.log.Info("stray 200 to an INVITE: hanging it up", "code", res.StatusCode)
	d := c.newDialog(res, nil)
	if !c.goTracked(func() {
		defer c.strays.Add(-1)
		d.hangupNow("stray 200")
	}) {
		c.strays.Add(-1)
	}
}

// goTracked runs f in a goroutine Close waits for; false once closed.
func (c *SIPCarrier) goTracked(f func()) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.dialWG.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.dialWG.Done()
		f()
	}()
	return true
}
