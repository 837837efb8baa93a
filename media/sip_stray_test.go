package media

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// stray200 sends a 200 to an INVITE with this Call-ID and From-tag to the
// carrier's SIP port, naming victim in its Contact, and returns the first
// lines of what victim receives within wait.
func stray200(t *testing.T, c *SIPCarrier, callID, fromTag string, victim *net.UDPConn, wait time.Duration) []string {
	t.Helper()
	sipPort := c.contact.Address.Port
	vport := victim.LocalAddr().(*net.UDPAddr).Port
	msg := fmt.Sprintf("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKstray%s\r\nFrom: <sip:a@127.0.0.1>;tag=%s\r\n"+
		"To: <sip:b@127.0.0.1>;tag=t1\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:v@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n",
		sipPort, callID, fromTag, callID, vport)
	if _, err := victim.WriteToUDP([]byte(msg), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sipPort}); err != nil {
		t.Fatal(err)
	}
	var got []string
	buf := make([]byte, 4000)
	deadline := time.Now().Add(wait)
	for {
		_ = victim.SetReadDeadline(deadline)
		n, _, err := victim.ReadFromUDP(buf)
		if err != nil {
			return got
		}
		line := strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
		got = append(got, line)
		if strings.HasPrefix(line, "BYE ") {
			// Answer it so the carrier's BYE transaction ends.
			req := string(buf[:n])
			var hdrs []string
			for _, h := range strings.Split(req, "\r\n")[1:] {
				for _, p := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
					if strings.HasPrefix(h, p) {
						hdrs = append(hdrs, h)
					}
				}
			}
			ok := "SIP/2.0 200 OK\r\n" + strings.Join(hdrs, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
			_, _ = victim.WriteToUDP([]byte(ok), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sipPort})
		}
	}
}

func TestSIPStray200NotReflected(t *testing.T) {
	// A 200 to an INVITE dialdeck never sent (unknown Call-ID, or a known
	// Call-ID with another From-tag) gets no ACK and no BYE: otherwise
	// anyone could aim dialdeck's SIP traffic at a third party. A 200 to an
	// INVITE of ours (Call-ID and From-tag) is still ACKed and hung up.
	trunk := udpLoopback(t) // answers nothing
	c, err := NewSIPCarrier(SIPTrunkConfig{ID: "t", Trunk: trunk.LocalAddr().String(), BindAddr: "127.0.0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	victim := udpLoopback(t)
	if got := stray200(t, c, "spoofed-1", "f1", victim, time.Second); len(got) != 0 {
		t.Errorf("a 200 with an unknown Call-ID made dialdeck send %q", got)
	}
	c.sent.add("ours-1", "f1", time.Now(), time.Minute)
	if got := stray200(t, c, "ours-1", "other", victim, time.Second); len(got) != 0 {
		t.Errorf("a 200 with our Call-ID but another From-tag made dialdeck send %q", got)
	}
	got := stray200(t, c, "ours-1", "f1", victim, 2*time.Second)
	if len(got) != 2 || !strings.HasPrefix(got[0], "ACK ") || !strings.HasPrefix(got[1], "BYE ") {
		t.Errorf("a stray 200 to our INVITE got %q, want ACK then BYE", got)
	}
	// An entry past its window no longer counts.
	c.sent.add("old-1", "f1", time.Now().Add(-2*time.Minute), time.Minute)
	if c.sent.ours("old-1", "f1", time.Now()) {
		t.Error("an INVITE past its window still counts as ours")
	}
}
