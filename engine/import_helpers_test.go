package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/storage"
)

// impBusyPlacer ends every call busy at once.
type impBusyPlacer struct{}

func (impBusyPlacer) Place(context.Context, engine.CallRequest) engine.CallResult {
	return engine.CallResult{Outcome: engine.OutcomeBusy}
}

// impStart is a Wednesday 12:00 in Asia/Kolkata: inside the test window.
var impStart = time.Date(2026, 5, 20, 6, 30, 0, 0, time.UTC)

// impNewEngine opens a real bbolt store in t.TempDir() and an engine on it.
func impNewEngine(tb testing.TB, placer engine.CallPlacer, maxConc, orgMax int) (*engine.Engine, *engine.FakeClock) {
	tb.Helper()
	st, err := storage.Open(filepath.Join(tb.TempDir(), "t.db"), storage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	clock := engine.NewFakeClock(impStart)
	e, err := engine.New(engine.Options{
		Store:            st,
		Placer:           placer,
		Clock:            clock,
		Agents:           []engine.Agent{{ID: "a", Prompt: "Hi {{first_name}} from {{company}} about {{policy_type}}", WelcomeMessage: "Hello {{ first_name }}"}},
		Numbers:          []engine.Number{{ID: "n", CallerID: "+14155550100", CallsPerSecond: 10}},
		OrgMaxConcurrent: orgMax,
	})
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		e.Shutdown()
		st.Close()
	})
	return e, clock
}

// impSpec is a valid campaign body; region is its defaultRegion.
func impSpec(name, region string, maxConc int) engine.CampaignSpec {
	return engine.CampaignSpec{
		Name: name, AgentID: "a", PhoneNumberID: "n", MaxConcurrent: maxConc,
		Schedule:      engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "10:00", WindowEnd: "18:00", Weekdays: []int{1, 2, 3, 4, 5}},
		RetryPolicy:   engine.RetryPolicy{MaxAttempts: 3, BackoffMinutes: 60, RetryOn: []string{"no_answer", "busy"}},
		DefaultRegion: region,
	}
}

func impCampaign(tb testing.TB, e *engine.Engine, name, region string) *engine.Campaign {
	tb.Helper()
	c, err := e.CreateCampaign(impSpec(name, region, 5))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
