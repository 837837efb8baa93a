package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/config"
	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/media"
)

// TestAgentResolverConnectionLost: each agent's connection_lost_timeout
// reaches its calls' agent leg (sim default 5s, webrtc default 15s, a set
// value as set).
func TestAgentResolverConnectionLost(t *testing.T) {
	cfg, resolve := resolverFor(t, "\n[[agents]]\nid = \"remote\"\nkind = \"webrtc\"\nurl = \"https://agent.example.com/v1\"\n"+
		"[[agents]]\nid = \"tuned\"\nkind = \"webrtc\"\nurl = \"https://agent.example.com/v1\"\nconnection_lost_timeout = \"30s\"\n")
	for id, want := range map[string]time.Duration{cfg.Agents[0].ID: 5 * time.Second, "remote": 15 * time.Second, "tuned": 30 * time.Second} {
		c, err := resolve(engine.CallRequest{AgentID: id, CampaignID: 1, LeadID: 1, Attempt: 1})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if c.ConnectionLostTimeout != want {
			t.Errorf("agent %s: connection lost timeout %v, want %v", id, c.ConnectionLostTimeout, want)
		}
		if strings.HasPrefix(c.URL, "https://") == (id == cfg.Agents[0].ID) {
			t.Errorf("agent %s: URL %q", id, c.URL)
		}
	}
}

// The built-in sim agent replays the sim carrier's draw (voicemail, talk
// length) only for calls the sim carrier placed: a SIP callee who answered
// must not become a voicemail box because [carriers.sim] says so.
func TestSimAgentDrawsOwnConversationForSIPNumbers(t *testing.T) {
	cfg, resolve := resolverFor(t, "\n[[numbers]]\nid = \"pn_sip\"\ncaller_id = \"+14155550101\"\ncarrier = \"sip:pbx\"\n"+
		"[[carriers.sip]]\nid = \"pbx\"\ntrunk = \"127.0.0.1:5060\"\n")
	for number, wantHeader := range map[string]bool{"pn_xxx": true, "pn_sip": false} {
		c, err := resolve(engine.CallRequest{AgentID: cfg.Agents[0].ID, NumberID: number, CampaignID: 1, LeadID: 1, Attempt: 1})
		if err != nil {
			t.Fatalf("%s: %v", number, err)
		}
		if got := c.Header.Get(media.CallHeader) != ""; got != wantHeader {
			t.Errorf("number %s: sim call header sent = %v, want %v", number, got, wantHeader)
		}
	}
}

// resolverFor builds the CLI's agent resolver for testdata/e2e.toml plus
// extra TOML; its sim agent stops when the test ends.
func resolverFor(t *testing.T, extra string) (*config.Config, media.AgentResolver) {
	t.Helper()
	cfg, err := config.Parse([]byte(readFile(t, "testdata/e2e.toml")+extra), "test.toml",
		config.WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		t.Fatal(err)
	}
	resolve, stop, err := agentResolver(cfg, media.NewSimPlacer(simConfig(cfg), nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return cfg, resolve
}
