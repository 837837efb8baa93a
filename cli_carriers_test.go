package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/dialdeck/dialdeck/config"
	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/media"
)

// trunkConfig is the e2e config plus a trunk "pbx" bound to bind, with the
// number on carrier.
func trunkConfig(t *testing.T, carrier, bind string) *config.Config {
	t.Helper()
	doc := strings.Replace(readFile(t, "testdata/e2e.toml"), `carrier = "sim"`, `carrier = "`+carrier+`"`, 1) +
		fmt.Sprintf("\n[[carriers.sip]]\nid = \"pbx\"\ntrunk = \"127.0.0.1:5060\"\nbind_address = %q\nrtp_port_min = 47000\nrtp_port_max = 47100\ncalls_per_second = 5\n", bind)
	cfg, err := config.Parse([]byte(doc), "test.toml", config.WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestUnusedTrunkOpensNothing: a trunk no number uses is not started, so a
// bad address on it cannot stop a sim campaign; a used one is, and its
// failure to start names the trunk.
func TestUnusedTrunkOpensNothing(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.LocalAddr().String()
	log := slog.New(slog.DiscardHandler)
	sim := media.NewSimPlacer(simConfig(trunkConfig(t, "sim", busy)), engine.SystemClock{})

	carrier, closeAll, err := newCarriers(trunkConfig(t, "sim", busy), sim, log)
	if err != nil {
		t.Fatalf("unused trunk on a taken port: %v", err)
	}
	closeAll()
	// The sim number still reaches the sim carrier through the router.
	r, ok := carrier.(*media.CarrierRouter)
	if !ok || r.Carrier("pn_xxx") != "sim" {
		t.Errorf("router %T routes pn_xxx to %q", carrier, r.Carrier("pn_xxx"))
	}

	_, _, err = newCarriers(trunkConfig(t, "sip:pbx", busy), sim, log)
	if err == nil || !strings.Contains(err.Error(), `sip trunk "pbx"`) || !strings.Contains(err.Error(), busy) || strings.Count(err.Error(), "pbx") != 1 {
		t.Errorf("used trunk on a taken port: err = %v, want one naming the trunk", err)
	}
}

// TestTrunkPacesItsNumbers: a trunk's calls_per_second caps the engine's
// pace for the numbers on it, and only for those.
func TestTrunkPacesItsNumbers(t *testing.T) {
	opts := engineOptions(trunkConfig(t, "sip:pbx", "127.0.0.1"), nil, nil, nil, nil)
	if got := opts.Numbers[0].CallsPerSecond; got != 5 {
		t.Errorf("number on a 5 calls/s trunk paced at %g, want 5 (its own 50 capped)", got)
	}
	opts = engineOptions(trunkConfig(t, "sim", "127.0.0.1"), nil, nil, nil, nil)
	if got := opts.Numbers[0].CallsPerSecond; got != 50 {
		t.Errorf("sim number paced at %g, want its own 50", got)
	}
}

// TestRoutedSimCallStillWorks: with a trunk configured but unused, a call
// on the sim number goes through the router to the sim carrier.
func TestRoutedSimCallStillWorks(t *testing.T) {
	cfg := trunkConfig(t, "sim", "127.0.0.1")
	sim := media.NewSimPlacer(simConfig(cfg), engine.SystemClock{})
	carrier, closeAll, err := newCarriers(cfg, sim, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	var states []string
	call, err := carrier.Dial(context.Background(), engine.CallRequest{CampaignID: 1, LeadID: 1, Attempt: 1, NumberID: "pn_xxx", AgentID: "agent_xxx"},
		func(s string) { states = append(states, s) })
	var de *media.DialError
	switch {
	case err == nil:
		call.Hangup()
	case !errors.As(err, &de):
		t.Fatalf("sim dial: %v", err)
	}
	if len(states) == 0 || states[0] != "ringing" {
		t.Errorf("states %v, want the sim carrier's ringing", states)
	}
}
