package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// noEnv is an environment where nothing is set.
func noEnv(string) (string, bool) { return "", false }

// loadExample parses ../example.toml as the built-in default with an empty
// environment (the default must need no variable).
func loadExample(t *testing.T) *Config {
	t.Helper()
	data, err := os.ReadFile("../example.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Default(data, WithLookupEnv(noEnv))
	if err != nil {
		t.Fatalf("example.toml: %v", err)
	}
	return cfg
}

func TestExampleIsAValidBuiltinDefault(t *testing.T) {
	cfg := loadExample(t)
	if !cfg.Builtin || cfg.Source != BuiltinSource {
		t.Errorf("Builtin=%v Source=%q, want true %q", cfg.Builtin, cfg.Source, BuiltinSource)
	}
	if cfg.Engine.TickInterval != 3*time.Second || cfg.Org.MaxConcurrentCalls != 6 {
		t.Errorf("tick %s, org max %d; want 3s, 6", cfg.Engine.TickInterval, cfg.Org.MaxConcurrentCalls)
	}
	if cfg.Engine.Database != "dialdeck.db" || cfg.Engine.LogFile != "dialdeck.log" {
		t.Errorf("database %q log %q", cfg.Engine.Database, cfg.Engine.LogFile)
	}
	a, ok := cfg.Agent("sim-agent")
	if !ok || a.Kind != AgentSim || !a.Analysis {
		t.Fatalf("sim-agent = %+v, %v", a, ok)
	}
	for _, v := range []string{"{{first_name}}", "{{company}}", "{{policy_type}}", "{{renewal_date}}", "${{premium}}"} {
		if !strings.Contains(a.Prompt, v) {
			t.Errorf("prompt lacks %s: %q", v, a.Prompt)
		}
	}
	n, ok := cfg.Number("pn_demo")
	if !ok || n.CallerID != "+14155550100" || n.Carrier != "sim" || n.CallsPerSecond != 2 {
		t.Errorf("pn_demo = %+v, %v", n, ok)
	}
	s := cfg.Carriers.Sim
	if s.TalkMin != 5*time.Second || s.TalkMax != 30*time.Second || s.RingMin != 2*time.Second || s.RingMax != 6*time.Second {
		t.Errorf("sim durations = %+v", s)
	}
	for name, w := range map[string]float64{"answered": s.Answered, "busy": s.Busy, "no_answer": s.NoAnswer, "voicemail": s.Voicemail, "failed": s.Failed} {
		if w <= 0 {
			t.Errorf("sim odds %s = %g; the demo should show every outcome", name, w)
		}
	}
	if !cfg.Webhooks.Secret.IsSet() {
		t.Error("default webhook secret is empty; the demo should sign webhooks")
	}
	if len(cfg.Campaigns) != 1 {
		t.Fatalf("campaigns = %d, want 1", len(cfg.Campaigns))
	}
	c := cfg.Campaigns[0]
	if c.Name != "Demo renewals" || c.MaxConcurrent != 4 || c.DefaultRegion != "US" || c.WebhookURL != "" {
		t.Errorf("campaign = %+v", c)
	}
	if sch := c.Schedule; sch.Timezone != "UTC" || sch.WindowStart != sch.WindowEnd || len(sch.Weekdays) != 7 {
		t.Errorf("schedule = %+v, want UTC, all day, every day", sch)
	}
	if r := c.RetryPolicy; r.MaxAttempts != 3 || r.BackoffMinutes != 1 || strings.Join(r.RetryOn, ",") != "no_answer,busy,failed" {
		t.Errorf("retry = %+v", r)
	}
	t.Log("\n" + cfg.Summary())
}
