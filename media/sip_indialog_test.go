package media

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestSIPReInviteDialogChecks(t *testing.T) {
	// A re-INVITE with the call's Call-ID but another To-tag gets 481 (and
	// moves nothing); one of the dialog with a new Contact moves the remote
	// target: our BYE goes to it (sipp checks both).
	sp := startSipp(t, "reinvite_dialog.xml", false)
	c := newTestCarrier(t, sp, nil)
	defer c.Close()
	req := testRequest(1)
	req.Phone, req.CallerID = sipTestPhone, sipTestCallerID
	call, err := c.Dial(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the two re-INVITEs (sipp paces them 300 + 200 ms)
	call.Hangup()
	if code := sp.wait(10 * time.Second); code != 0 {
		t.Errorf("sipp exit %d (481 to the foreign To-tag, BYE to the re-INVITE's Contact):\n%s", code, sp.tail())
	}
}

func TestSIPDialogViaOutboundProxy(t *testing.T) {
	// With an outbound proxy and no Record-Route in the 200, in-dialog
	// requests (ACK, BYE) still go through the proxy: sipgo sends to the
	// top Route.
	c := &SIPCarrier{cfg: SIPTrunkConfig{OutboundProxy: "127.0.0.1:5999"}, trunk: sip.Uri{Host: "127.0.0.1", Port: 5070}}
	res := sip.NewResponse(200, "OK")
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "callee", Host: "127.0.0.1", Port: 6000}})
	d := c.newDialog(res, nil)
	for _, m := range []sip.RequestMethod{sip.ACK, sip.BYE} {
		r := d.request(m)
		if got := r.Destination(); got != "127.0.0.1:5999" {
			t.Errorf("%s goes to %s, want the outbound proxy 127.0.0.1:5999", m, got)
		}
		if r.Recipient.User != "callee" || r.Recipient.Port != 6000 {
			t.Errorf("%s Request-URI %s, want the callee's Contact", m, r.Recipient.String())
		}
	}
	// With a Record-Route the route set is the proxy's, not ours.
	res.AppendHeader(sip.NewHeader("Record-Route", "<sip:127.0.0.1:5888;lr>"))
	if got := c.newDialog(res, nil).request(sip.BYE).Destination(); got != "127.0.0.1:5888" {
		t.Errorf("BYE with a Record-Route goes to %s, want 127.0.0.1:5888", got)
	}
}
