package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// engineProc is a `dialdeck run --headless` subprocess whose log lines
// (stdout) arrive on lines.
type engineProc struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string
	done  chan struct{}
}

func startEngine(t *testing.T, w *workdir, extra ...string) *engineProc {
	t.Helper()
	return startEngineEnv(t, w, nil, extra...)
}

// startEngineEnv is startEngine with extra environment variables.
func startEngineEnv(t *testing.T, w *workdir, env []string, extra ...string) *engineProc {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"run", "--headless"}, extra...)...)
	cmd.Dir = w.dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &engineProc{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// waitLine reads log lines until match returns true; it fails the test at
// the deadline or if the process ends first.
func (p *engineProc) waitLine(t *testing.T, within time.Duration, match func(string) bool) string {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("engine exited before the awaited log line; its log:\n%s", strings.Join(p.seen, "\n"))
			}
			p.seen = append(p.seen, l)
			if match(l) {
				return l
			}
		case <-deadline.C:
			t.Fatalf("no awaited log line within %s; engine log:\n%s", within, strings.Join(p.seen, "\n"))
		}
	}
}

// kill sends SIGKILL and reaps the process: no chance to clean up.
func (p *engineProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	for l := range p.lines {
		p.seen = append(p.seen, l)
	}
}

// killedBySIGKILL waits (bounded) for the process to end on its own and
// reports whether a SIGKILL ended it.
func (p *engineProc) killedBySIGKILL(t *testing.T, within time.Duration) bool {
	t.Helper()
	p.wait(t, within)
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// wait waits (bounded) for the process to exit on its own and returns its
// exit code.
func (p *engineProc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if ok {
				p.seen = append(p.seen, l)
				continue
			}
			p.cmd.Wait()
			return p.cmd.ProcessState.ExitCode()
		case <-deadline.C:
			p.cmd.Process.Kill()
			t.Fatalf("engine still running after %s; log:\n%s", within, strings.Join(p.seen, "\n"))
		}
	}
}

var claimedRe = regexp.MustCompile(`msg=tick .*claimed=([0-9]+)`)

// liveTick matches a tick log line that claimed (and so started) calls.
func liveTick(l string) bool {
	m := claimedRe.FindStringSubmatch(l)
	if m == nil {
		return false
	}
	n, _ := strconv.Atoi(m[1])
	return n > 0
}

// TestCrashRecovery kills the engine with SIGKILL while calls are live,
// three times, then lets it finish: no lead is lost or dialed beyond its
// attempts, interrupted calls are reconciled, and the database checks out.
func TestCrashRecovery(t *testing.T) {
	const leads = 200
	const maxAttempts = 3
	w := newWorkdir(t,
		`talk_min = "100ms"`, `talk_min = "500ms"`,
		`talk_max = "300ms"`, `talk_max = "1500ms"`)
	id := w.create("crash.json", allDayBody("crash", 20, "no_answer", "busy", "failed"))

	var b strings.Builder
	b.WriteString("phone,first_name,company,policy_type,renewal_date,premium\n")
	phones := map[string]bool{}
	for i := range leads {
		p := fmt.Sprintf("+1212555%04d", i)
		phones[p] = true
		fmt.Fprintf(&b, "%s,Lead%d,Acme,Auto,2026-06-01,%d\n", p, i, 100+i)
	}
	w.write("crash.csv", b.String())
	var sum struct {
		Imported int `json:"imported"`
	}
	w.okJSON(&sum, "leads", "import", id, "crash.csv", "--json")
	if sum.Imported != leads {
		t.Fatalf("imported %d of %d generated leads", sum.Imported, leads)
	}
	w.ok("campaign", "start", id)

	for i := range 3 {
		eng := startEngine(t, w)
		eng.waitLine(t, 20*time.Second, liveTick)
		eng.kill(t)
		t.Logf("kill %d: SIGKILL with calls live", i+1)
	}

	eng := startEngine(t, w, "--exit-when-done")
	if code := eng.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("final run exited %d; log:\n%s", code, strings.Join(eng.seen, "\n"))
	}

	if out := w.ok("db", "check"); !strings.Contains(out, "ok") {
		t.Errorf("db check after crashes: %s", out)
	}

	var rep reportJSON
	w.okJSON(&rep, "report", id, "--json")
	if rep.Leads != leads {
		t.Errorf("report: %d leads after the crashes, want %d", rep.Leads, leads)
	}
	if rep.ByStatus["done"] != rep.Leads || rep.Active != 0 {
		t.Errorf("report: state %s byStatus %v active %d; want every lead done", rep.State, rep.ByStatus, rep.Active)
	}

	var atts []attempt
	w.okJSON(&atts, "attempts", id, "--json")
	if uint64(len(atts)) != rep.Attempts {
		t.Errorf("report counts %d attempts, attempts --json lists %d", rep.Attempts, len(atts))
	}
	perPhone := map[string][]int{}
	reconciled := 0
	for _, a := range atts {
		perPhone[a.Phone] = append(perPhone[a.Phone], a.Attempt)
		if strings.Contains(a.Reason, "reconciled") {
			reconciled++
			if a.Outcome != "failed" {
				t.Errorf("reconciled attempt %d of lead %d has outcome %q, want failed", a.Attempt, a.LeadID, a.Outcome)
			}
		}
	}
	// Each kill interrupted at least the calls of the tick just logged.
	if reconciled < 3 {
		t.Errorf("%d reconciled attempts after 3 kills with live calls, want at least 3", reconciled)
	}

	rows, err := csv.NewReader(strings.NewReader(w.ok("export", id))).ReadAll()
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if len(rows) != leads+1 {
		t.Fatalf("export: %d rows, want header + %d", len(rows), leads)
	}
	col := columns(t, rows[0], "phone", "status", "attempts")
	for _, row := range rows[1:] {
		phone := row[col["phone"]]
		if !phones[phone] {
			t.Errorf("export has unknown phone %q", phone)
			continue
		}
		delete(phones, phone)
		n, err := strconv.Atoi(row[col["attempts"]])
		if err != nil {
			t.Fatalf("export attempts %q: %v", row[col["attempts"]], err)
		}
		got := perPhone[phone]
		if n < 1 || n > maxAttempts {
			t.Errorf("lead %s: %d attempts, want 1..%d", phone, n, maxAttempts)
		}
		if len(got) != n {
			t.Errorf("lead %s: export says %d attempts, attempt records %v", phone, n, got)
		}
		for i, a := range got {
			if a != i+1 {
				t.Errorf("lead %s: attempt numbers %v, want 1..%d in order", phone, got, n)
				break
			}
		}
	}
	if len(phones) != 0 {
		t.Errorf("%d leads missing from the export", len(phones))
	}
}
