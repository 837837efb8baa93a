package config

import (
	"strings"
	"testing"
)

func TestSummaryOfExample(t *testing.T) {
	cfg := loadExample(t)
	s := cfg.Summary()
	wantContains(t, s,
		"config:    built-in default (example.toml)",
		"tick every 3s, database dialdeck.db, log dialdeck.log (level info)",
		"up to 6 concurrent calls",
		"sim-agent  sim",
		"token not set",
		"connection lost after 5s",
		"pn_demo  +14155550100  carrier sim  2 calls/s",
		"ring 2s-6s, talk 5s-30s",
		"webhooks:  signed (secret set), timeout 10s",
		"dnc:       no file imported at start",
		`"Demo renewals"`,
		"3 attempts, 1m0s apart, on no_answer,busy,failed",
	)
	if strings.Contains(s, "dev-secret-change-me") {
		t.Errorf("Summary prints the webhook secret:\n%s", s)
	}
}

func TestSummaryShowsOnlyAgentHost(t *testing.T) {
	doc := strings.Replace(minimal, `kind = "sim"`, "kind = \"webrtc\"\nurl = \"https://agent.example.com/v1/calls?k=1\"", 1)
	cfg, err := Parse([]byte(doc), "test.toml", WithLookupEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Summary()
	wantContains(t, s, "a1  webrtc  https://agent.example.com  token not set", "connection lost after 15s")
	if strings.Contains(s, "/v1/calls") {
		t.Errorf("Summary shows the agent URL path:\n%s", s)
	}
}
