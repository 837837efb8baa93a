package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxPane drives the real binary in a real terminal: a private tmux server
// (its own socket, killed at the end) with one 80x24 window.
type tmuxPane struct {
	t      *testing.T
	socket string
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (p *tmuxPane) capture() string { return p.tmux("capture-pane", "-p", "-t", "dd") }

func (p *tmuxPane) keys(k ...string) { p.tmux(append([]string{"send-keys", "-t", "dd"}, k...)...) }

// wait polls the pane until re matches and returns the match.
func (p *tmuxPane) wait(re string) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		last = p.capture()
		if m := rx.FindStringSubmatch(last); m != nil {
			return m
		}
	}
	p.t.Fatalf("pane never matched %q; it shows:\n%s", re, last)
	return nil
}

func requireTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is not installed: .ci/run installs it; the TUI end-to-end test must run in CI")
		}
		fmt.Fprintln(os.Stderr, "\n*** SKIPPING the TUI end-to-end test: tmux is not installed (apt-get install tmux) ***")
		t.Skip("tmux not installed")
	}
}

// TestTUIEndToEndInTmux runs a campaign from the keyboard in a real 80x24
// terminal: create it in the form, import examples/leads.csv in the import
// screen, start, watch calls go live, pause (no new call starts), resume,
// stop, quit.
func TestTUIEndToEndInTmux(t *testing.T) {
	requireTmux(t)
	// Calls long enough to be seen live.
	w := newWorkdir(t, `talk_min = "100ms"`, `talk_min = "2s"`, `talk_max = "300ms"`, `talk_max = "4s"`)
	leads, err := filepath.Abs(filepath.Join("examples", "leads.csv"))
	if err != nil {
		t.Fatal(err)
	}

	p := &tmuxPane{t: t, socket: fmt.Sprintf("dialdeck-test-%d", os.Getpid())}
	p.tmux("new-session", "-d", "-s", "dd", "-x", "80", "-y", "24", "-c", w.dir,
		binPath+"; echo EXIT=$?; sleep 60")
	t.Cleanup(func() { exec.Command("tmux", "-L", p.socket, "kill-server").Run() })

	// The form: each step waits for huh to focus the field first, so no
	// key lands in the field before.
	p.wait(`No campaigns yet`)
	p.keys("n")
	field := func(name string, keys ...string) {
		p.wait(`┃ ` + name)
		if len(keys) > 0 {
			p.keys(keys...)
		}
		p.keys("Enter")
	}
	clear := []string{"BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace"}
	field("Name", "TUI e2e")
	field("Agent")
	field("Number")
	field("Max calls", append(clear, "2")...)
	field("Webhook URL")
	field("Region", "US")
	field("Time zone", append(clear, "America/New_York")...)
	field("Window start", append(clear, "00:00")...)
	field("Window end", append(clear, "00:00")...)
	field("Weekdays", "Down", "Down", "Down", "Down", "Down", "Space", "Down", "Space")
	field("Also in each lead")
	p.wait(`3/3 Start and retries`)
	field("Start at")
	field("Max attempts")
	field("Backoff minutes", append(clear, "0")...)
	field("Retry on")
	p.wait(`created "TUI e2e"`)
	p.wait(`TUI e2e\s+draft`)

	// The import: path, region (the campaign's US), preview, summary.
	p.keys("i")
	p.wait(`import leads`)
	p.keys(leads, "Enter")
	p.wait(`phone column: phone · variables: first_name`)
	p.wait(`Default region  US`)
	p.keys("Enter")
	p.wait(`IMPORT DONE`)
	p.wait(`imported [1-9]\d* · duplicates`)
	p.wait(`region US \(campaign defaultRegion\)`)
	p.keys("Escape")
	p.wait(`TUI e2e\s+draft`)

	p.keys("p")
	p.wait(`cannot pause campaign "TUI e2e": it is draft`)
	p.keys("s")
	p.wait(`started "TUI e2e"`)
	p.keys("Enter")
	p.wait(`ACTIVE CALLS \([1-9]`)
	p.wait(`(\d+) attempts`)

	p.keys("p")
	p.wait(`TUI e2e · paused`)
	// Calls already live may finish; no new one starts: attempts stay put
	// over many 200 ms ticks once the live calls have ended.
	p.wait(`ACTIVE CALLS \(0\)`)
	before := p.wait(`(\d+) attempts`)[1]
	time.Sleep(1500 * time.Millisecond)
	if after := p.wait(`(\d+) attempts`)[1]; after != before {
		t.Fatalf("attempts went from %s to %s while paused", before, after)
	}

	p.keys("r")
	p.wait(`TUI e2e · running`)
	n, _ := strconv.Atoi(before)
	p.wait(fmt.Sprintf(`\b(%s) attempts`, moreThan(n)))

	p.keys("S")
	p.wait(`Stop "TUI e2e" for good`)
	p.keys("y")
	p.wait(`TUI e2e · completed`)
	p.keys("Escape")
	p.wait(`TUI e2e\s+completed`)
	p.keys("q")
	if out := p.wait(`EXIT=\d+`); out[0] != "EXIT=0" {
		t.Fatalf("dialdeck exited with %s", out[0])
	}
	if log, _ := os.ReadFile(w.path("dialdeck.log")); !strings.Contains(string(log), "campaign stop") {
		t.Errorf("the log file does not record the stop:\n%s", log)
	}
}

// moreThan is a regexp alternation of the numbers n+1 .. n+200.
func moreThan(n int) string {
	var s []string
	for i := n + 1; i <= n+200; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, "|")
}
