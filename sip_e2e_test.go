package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SIP end-to-end tests: the real binary places calls through a
// [[carriers.sip]] trunk to a SIPp UAS on 127.0.0.1 (testdata/sipp/
// campaign_uas.xml, whose answer depends on the dialed number's last digit),
// bridged over WebRTC to the built-in sim agent. A missing sipp fails them:
// CI installs Debian's sip-tester.

// sippUAS is a SIPp process serving calls until the test ends.
type sippUAS struct {
	port int
	mu   sync.Mutex
	out  bytes.Buffer
}

func (s *sippUAS) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

func (s *sippUAS) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// freeUDPRun finds an even port p in [lo, hi) with p..p+n-1 free on 127.0.0.1.
func freeUDPRun(t *testing.T, lo, hi, n int) int {
	t.Helper()
	for range 200 {
		p := lo + 2*rand.IntN((hi-lo-n)/2)
		var held []net.PacketConn
		for i := range n {
			c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				break
			}
			held = append(held, c)
		}
		ok := len(held) == n
		for _, c := range held {
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no %d free UDP ports in %d-%d", n, lo, hi)
	return 0
}

// startCampaignUAS runs SIPp as the trunk, echoing RTP, until the test ends.
func startCampaignUAS(t *testing.T) *sippUAS {
	t.Helper()
	return startUAS(t, "campaign_uas.xml")
}

// startUAS runs SIPp with testdata/sipp/<scenario> until the test ends.
func startUAS(t *testing.T, scenario string) *sippUAS {
	t.Helper()
	bin := requireSipp(t)
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	port := freeUDPRun(t, 39000, 41000, 2)
	media := freeUDPRun(t, 41000, 43000, 4)
	s := &sippUAS{port: port}
	cmd := exec.Command(bin, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(media), "-rtp_echo", "-nostdin", "-trace_err",
		"-error_file", filepath.Join(t.TempDir(), "sipp_errors.log"))
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = s, s
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sipp output:\n%s", s.output())
		}
	})
	// SIPp is ready once its SIP port is taken.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			break
		}
		c.Close()
		select {
		case <-exited:
			t.Fatalf("sipp exited at start:\n%s", s.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipp did not bind 127.0.0.1:%d:\n%s", port, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// sipWorkdir is the e2e config with pn_xxx on a trunk "uas" at the SIPp UAS;
// extra lines are added to the trunk's table.
func sipWorkdir(t *testing.T, uas *sippUAS, extra ...string) *workdir {
	rtp := freeUDPRun(t, 43000, 47000, 2)
	trunk := fmt.Sprintf(`[[carriers.sip]]
id = "uas"
trunk = "127.0.0.1:%d"
`+strings.Join(append(extra, ""), "\n")+`bind_address = "127.0.0.1"
rtp_port_min = %d
rtp_port_max = %d
ring_timeout = "2s"
no_media_timeout = "5s"

[webhooks]`, uas.port, rtp, rtp+200)
	return newWorkdir(t, `carrier = "sim"`, `carrier = "sip:uas"`, "[webhooks]", trunk)
}

// TestSIPCampaignAgainstSIPp runs a campaign of 20 leads over a SIP trunk:
// every SIP answer becomes the right outcome, SIP code and disposition, and
// answered calls carry audio both ways between SIPp and the sim agent.
func TestSIPCampaignAgainstSIPp(t *testing.T) {
	uas := startCampaignUAS(t)
	w := sipWorkdir(t, uas)

	out := w.ok("config", "check")
	for _, want := range []string{"sip:       1 trunk(s)", fmt.Sprintf("uas  udp  127.0.0.1:%d", uas.port), "used by pn_xxx", "carrier sip:uas", "config ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check lacks %q:\n%s", want, out)
		}
	}

	body := `{"name": "SIP trunk", "agentId": "agent_xxx", "phoneNumberId": "pn_xxx", "maxConcurrent": 10,
"schedule": {"timezone": "UTC", "windowStart": "00:00", "windowEnd": "00:00", "weekdays": [1,2,3,4,5,6,7]},
"retryPolicy": {"maxAttempts": 1, "backoffMinutes": 0, "retryOn": []}}`
	id := w.create("sip.json", body)
	var csv strings.Builder
	csv.WriteString("phone,first_name,company,policy_type,renewal_date,premium\n")
	for i := range 20 {
		fmt.Fprintf(&csv, "+1415555%04d,Lead%d,Acme,Home,2026-06-01,100\n", 2600+i, i)
	}
	w.write("leads.csv", csv.String())
	w.ok("leads", "import", id, "leads.csv")
	w.ok("campaign", "start", id)
	if r := w.runTimeout(90*time.Second, "run", "--headless", "--exit-when-done"); r.code != 0 {
		t.Fatalf("run --headless --exit-when-done:\n%s", r)
	}

	var atts []struct {
		Phone            string `json:"phone"`
		Outcome          string `json:"outcome"`
		Disposition      string `json:"disposition"`
		Reason           string `json:"reason"`
		SIPCode          int    `json:"sipCode"`
		PacketsToAgent   uint64 `json:"packetsToAgent"`
		PacketsFromAgent uint64 `json:"packetsFromAgent"`
		Transcript       []struct {
			Speaker string `json:"speaker"`
		} `json:"transcript"`
	}
	w.okJSON(&atts, "attempts", id, "--json")
	if len(atts) != 20 {
		t.Fatalf("%d attempts, want one per lead (20)", len(atts))
	}
	// What campaign_uas.xml does for each last digit.
	type want struct {
		outcome string
		code    int
		reason  string
	}
	byDigit := map[byte]want{
		'4': {"busy", 486, "486 Busy Here"},
		'5': {"no_answer", 603, "declined (603 Decline)"},
		'6': {"failed", 404, "not reachable"},
		'7': {"failed", 503, "503 Service Unavailable"},
		'8': {"no_answer", 487, "no answer within 2s"},
	}
	answered := 0
	for _, a := range atts {
		digit := a.Phone[len(a.Phone)-1]
		wt, rejected := byDigit[digit]
		if !rejected {
			answered++
			if a.Outcome != "answered" || a.SIPCode != 200 || a.PacketsToAgent == 0 || a.PacketsFromAgent == 0 || len(a.Transcript) == 0 {
				t.Errorf("%s: outcome %s, SIP %d, packets to agent %d / from agent %d, %d transcript lines; want answered, 200, audio both ways",
					a.Phone, a.Outcome, a.SIPCode, a.PacketsToAgent, a.PacketsFromAgent, len(a.Transcript))
			}
			if !knownDispositions[a.Disposition] {
				t.Errorf("%s: disposition %q", a.Phone, a.Disposition)
			}
			continue
		}
		if a.Outcome != wt.outcome || a.SIPCode != wt.code || !strings.Contains(a.Reason, wt.reason) || a.Disposition != wt.outcome {
			t.Errorf("%s: outcome %s disposition %s SIP %d reason %q; want %s, SIP %d, reason with %q",
				a.Phone, a.Outcome, a.Disposition, a.SIPCode, a.Reason, wt.outcome, wt.code, wt.reason)
		}
	}
	if answered != 10 {
		t.Errorf("%d answered calls, want 10 (numbers ending 0-3 and 9)", answered)
	}
	var rep reportJSON
	w.okJSON(&rep, "report", id, "--json")
	if rep.State != "completed" || rep.Leads != 20 || rep.ByDisposition["busy"] != 2 || rep.ByDisposition["no_answer"] != 4 || rep.ByDisposition["failed"] != 4 {
		t.Errorf("report: state %s, %d leads, by disposition %v; want completed, 20, busy 2, no_answer 4, failed 4", rep.State, rep.Leads, rep.ByDisposition)
	}
}

var packetsLine = regexp.MustCompile(`packets:  (\d+) from the callee to the agent, (\d+) from the agent to the callee`)

// TestSIPTestCommand: `dialdeck sip test` prints each SIP step and the
// result, and exits non-zero when the call is not answered.
func TestSIPTestCommand(t *testing.T) {
	uas := startCampaignUAS(t)
	w := sipWorkdir(t, uas)
	trunk := fmt.Sprintf("127.0.0.1:%d", uas.port)

	r := w.run("sip", "test", "uas", "+14155552600")
	if r.code != 0 {
		t.Fatalf("answered call:\n%s", r)
	}
	wantInOrder(t, r.stdout, "via trunk uas (udp "+trunk+")", "-> INVITE sip:+14155552600@"+trunk, "<- 200 OK", "-> ACK",
		"call  talking", "-> BYE", "result:   answered", "answered: yes", "sip code: 200", "reason:   agent ended the call")
	m := packetsLine.FindStringSubmatch(r.stdout)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Errorf("no RTP both ways through the bridge:\n%s", r.stdout)
	}

	r = w.run("sip", "test", "sip:uas", "+14155552604")
	if r.code != 1 || !strings.Contains(r.stderr, "the test call was not answered: busy") {
		t.Errorf("busy call: want exit 1 naming the outcome\n%s", r)
	}
	wantInOrder(t, r.stdout, "-> INVITE sip:+14155552604@"+trunk, "<- 486 Busy Here", "result:   busy", "answered: no", "sip code: 486")

	r = w.run("sip", "test", "uas", "+14155552608", "--ring-timeout", "1s")
	if r.code != 1 {
		t.Errorf("unanswered call: want exit 1\n%s", r)
	}
	wantInOrder(t, r.stdout, "ring timeout 1s", "<- 180 Ringing", "CANCEL", "result:   no_answer", "sip code: 487", "reason:   no answer within 1s")

	// --talk hangs up a call the agent would keep going.
	long := strings.Replace(strings.Replace(readFile(t, w.path("dialdeck.toml")), `talk_min = "100ms"`, `talk_min = "20s"`, 1),
		`talk_max = "300ms"`, `talk_max = "30s"`, 1)
	w.write("long.toml", long)
	r = w.run("--config", "long.toml", "sip", "test", "uas", "+14155552601", "--talk", "1s")
	if r.code != 0 {
		t.Fatalf("--talk call:\n%s", r)
	}
	wantInOrder(t, r.stdout, "talk 1s", "-> BYE", "result:   answered", "reason:   dialdeck hung up after --talk 1s")
	// A good test call is no failure in the log either.
	if log := readFile(t, w.path("dialdeck.log")); strings.Contains(log, `msg="call failed"`) || strings.Count(log, `msg="call ended"`) != 2 {
		t.Errorf("the --talk hang-up is not logged as a good end:\n%s", log)
	}

	// Mistakes are named.
	w.fails(1, []string{`unknown SIP carrier "nope" (configured: "uas")`}, "sip", "test", "nope", "+14155552600")
	w.fails(1, []string{`number "4155552600" is not in E.164 form`}, "sip", "test", "uas", "4155552600")
	w.fails(1, []string{`number "+1415"`, "too short"}, "sip", "test", "uas", "+1415")
	w.fails(1, []string{`unknown agent "ghost"`}, "sip", "test", "uas", "+14155552600", "--agent", "ghost")
	w.fails(2, []string{"usage: dialdeck sip test <carrier-id> <E.164>"}, "sip", "test", "uas")
}

// TestSIPTestDigestAuth: the trunk's password comes from the environment
// through ${VAR}, answers SIPp's 401 challenge (SIPp verifies the digest),
// and shows up nowhere: not in the output, the summary or the log.
func TestSIPTestDigestAuth(t *testing.T) {
	const password = "s3cret" // what testdata/sipp/auth401.xml verifies
	t.Setenv("DIALDECK_TEST_SIP_PASSWORD", password)
	uas := startUAS(t, "auth401.xml")
	w := sipWorkdir(t, uas, `username = "dialdeck"`, `password = "${DIALDECK_TEST_SIP_PASSWORD}"`)

	check := w.ok("config", "check")
	if !strings.Contains(check, "user dialdeck, password set") {
		t.Errorf("config check does not show the trunk's credentials as set:\n%s", check)
	}
	r := w.run("sip", "test", "uas", "+14155552600", "--talk", "1s")
	if r.code != 0 {
		t.Fatalf("call with digest auth:\n%s", r)
	}
	wantInOrder(t, r.stdout, "<- 401 Unauthorized", "-> INVITE (with credentials)", "<- 200 OK", "result:   answered", "sip code: 200")
	for name, text := range map[string]string{"config check": check, "stdout": r.stdout, "stderr": r.stderr, "log": readFile(t, w.path("dialdeck.log"))} {
		if strings.Contains(text, password) {
			t.Errorf("the SIP password appears in %s:\n%s", name, text)
		}
	}
}

// wantInOrder checks that s holds each want, in this order.
func wantInOrder(t *testing.T, s string, wants ...string) {
	t.Helper()
	rest := s
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output lacks %q (in this order: %q):\n%s", w, wants, s)
			return
		}
		rest = rest[i+len(w):]
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requireSipp finds SIPp. Under CI (CI=true, as .ci/run sets after
// installing sip-tester) a missing binary fails the test; elsewhere, so that
// `go test ./...` works on a fresh machine with only Go, the SIP tests are
// skipped with a loud notice.
func requireSipp(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("sipp not found (install Debian's sip-tester; .ci/run does): %v", err)
	}
	fmt.Fprintln(os.Stderr, "\n*** SKIPPING SIP tests: sipp is not installed (apt-get install sip-tester; .ci/run fails instead) ***")
	t.Skip("sipp not installed")
	return ""
}
