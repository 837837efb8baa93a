package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest valid config; tests append to it.
const minimal = `[[agents]]
id = "a1"
kind = "sim"

[[numbers]]
id = "n1"
caller_id = "+14155550100"
carrier = "sim"
`

// envOf is an environment holding exactly vars.
func envOf(vars map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// parseErr parses doc and returns its error text, failing if it parses.
func parseErr(t *testing.T, doc string, opts ...Option) string {
	t.Helper()
	opts = append([]Option{WithLookupEnv(noEnv)}, opts...)
	cfg, err := Parse([]byte(doc), "test.toml", opts...)
	if err == nil {
		t.Fatalf("parsed without error: %+v", cfg)
	}
	return err.Error()
}

func wantContains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("error %q\n  does not contain %q", got, w)
		}
	}
}

func TestDefaultsApplied(t *testing.T) {
	cfg, err := Parse([]byte(minimal), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != "test.toml" || cfg.Builtin {
		t.Errorf("Source %q Builtin %v", cfg.Source, cfg.Builtin)
	}
	e := cfg.Engine
	if e.TickInterval != 15*time.Second || e.Database != "dialdeck.db" || e.LogFile != "dialdeck.log" || e.LogLevel != DefaultLogLevel {
		t.Errorf("engine = %+v", e)
	}
	if cfg.Org.MaxConcurrentCalls != 10 {
		t.Errorf("org max = %d, want 10", cfg.Org.MaxConcurrentCalls)
	}
	a := cfg.Agents[0]
	if !a.Analysis || a.MaxCallDuration != 10*time.Minute || a.Sim.Qualified+a.Sim.NotInterested+a.Sim.Callback+a.Sim.DoNotCall <= 0 {
		t.Errorf("agent = %+v", a)
	}
	if a.ConnectionLost != 5*time.Second {
		t.Errorf("sim agent connection_lost_timeout = %v, want 5s", a.ConnectionLost)
	}
	if cfg.Numbers[0].CallsPerSecond != 1 {
		t.Errorf("calls_per_second = %g, want 1", cfg.Numbers[0].CallsPerSecond)
	}
	s := cfg.Carriers.Sim
	if s.RingMin != 2*time.Second || s.RingMax != 8*time.Second || s.TalkMin != 5*time.Second || s.TalkMax != 30*time.Second || s.Answered <= 0 {
		t.Errorf("sim carrier = %+v", s)
	}
	if cfg.Webhooks.Timeout != 10*time.Second || cfg.Webhooks.Secret.IsSet() {
		t.Errorf("webhooks = %+v", cfg.Webhooks)
	}
}

// TestConnectionLostTimeout: webrtc agents default to 15s (a remote agent
// rides out a network blip), sim agents to 5s; a set value is kept.
func TestConnectionLostTimeout(t *testing.T) {
	doc := minimal + "[[agents]]\nid = \"remote\"\nkind = \"webrtc\"\nurl = \"https://agent.example.com/v1\"\n" +
		"[[agents]]\nid = \"tuned\"\nkind = \"webrtc\"\nurl = \"https://agent.example.com/v1\"\nconnection_lost_timeout = \"40s\"\n"
	cfg, err := Parse([]byte(doc), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{5 * time.Second, 15 * time.Second, 40 * time.Second} {
		if got := cfg.Agents[i].ConnectionLost; got != want {
			t.Errorf("agent %s: connection_lost_timeout %v, want %v", cfg.Agents[i].ID, got, want)
		}
	}
}

func TestPartialSimOddsAreTheWholeDistribution(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"[carriers.sim]\nbusy = 1\nring_max = \"3s\"\n"), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Carriers.Sim
	if s.Busy != 1 || s.Answered != 0 || s.Failed != 0 || s.RingMin != 2*time.Second || s.RingMax != 3*time.Second {
		t.Errorf("sim carrier = %+v", s)
	}
}

func TestEnvExpansion(t *testing.T) {
	doc := strings.Replace(minimal, `kind = "sim"`, `kind = "webrtc"
url = "https://${AGENT_HOST}/v1/calls"
token = "${AGENT_TOKEN}"
prompt = "Costs $20, $$HOME and $${KEEP} stay"`, 1) + "[webhooks]\nsecret = \"${DIALDECK_WEBHOOK_SECRET}\"\n"
	env := envOf(map[string]string{"AGENT_HOST": "agent.example.com", "AGENT_TOKEN": "tok-123", "DIALDECK_WEBHOOK_SECRET": "whs"})
	cfg, err := Parse([]byte(doc), "test.toml", WithLookupEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Agents[0]
	if a.URL != "https://agent.example.com/v1/calls" || a.Token.Reveal() != "tok-123" || cfg.Webhooks.Secret.Reveal() != "whs" {
		t.Errorf("url %q token %q secret %q", a.URL, a.Token.Reveal(), cfg.Webhooks.Secret.Reveal())
	}
	if want := "Costs $20, $HOME and ${KEEP} stay"; a.Prompt != want {
		t.Errorf("prompt = %q, want %q", a.Prompt, want)
	}
}

func TestUnsetEnvVarNamesVariableKeyAndPosition(t *testing.T) {
	doc := strings.Replace(minimal, `kind = "sim"`, `kind = "webrtc"
url = "https://agent.example.com"
token = "${AGENT_TOKEN}"`, 1)
	got := parseErr(t, doc)
	// token is on line 5; its value starts at column 9.
	wantContains(t, got, "test.toml:5:9: agents[0].token: environment variable AGENT_TOKEN is not set")
}

func TestUnknownKeyHasPositionAndKey(t *testing.T) {
	doc := minimal + "\n[engine]\ntick_interval = \"5s\"\ntick_intervall = \"5s\"\n"
	got := parseErr(t, doc)
	wantContains(t, got, `test.toml:12:1: engine.tick_intervall: unknown key (did you mean "tick_interval"?)`)

	// In an array of tables, the key names its element.
	doc = strings.Replace(minimal, `caller_id`, "callerid = 1\ncaller_id", 1)
	wantContains(t, parseErr(t, doc), `test.toml:7:1: numbers[0].callerid: unknown key (did you mean "caller_id"?)`)

	// camelCase campaign keys; no close match lists what is allowed.
	doc = minimal + "[[campaigns]]\nname = \"c\"\nagentId = \"a1\"\nphoneNumberId = \"n1\"\n[campaigns.schedule]\nwindow_start = \"09:00\"\nzone = \"UTC\"\n"
	wantContains(t, parseErr(t, doc),
		`test.toml:14:1: campaigns[0].schedule.window_start: unknown key (did you mean "windowStart"?)`,
		`test.toml:15:1: campaigns[0].schedule.zone: unknown key (allowed here: timezone, windowStart, windowEnd, weekdays, leadLocalTime)`)
	wantContains(t, parseErr(t, minimal+"[bogus]\n"), "test.toml:9:2: bogus: unknown key (allowed here: engine, org,")
}

func TestTypeErrorHasPositionAndKey(t *testing.T) {
	doc := minimal + "[org]\nmax_concurrent_calls = \"ten\"\n"
	got := parseErr(t, doc)
	wantContains(t, got, "test.toml:10:24: org.max_concurrent_calls: expected an integer, found a TOML string")

	doc = minimal + "[[agents]]\nid = \"a2\"\nkind = \"sim\"\nanalysis = \"yes\"\n"
	wantContains(t, parseErr(t, doc), "test.toml:12:12: agents[1].analysis: expected true or false, found a TOML string")

	doc = minimal + "[engine]\ntick_interval = 15\n"
	wantContains(t, parseErr(t, doc), "test.toml:10:17: engine.tick_interval: expected a duration string")
}

func TestSyntaxErrorHasPosition(t *testing.T) {
	got := parseErr(t, minimal+"[org\n")
	wantContains(t, got, "test.toml:9:5: expected ']'")
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "duplicate agent id",
			doc:  minimal + "[[agents]]\nid = \"a1\"\nkind = \"sim\"\n",
			want: []string{`test.toml:10:6: agents[1].id: duplicate id "a1" (also agents[0])`},
		},
		{
			name: "bad caller id",
			doc:  strings.Replace(minimal, `"+14155550100"`, `"415 555 0100"`, 1),
			want: []string{`test.toml:7:13: numbers[0].caller_id: "415 555 0100" is not an E.164 number`},
		},
		{
			name: "unknown carrier",
			doc:  strings.Replace(minimal, `carrier = "sim"`, `carrier = "sip:twilio"`, 1),
			want: []string{`test.toml:8:11: numbers[0].carrier: unknown carrier "sip:twilio"`},
		},
		{
			name: "campaign with unknown agent",
			doc:  minimal + "[[campaigns]]\nname = \"c\"\nagentId = \"nope\"\nphoneNumberId = \"n1\"\n",
			want: []string{`test.toml:11:11: campaigns[0].agentId: unknown agent "nope" (agents: "a1")`},
		},
		{
			name: "bad duration",
			doc:  minimal + "[carriers.sim]\nring_min = \"2 seconds\"\n",
			want: []string{`test.toml:10:12: carriers.sim.ring_min: "2 seconds" is not a duration`},
		},
		{
			name: "connection_lost_timeout too short",
			doc:  strings.Replace(minimal, `kind = "sim"`, "kind = \"sim\"\nconnection_lost_timeout = \"1s\"", 1),
			want: []string{`test.toml:4:27: agents[0].connection_lost_timeout: 1s is out of range: use 3s to 2m0s`},
		},
		{
			name: "connection_lost_timeout not a duration",
			doc:  strings.Replace(minimal, `kind = "sim"`, "kind = \"sim\"\nconnection_lost_timeout = \"soon\"", 1),
			want: []string{`test.toml:4:27: agents[0].connection_lost_timeout: "soon" is not a duration`},
		},
		{
			name: "min above max",
			doc:  minimal + "[carriers.sim]\ntalk_min = \"40s\"\n",
			want: []string{`test.toml:10:12: carriers.sim.talk_min: talk_min (40s) is greater than talk_max (30s)`},
		},
		{
			name: "webrtc agent without url, reported at its table",
			doc:  strings.Replace(minimal, `kind = "sim"`, `kind = "webrtc"`, 1),
			want: []string{`test.toml:1:3: agents[0].url: is required`},
		},
		{
			name: "all errors at once",
			doc:  minimal + "[org]\nmax_concurrent_calls = 0\n[engine]\nlog_level = \"loud\"\n",
			want: []string{"org.max_concurrent_calls: must be at least 1", `engine.log_level: "loud" is not one of`},
		},
		{
			name: "bad template",
			doc:  strings.Replace(minimal, `kind = "sim"`, "kind = \"sim\"\nprompt = \"Hi {{first_name}, bye\"", 1),
			want: []string{`agents[0].prompt: "{{" without a closing "}}"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantContains(t, parseErr(t, tt.doc), tt.want...)
		})
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := Parse([]byte(minimal+"[org]\nmax_concurrent_calls = -1\n"), "test.toml", WithLookupEnv(noEnv))
	var e *Error
	if !errors.As(err, &e) || e.Line != 10 || e.Key != "org.max_concurrent_calls" {
		t.Fatalf("errors.As *Error = %+v (%v)", e, err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	doc := strings.Replace(minimal, `kind = "sim"`, `kind = "webrtc"
url = "https://agent.example.com/v1?key=s3cret-in-url"
token = "tok-SECRET-1"`, 1) + "[webhooks]\nsecret = \"whs-SECRET-2\"\n"
	cfg, err := Parse([]byte(doc), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"Summary": cfg.Summary(),
		"%v":      fmt.Sprintf("%v", cfg),
		"%+v":     fmt.Sprintf("%+v", cfg),
		"%#v":     fmt.Sprintf("%#v", cfg),
		"%s":      fmt.Sprintf("%s", cfg.Agents[0].Token),
		"%x":      fmt.Sprintf("%x", cfg.Webhooks.Secret),
		"%q":      fmt.Sprintf("%q", cfg.Agents[0].Token),
	}
	for name, out := range outputs {
		for _, secret := range []string{"tok-SECRET-1", "whs-SECRET-2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaks %q:\n%s", name, secret, out)
			}
		}
	}
	// The summary shows only an agent URL's host: queries may carry keys.
	if strings.Contains(outputs["Summary"], "s3cret-in-url") {
		t.Errorf("Summary shows the URL query:\n%s", outputs["Summary"])
	}
	wantContains(t, outputs["Summary"], "token set", "signed (secret set)")
	wantContains(t, outputs["%+v"], "[redacted]")
}

func TestLoadResolvesPathsAgainstFileDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dialdeck.toml")
	doc := minimal + "[dnc]\nfile = \"dnc.txt\"\n[engine]\ndatabase = \"/var/lib/dd.db\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != path || cfg.Builtin {
		t.Errorf("Source %q Builtin %v", cfg.Source, cfg.Builtin)
	}
	if want := filepath.Join(dir, "dnc.txt"); cfg.DNC.File != want {
		t.Errorf("dnc file %q, want %q", cfg.DNC.File, want)
	}
	if cfg.Engine.Database != "/var/lib/dd.db" || cfg.Engine.LogFile != filepath.Join(dir, "dialdeck.log") {
		t.Errorf("database %q log %q", cfg.Engine.Database, cfg.Engine.LogFile)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	if p, builtin := Resolve("x.toml", dir); p != "x.toml" || builtin {
		t.Errorf("flag: %q %v", p, builtin)
	}
	if p, builtin := Resolve("", dir); p != "" || !builtin {
		t.Errorf("nothing: %q %v", p, builtin)
	}
	want := filepath.Join(dir, DefaultFileName)
	if err := os.WriteFile(want, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, builtin := Resolve("", dir); p != want || builtin {
		t.Errorf("cwd file: %q %v", p, builtin)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	cfg, err := Parse([]byte(strings.Replace(minimal, `kind = "sim"`, "kind = \"sim\"\ntoken = \"tok-SECRET-1\"", 1)), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("loaded", "config", cfg, "agent", cfg.Agents[0], "token", cfg.Agents[0].Token)
	}
	if strings.Contains(buf.String(), "tok-SECRET-1") {
		t.Errorf("slog leaks the token:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "[redacted]") {
		t.Errorf("slog output lacks [redacted]:\n%s", buf.String())
	}
}
