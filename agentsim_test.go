package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAgentSimCommand runs `dialdeck agent-sim` as its own process and a
// second dialdeck whose agent is of kind webrtc pointing at it: the same
// path a team's own agent takes (URL, bearer token, DELETE on hang-up).
func TestAgentSimCommand(t *testing.T) {
	agentDir := newWorkdir(t)
	cmd := exec.Command(binPath, "agent-sim", "--listen", "127.0.0.1:0")
	cmd.Dir = agentDir.dir
	cmd.Env = append(os.Environ(), simAgentTokenEnv+"=agent-secret")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("agent-sim did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("agent-sim ignored SIGTERM")
		}
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/\S+`).FindString(sc.Text()); m != "" {
				urls <- m
			}
		}
		exited <- cmd.Wait()
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(15 * time.Second):
		t.Fatalf("agent-sim printed no URL; stderr:\n%s", stderr.String())
	}

	w := newWorkdir(t, `kind = "sim"`, `kind = "webrtc"`+"\nurl = \""+url+"\"\ntoken = \"agent-secret\"",
		"[agents.sim]\nqualified = 3\nnot_interested = 4\ndo_not_call = 1\nseed = 7\n", "")
	id := w.create("demo.json", allDayBody("Remote agent demo", 5))
	w.ok("leads", "import", id, filepath.Join(mustAbs(t, "examples"), "leads.csv"), "--region", "US")
	w.ok("campaign", "start", id)
	if r := w.runTimeout(60*time.Second, "run", "--headless", "--exit-when-done"); r.code != 0 {
		t.Fatalf("run:\n%s", r)
	}
	var atts []struct {
		Outcome          string                  `json:"outcome"`
		Reason           string                  `json:"reason"`
		PacketsToAgent   uint64                  `json:"packetsToAgent"`
		PacketsFromAgent uint64                  `json:"packetsFromAgent"`
		Transcript       []struct{ Text string } `json:"transcript"`
	}
	w.okJSON(&atts, "attempts", id, "--json")
	answered := 0
	for _, a := range atts {
		if strings.Contains(a.Reason, "401") || strings.Contains(a.Reason, "agent unreachable") {
			t.Fatalf("the remote agent refused dialdeck: %+v", a)
		}
		if a.Outcome == "answered" {
			answered++
			if a.PacketsToAgent == 0 || a.PacketsFromAgent == 0 || len(a.Transcript) == 0 {
				t.Errorf("answered call without audio or transcript: %+v", a)
			}
		}
	}
	if answered == 0 {
		t.Errorf("no answered call among %d attempts", len(atts))
	}
}
