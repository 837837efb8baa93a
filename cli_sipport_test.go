package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// heldTrunkWorkdir is the e2e config with pn_xxx on a trunk whose fixed SIP
// port is held by another socket, as when a second dialdeck runs.
func heldTrunkWorkdir(t *testing.T) (*workdir, string) {
	t.Helper()
	held, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })
	addr := held.LocalAddr().String()
	rtp := freeUDPRun(t, 43000, 47000, 2)
	trunk := fmt.Sprintf(`[[carriers.sip]]
id = "uas"
trunk = "127.0.0.1:5060"
bind_address = %q
rtp_port_min = %d
rtp_port_max = %d

[webhooks]`, addr, rtp, rtp+200)
	return newWorkdir(t, `carrier = "sim"`, `carrier = "sip:uas"`, "[webhooks]", trunk), addr
}

// TestAdminCommandsOpenNoSIPSocket: commands that do not place calls work
// while the trunk's SIP port is taken (they bind nothing); `sip test` and
// `run` fail on it with a hint about another dialdeck.
func TestAdminCommandsOpenNoSIPSocket(t *testing.T) {
	w, addr := heldTrunkWorkdir(t)
	id := w.create("c.json", allDayBody("held port", 2))
	w.write("leads.csv", "phone\n+14155552600\n")
	w.ok("leads", "import", id, "leads.csv")
	if out := w.ok("campaign", "list"); !strings.Contains(out, "held port") {
		t.Errorf("campaign list lacks the campaign:\n%s", out)
	}
	w.ok("report", id)
	w.ok("campaign", "start", id)
	w.ok("campaign", "pause", id)
	log := readFile(t, w.path("dialdeck.log"))
	for _, no := range []string{"SIP trunk ready", "sim agent listening"} {
		if strings.Contains(log, no) {
			t.Errorf("an admin command started the call path (%q in the log):\n%s", no, log)
		}
	}

	hint := "another dialdeck, the TUI or `run`, may be using this trunk; leave the port out of bind_address"
	w.fails(1, []string{"SIP socket " + addr, "address already in use", hint}, "sip", "test", "uas", "+14155552600")
	w.fails(1, []string{"SIP socket " + addr, hint}, "run", "--headless", "--exit-when-done")
}
