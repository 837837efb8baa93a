package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binPath is the dialdeck binary built once for this test process.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dialdeck-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "dialdeck")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		return 1
	}
	return m.Run()
}

// cmdTimeout bounds every one-shot command: none of them should ever hang.
const cmdTimeout = 30 * time.Second

// workdir is a user's working directory with a dialdeck.toml in it, so every
// command finds the config and the database (dialdeck.db) beside it.
type workdir struct {
	t   *testing.T
	dir string
}

// newWorkdir copies testdata/e2e.toml to dialdeck.toml in a fresh temp dir,
// applying the replacements (old, new, old, new, ...) to its text.
func newWorkdir(t *testing.T, replacements ...string) *workdir {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "e2e.toml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(replacements); i += 2 {
		if !strings.Contains(text, replacements[i]) {
			t.Fatalf("config has no %q to replace", replacements[i])
		}
		text = strings.ReplaceAll(text, replacements[i], replacements[i+1])
	}
	w := &workdir{t: t, dir: t.TempDir()}
	w.write("dialdeck.toml", text)
	return w
}

func (w *workdir) path(name string) string { return filepath.Join(w.dir, name) }

func (w *workdir) write(name, content string) string {
	w.t.Helper()
	p := w.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the binary in the workdir and waits for it (bounded).
func (w *workdir) run(args ...string) result {
	w.t.Helper()
	return w.runTimeout(cmdTimeout, args...)
}

func (w *workdir) runTimeout(d time.Duration, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = w.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ctx.Err() != nil {
		w.t.Fatalf("dialdeck %s: still running after %s (hung?)\n%s", strings.Join(args, " "), d, r)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		w.t.Fatalf("dialdeck %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs a command that must succeed and returns its stdout.
func (w *workdir) ok(args ...string) string {
	w.t.Helper()
	r := w.run(args...)
	if r.code != 0 {
		w.t.Fatalf("dialdeck %s:\n%s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// okJSON runs a command that must succeed and decodes its stdout into v.
func (w *workdir) okJSON(v any, args ...string) {
	w.t.Helper()
	out := w.ok(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		w.t.Fatalf("dialdeck %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs a command that must exit with code and mention every want in
// stderr.
func (w *workdir) fails(code int, wants []string, args ...string) result {
	w.t.Helper()
	r := w.run(args...)
	if r.code != code {
		w.t.Fatalf("dialdeck %s: want exit %d\n%s", strings.Join(args, " "), code, r)
	}
	for _, want := range wants {
		if !strings.Contains(r.stderr, want) {
			w.t.Errorf("dialdeck %s: stderr does not mention %q\n%s", strings.Join(args, " "), want, r)
		}
	}
	return r
}

// specBody is the create body from the spec's quick start, verbatim except
// that webhookUrl points at a closed port on loopback.
const specBody = `{
"name": "Q2 Renewals — Mumbai",
"agentId": "agent_xxx",
"phoneNumberId": "pn_xxx",
"maxConcurrent": 5,
"schedule": {
"timezone": "Asia/Kolkata",
"windowStart": "10:00",
"windowEnd": "18:00",
"weekdays": [1, 2, 3, 4, 5]
},
"retryPolicy": {
"maxAttempts": 3,
"backoffMinutes": 60,
"retryOn": ["no_answer", "busy"]
},
"webhookUrl": "http://127.0.0.1:9/webhooks"
}`

// specCSV is the CSV example from the spec's personalisation section.
const specCSV = `phone,first_name,company,policy_type,renewal_date,premium
+919876543210,Arjun,Acme,Health,2026-05-28,12450
`

// allDayBody is a campaign that may dial at any moment, retrying at once, so
// a run on the wall clock finishes whatever the time of day.
func allDayBody(name string, maxConcurrent int, retryOn ...string) string {
	b, _ := json.Marshal(map[string]any{
		"name":          name,
		"agentId":       "agent_xxx",
		"phoneNumberId": "pn_xxx",
		"maxConcurrent": maxConcurrent,
		"schedule": map[string]any{
			"timezone": "America/New_York", "windowStart": "00:00", "windowEnd": "00:00",
			"weekdays": []int{1, 2, 3, 4, 5, 6, 7},
		},
		"retryPolicy": map[string]any{"maxAttempts": 3, "backoffMinutes": 0, "retryOn": retryOn},
		"webhookUrl":  "http://127.0.0.1:9/webhooks",
	})
	return string(b)
}

// create creates a campaign from body and returns the id it printed.
func (w *workdir) create(file, body string) string {
	w.t.Helper()
	w.write(file, body)
	id := strings.TrimSpace(w.ok("campaign", "create", "-f", file))
	if id == "" || strings.ContainsAny(id, " \n") {
		w.t.Fatalf("campaign create printed %q, want the new id", id)
	}
	return id
}

type reportJSON struct {
	CampaignID    uint64            `json:"campaignId"`
	Name          string            `json:"name"`
	State         string            `json:"state"`
	Leads         uint64            `json:"leads"`
	ByStatus      map[string]uint64 `json:"byStatus"`
	ByDisposition map[string]uint64 `json:"byDisposition"`
	Attempts      uint64            `json:"attempts"`
	Active        int               `json:"active"`
}

type attempt struct {
	LeadID      uint64 `json:"leadId"`
	Phone       string `json:"phone"`
	Attempt     int    `json:"attempt"`
	Outcome     string `json:"outcome"`
	Disposition string `json:"disposition"`
	Reason      string `json:"reason"`
}

// terminal dispositions: every disposition a finished lead can have.
var knownDispositions = map[string]bool{
	"answered": true, "qualified": true, "not_interested": true, "callback": true, "voicemail": true,
	"no_answer": true, "busy": true, "failed": true, "dnc": true,
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
