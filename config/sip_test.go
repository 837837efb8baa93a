package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// withTrunk is minimal plus one trunk on lines 9-11; extra lines start at 12.
func withTrunk(extra string) string {
	return minimal + "[[carriers.sip]]\nid = \"t1\"\ntrunk = \"127.0.0.1:5060\"\n" + extra
}

func TestSIPTrunkDefaults(t *testing.T) {
	cfg, err := Parse([]byte(withTrunk("")), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := cfg.SIPTrunk("t1")
	if !ok {
		t.Fatalf("trunk t1 missing: %+v", cfg.Carriers.SIP)
	}
	want := SIPTrunk{ID: "t1", Trunk: "127.0.0.1:5060", Transport: "udp", RTPPortMin: 10000, RTPPortMax: 20000,
		RingTimeout: 30 * time.Second, NoMediaTimeout: 10 * time.Second}
	if got != want {
		t.Errorf("trunk = %+v\n want %+v", got, want)
	}
	if got.Carrier() != "sip:t1" || got.RTPEvenPorts() != 5000 {
		t.Errorf("Carrier %q, even ports %d", got.Carrier(), got.RTPEvenPorts())
	}
}

func TestSIPTrunkAllKeys(t *testing.T) {
	doc := withTrunk(`transport = "tls"
username = "alice"
password = "${SIP_PASSWORD}"
from_domain = "example.com"
outbound_proxy = "[::1]:5070"
bind_address = "127.0.0.1:5062"
public_address = "127.0.0.1"
rtp_port_min = 20001
rtp_port_max = 20011
ring_timeout = "45s"
max_concurrent = 5
calls_per_second = 2.5
no_media_timeout = "4s"
`)
	doc = strings.Replace(doc, `carrier = "sim"`, `carrier = "sip:t1"`, 1)
	cfg, err := Parse([]byte(doc), "test.toml", WithLookupEnv(envOf(map[string]string{"SIP_PASSWORD": "pw-SECRET-9"})))
	if err != nil {
		t.Fatal(err)
	}
	tr := cfg.Carriers.SIP[0]
	want := SIPTrunk{ID: "t1", Trunk: "127.0.0.1:5060", Transport: "tls", Username: "alice", Password: NewSecret("pw-SECRET-9"),
		FromDomain: "example.com", OutboundProxy: "[::1]:5070", BindAddress: "127.0.0.1:5062", PublicAddress: "127.0.0.1",
		RTPPortMin: 20001, RTPPortMax: 20011, RingTimeout: 45 * time.Second, MaxConcurrent: 5, CallsPerSecond: 2.5,
		NoMediaTimeout: 4 * time.Second}
	if tr != want {
		t.Errorf("trunk = %+v\n want %+v", tr, want)
	}
	if tr.Password.Reveal() != "pw-SECRET-9" {
		t.Errorf("password not expanded from the environment")
	}
	// 20002, 20004, ..., 20010: five calls fit, exactly max_concurrent.
	if tr.RTPEvenPorts() != 5 {
		t.Errorf("even ports = %d, want 5", tr.RTPEvenPorts())
	}
	if cfg.Numbers[0].Carrier != "sip:t1" {
		t.Errorf("number carrier = %q", cfg.Numbers[0].Carrier)
	}

	// The password never shows: not in the summary, fmt or slog.
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "trunk", tr, "config", cfg)
	for name, out := range map[string]string{
		"Summary": cfg.Summary(), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", tr), "slog": logged.String(),
	} {
		if strings.Contains(out, "pw-SECRET-9") {
			t.Errorf("%s leaks the SIP password:\n%s", name, out)
		}
	}
	wantContains(t, cfg.Summary(),
		"sip:       1 trunk(s)",
		"t1  tls  127.0.0.1:5060  user alice, password set  rtp 20001-20011  ring 45s, no media 4s  max 5 calls, 2.5 calls/s",
		"from example.com, proxy [::1]:5070, bind 127.0.0.1:5062, public 127.0.0.1, used by n1",
		"n1  +14155550100  carrier sip:t1",
	)
}

func TestSIPSummaryUnusedTrunkAndNoAuth(t *testing.T) {
	cfg, err := Parse([]byte(withTrunk("")), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, cfg.Summary(), "t1  udp  127.0.0.1:5060  no auth (IP-authenticated)  rtp 10000-20000  ring 30s, no media 10s  no trunk limits",
		`unused (no number has carrier "sip:t1")`)
	// Without trunks the summary has no sip line at all.
	cfg, err = Parse([]byte(minimal), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg.Summary(), "sip:") {
		t.Errorf("summary mentions sip without trunks:\n%s", cfg.Summary())
	}
}

func TestSIPValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"id required", minimal + "[[carriers.sip]]\ntrunk = \"127.0.0.1:5060\"\n",
			[]string{`test.toml:9:3: carriers.sip[0].id: is required`}},
		{"duplicate id", withTrunk("[[carriers.sip]]\nid = \"t1\"\ntrunk = \"127.0.0.1:5061\"\n"),
			[]string{`test.toml:13:6: carriers.sip[1].id: duplicate id "t1" (also carriers.sip[0])`}},
		{"id with a colon", strings.Replace(withTrunk(""), `id = "t1"`, `id = "my:trunk"`, 1),
			[]string{`test.toml:10:6: carriers.sip[0].id: "my:trunk" may hold only letters, digits`}},
		{"trunk required", minimal + "[[carriers.sip]]\nid = \"t1\"\n",
			[]string{`test.toml:9:3: carriers.sip[0].trunk: is required: the trunk's "host:port", e.g. "sip.example.com:5060"`}},
		{"trunk without port", strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"pbx.example.com"`, 1),
			[]string{`test.toml:11:9: carriers.sip[0].trunk: "pbx.example.com" has no port: write "pbx.example.com:5060"`}},
		{"tls trunk without port suggests 5061", strings.Replace(withTrunk("transport = \"tls\"\n"), `"127.0.0.1:5060"`, `"pbx.example.com"`, 1),
			[]string{`carriers.sip[0].trunk: "pbx.example.com" has no port: write "pbx.example.com:5061"`}},
		{"trunk with a scheme", strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"sip:pbx.example.com:5060"`, 1),
			[]string{`carriers.sip[0].trunk: "sip:pbx.example.com:5060": write the address without a scheme, as "host:port"`}},
		{"trunk bad port", strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"127.0.0.1:70000"`, 1),
			[]string{`carriers.sip[0].trunk: "127.0.0.1:70000": port "70000" is not a number from 1 to 65535`}},
		{"trunk bad host", strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"pbx_1!.example.com:5060"`, 1),
			[]string{`carriers.sip[0].trunk: "pbx_1!.example.com:5060": "pbx_1!.example.com" is not a host name or IP address`}},
		{"ipv6 without brackets", strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"::1:5060"`, 1),
			[]string{`carriers.sip[0].trunk: "::1:5060" is not "host:port" (e.g. "sip.example.com:5060" or "[2001:db8::1]:5060")`}},
		{"transport", withTrunk("transport = \"UDP\"\n"),
			[]string{`test.toml:12:13: carriers.sip[0].transport: "UDP" is not one of udp, tcp, tls`}},
		{"password without username", withTrunk("password = \"x\"\n"),
			[]string{`test.toml:12:12: carriers.sip[0].password: is set but username is not`}},
		{"username with domain", withTrunk("username = \"alice@example.com\"\npassword = \"x\"\n"),
			[]string{`carriers.sip[0].username: "alice@example.com" must not contain spaces, '@' or ':'`}},
		{"from_domain with port", withTrunk("from_domain = \"example.com:5060\"\n"),
			[]string{`test.toml:12:15: carriers.sip[0].from_domain: "example.com:5060" is not a domain name or IP address`}},
		{"outbound proxy without port", withTrunk("outbound_proxy = \"127.0.0.1\"\n"),
			[]string{`test.toml:12:18: carriers.sip[0].outbound_proxy: "127.0.0.1" has no port: write "127.0.0.1:5060"`}},
		{"bind address not an IP", withTrunk("bind_address = \"eth0\"\n"),
			[]string{`test.toml:12:16: carriers.sip[0].bind_address: "eth0" is not an IP address of this machine`}},
		{"bind address bad port", withTrunk("bind_address = \"127.0.0.1:99999\"\n"),
			[]string{`carriers.sip[0].bind_address: "127.0.0.1:99999": port "99999" is not a number from 0 to 65535`}},
		{"public address a host name", withTrunk("public_address = \"dialer.example.com\"\n"),
			[]string{`test.toml:12:18: carriers.sip[0].public_address: "dialer.example.com" is not an IP address`}},
		{"public address unspecified", withTrunk("public_address = \"0.0.0.0\"\n"),
			[]string{`carriers.sip[0].public_address: "0.0.0.0" cannot be reached`}},
		{"rtp port below 1024", withTrunk("rtp_port_min = 80\n"),
			[]string{`test.toml:12:16: carriers.sip[0].rtp_port_min: 80 is outside 1024..65535`}},
		{"rtp port above 65535", withTrunk("rtp_port_max = 70000\n"),
			[]string{`test.toml:12:16: carriers.sip[0].rtp_port_max: 70000 is outside 1024..65535`}},
		{"rtp min not below max", withTrunk("rtp_port_min = 30000\nrtp_port_max = 30000\n"),
			[]string{`test.toml:13:16: carriers.sip[0].rtp_port_max: rtp_port_min (30000) must be below rtp_port_max (30000)`}},
		{"rtp min above the default max", withTrunk("rtp_port_min = 25000\n"),
			[]string{`test.toml:12:16: carriers.sip[0].rtp_port_min: rtp_port_min (25000) must be below rtp_port_max (20000)`}},
		{"rtp range too small for max_concurrent", withTrunk("rtp_port_min = 30000\nrtp_port_max = 30005\nmax_concurrent = 4\n"),
			[]string{`test.toml:12:16: carriers.sip[0].rtp_port_min: ports 30000-30005 hold 3 call(s) (one even RTP port and the odd RTCP port above it each) but max_concurrent = 4`}},
		{"rtp range too small for the org", withTrunk("rtp_port_min = 30001\nrtp_port_max = 30010\n"),
			[]string{`ports 30001-30010 hold 4 call(s)`, `but org.max_concurrent_calls = 10`}},
		{"ring timeout", withTrunk("ring_timeout = \"0s\"\n"),
			[]string{`test.toml:12:16: carriers.sip[0].ring_timeout: must be positive`}},
		{"ring timeout not a duration", withTrunk("ring_timeout = \"30\"\n"),
			[]string{`carriers.sip[0].ring_timeout: "30" is not a duration`}},
		{"no media timeout", withTrunk("no_media_timeout = \"-1s\"\n"),
			[]string{`test.toml:12:20: carriers.sip[0].no_media_timeout: must be positive`}},
		{"max concurrent zero", withTrunk("max_concurrent = 0\n"),
			[]string{`test.toml:12:18: carriers.sip[0].max_concurrent: must be at least 1, got 0`}},
		{"calls per second", withTrunk("calls_per_second = 0\n"),
			[]string{`test.toml:12:20: carriers.sip[0].calls_per_second: must be greater than 0, got 0`}},
		{"unknown key with suggestion", withTrunk("user_name = \"alice\"\n"),
			[]string{`test.toml:12:1: carriers.sip[0].user_name: unknown key (did you mean "username"?)`}},
		{"type error", withTrunk("rtp_port_min = \"10000\"\n"),
			[]string{`test.toml:12:16: carriers.sip[0].rtp_port_min: expected an integer, found a TOML string`}},
		{"unset password variable", withTrunk("username = \"alice\"\npassword = \"${SIP_PW}\"\n"),
			[]string{`test.toml:13:12: carriers.sip[0].password: environment variable SIP_PW is not set`}},
		{"number uses an unknown trunk", strings.Replace(withTrunk(""), `carrier = "sim"`, `carrier = "sip:t2"`, 1),
			[]string{`test.toml:8:11: numbers[0].carrier: unknown carrier "sip:t2" (known carriers: "sim", "sip:t1"); did you mean "sip:t1"?`}},
		{"number uses a trunk when none exist", strings.Replace(minimal, `carrier = "sim"`, `carrier = "sip:telnyx"`, 1),
			[]string{`numbers[0].carrier: unknown carrier "sip:telnyx" (known carriers: "sim"); add a [[carriers.sip]] with id = "telnyx"`}},
		{"number names the trunk without sip:", strings.Replace(withTrunk(""), `carrier = "sim"`, `carrier = "t1"`, 1),
			[]string{`numbers[0].carrier: unknown carrier "t1" (known carriers: "sim", "sip:t1")`}},
		{"number carrier missing", strings.Replace(withTrunk(""), `carrier = "sim"`, `carrier = ""`, 1),
			[]string{`numbers[0].carrier: is required (known carriers: "sim", "sip:t1")`}},
		{"second trunk's errors name its index", withTrunk("[[carriers.sip]]\nid = \"t2\"\ntrunk = \"x\"\n"),
			[]string{`test.toml:14:9: carriers.sip[1].trunk: "x" has no port`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantContains(t, parseErr(t, tt.doc), tt.want...)
		})
	}
}

func TestSIPValidForms(t *testing.T) {
	for _, extra := range []string{
		"transport = \"tcp\"\n",
		"outbound_proxy = \"proxy.example.com:5060\"\n",
		"bind_address = \"0.0.0.0\"\n",
		"bind_address = \"::1\"\n",
		"bind_address = \"[::1]:0\"\n",
		"public_address = \"2001:db8::7\"\n",
		"username = \"alice\"\n", // IP-authenticated trunks may still send a user
		"from_domain = \"127.0.0.1\"\n",
		"rtp_port_min = 1024\nrtp_port_max = 65535\n",
		"rtp_port_min = 40000\nrtp_port_max = 40001\nmax_concurrent = 1\n",
	} {
		doc := withTrunk(extra)
		if _, err := Parse([]byte(doc), "test.toml", WithLookupEnv(noEnv)); err != nil {
			t.Errorf("%q: %v", extra, err)
		}
	}
	doc := strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"[::1]:5080"`, 1)
	if _, err := Parse([]byte(doc), "test.toml", WithLookupEnv(noEnv)); err != nil {
		t.Errorf("IPv6 trunk: %v", err)
	}
	doc = strings.Replace(withTrunk(""), `"127.0.0.1:5060"`, `"sip.telnyx.com:5060"`, 1)
	if _, err := Parse([]byte(doc), "test.toml", WithLookupEnv(noEnv)); err != nil {
		t.Errorf("DNS trunk: %v", err)
	}
}

func TestEvenPorts(t *testing.T) {
	for _, c := range []struct{ lo, hi, want int }{
		{10000, 20000, 5000}, {10000, 10001, 1}, {10001, 10002, 0}, {10001, 10003, 1}, {10000, 10000, 0}, {1024, 65535, 32256},
	} {
		if got := evenPorts(c.lo, c.hi); got != c.want {
			t.Errorf("evenPorts(%d, %d) = %d, want %d", c.lo, c.hi, got, c.want)
		}
	}
}

// TestExampleSIPBlockParses uncomments example.toml's [[carriers.sip]] block
// and points the demo number at it: the documented example must be valid and
// stay on loopback.
func TestExampleSIPBlockParses(t *testing.T) {
	data, err := os.ReadFile("../example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "# [[carriers.sip]]":
			in = true
		case in && !strings.HasPrefix(line, "#"):
			in = false
		}
		if in {
			// "# key = v" becomes a key; "# # note" stays a comment.
			line = strings.TrimPrefix(line, "# ")
		}
		out = append(out, line)
	}
	doc := strings.Replace(strings.Join(out, "\n"), `carrier = "sim"`, `carrier = "sip:local-pbx"`, 1)
	cfg, err := Parse([]byte(doc), "example.toml", WithLookupEnv(envOf(map[string]string{"SIP_PASSWORD": "pw"})))
	if err != nil {
		t.Fatalf("example with its SIP block uncommented: %v", err)
	}
	tr, ok := cfg.SIPTrunk("local-pbx")
	if !ok || tr.Trunk != "127.0.0.1:5060" || tr.Username != "dialdeck" || tr.Password.Reveal() != "pw" || tr.MaxConcurrent != 10 {
		t.Errorf("trunk = %+v (ok %v)", tr, ok)
	}
	if n, _ := cfg.Number("pn_demo"); n.Carrier != "sip:local-pbx" {
		t.Errorf("pn_demo carrier = %q", n.Carrier)
	}
	// The built-in default itself keeps running on the sim carrier.
	if def := loadExample(t); len(def.Carriers.SIP) != 0 || def.Numbers[0].Carrier != CarrierSim {
		t.Errorf("built-in default: trunks %d, carrier %q", len(def.Carriers.SIP), def.Numbers[0].Carrier)
	}
}

// TestSIPBindAddressIsLocal: config check catches a bind address this
// machine does not have, and points a host name at the loopback IP.
func TestSIPBindAddressIsLocal(t *testing.T) {
	wantContains(t, parseErr(t, withTrunk("bind_address = \"192.0.2.99\"\n")),
		`test.toml:12:16: carriers.sip[0].bind_address: "192.0.2.99" is not an IP address of this machine (its addresses: `,
		`127.0.0.1`, `use one of them, or "0.0.0.0" for all`)
	wantContains(t, parseErr(t, withTrunk("bind_address = \"localhost:5062\"\n")),
		`carriers.sip[0].bind_address: "localhost:5062" is a host name: write the IP "127.0.0.1"`)
	local, err := localIPs()
	if err != nil {
		t.Fatal(err)
	}
	// Every address the machine has passes, with or without a port.
	for _, ip := range append(local, netip.MustParseAddr("127.0.0.2")) {
		for _, bind := range []string{ip.String(), netip.AddrPortFrom(ip, 5062).String()} {
			if _, err := Parse([]byte(withTrunk(fmt.Sprintf("bind_address = %q\n", bind))), "test.toml", WithLookupEnv(noEnv)); err != nil {
				t.Errorf("bind_address %q (a local address): %v", bind, err)
			}
		}
	}
}

// TestSIPEmptyPassword: a password that expands to nothing beside a
// username is an error naming the variable; leaving it out is not.
func TestSIPEmptyPassword(t *testing.T) {
	emptyEnv := WithLookupEnv(func(name string) (string, bool) { return "", name == "SIP_PASSWORD" })
	wantContains(t, parseErr(t, withTrunk("username = \"alice\"\npassword = \"${SIP_PASSWORD}\"\n"), emptyEnv),
		`test.toml:13:12: carriers.sip[0].password: is empty: is SIP_PASSWORD set?`)
	wantContains(t, parseErr(t, withTrunk("username = \"alice\"\npassword = \"\"\n")),
		`test.toml:13:12: carriers.sip[0].password: is empty (leave password out`)
	if _, err := Parse([]byte(withTrunk("username = \"alice\"\n")), "test.toml", emptyEnv); err != nil {
		t.Errorf("username without a password key: %v", err)
	}
}
