package media

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/storage"
)

// TestSIPCampaign runs a 20-lead campaign through the engine, the bridge
// and the SIP carrier against one SIPp trunk whose answer depends on the
// number (see testdata/sipp/campaign.xml), with real bbolt storage.
func TestSIPCampaign(t *testing.T) {
	noLeaks(t)
	const leads = 20
	cfg := answeredConfig()
	cfg.TalkMin, cfg.TalkMax = time.Second, time.Second
	cfg.Agents = map[string]AgentOdds{"ag": {Qualified: 1}}
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: NewSimPlacer(cfg, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	sp := startSipp(t, "campaign.xml", false, "-m", fmt.Sprint(leads))
	rtpLo := freePortPair(t, 37000, 45000)
	carrier, err := NewSIPCarrier(SIPTrunkConfig{ID: "camp", Trunk: sp.addr, BindAddr: "127.0.0.1",
		RTPPortMin: rtpLo, RTPPortMax: rtpLo + 3 + 20, RingTimeout: 2 * time.Second, MaxConcurrent: 5, CallsPerSecond: 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer carrier.Close()
	bridge := NewBridge(carrier, func(req engine.CallRequest) (AgentConfig, error) {
		c := fastAgent(agent.URL())
		c.Header = SimCallHeader(req)
		return c, nil
	}, nil)

	st, err := storage.Open(filepath.Join(t.TempDir(), "camp.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := engine.New(engine.Options{Store: st, Placer: bridge, OrgMaxConcurrent: 5, TickInterval: 100 * time.Millisecond,
		Agents:  []engine.Agent{{ID: "ag", Prompt: "You are calling {{first_name}}.", WelcomeMessage: "Hi {{first_name}}", Analysis: true}},
		Numbers: []engine.Number{{ID: "pn", CallerID: sipTestCallerID}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	c, err := e.CreateCampaign(engine.CampaignSpec{Name: "sip", AgentID: "ag", PhoneNumberID: "pn", MaxConcurrent: 5,
		Schedule:    engine.Schedule{Timezone: "UTC", WindowStart: "00:00", WindowEnd: "24:00", Weekdays: []int{1, 2, 3, 4, 5, 6, 7}},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: 1, BackoffMinutes: 60, RetryOn: []string{"no_answer", "busy"}}})
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for i := range leads {
		fmt.Fprintf(&csv, "+1415555%04d,Lead%d\n", 1000+i, i)
	}
	if _, err := e.ImportLeads(fmt.Sprint(c.ID), strings.NewReader(csv.String()), engine.ImportOptions{Region: "US"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(ctx) }()
	for {
		cc, err := e.Campaign(fmt.Sprint(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		if cc.State == engine.StateCompleted {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("campaign still %s after 90s", cc.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-runDone
	e.WaitCalls()

	ls, err := e.Leads(c.ID, 0, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != leads {
		t.Fatalf("%d leads", len(ls))
	}
	counts := map[engine.Disposition]int{}
	for _, l := range ls {
		want := map[byte]engine.Disposition{'1': engine.DispBusy, '2': engine.DispNoAnswer, '3': engine.DispFailed}[l.Phone[len(l.Phone)-1]]
		wantCode := map[byte]int{'1': 486, '2': 603, '3': 404}[l.Phone[len(l.Phone)-1]]
		if want == "" {
			want, wantCode = engine.DispQualified, 200
		}
		counts[l.Disposition]++
		as, err := e.Attempts(fmt.Sprint(c.ID), l.ID)
		if err != nil || len(as) != 1 {
			t.Fatalf("lead %s: attempts %v %v", l.Phone, as, err)
		}
		a := as[0]
		if l.Status != engine.LeadDone || l.Disposition != want || a.SIPCode != wantCode {
			t.Errorf("lead %s: %s %s SIP %d (%s), want done %s SIP %d", l.Phone, l.Status, l.Disposition, a.SIPCode, a.Reason, want, wantCode)
		}
		if want == engine.DispQualified && (a.PacketsToAgent == 0 || a.PacketsFromAgent == 0) {
			t.Errorf("lead %s: RTP to agent %d, from agent %d", l.Phone, a.PacketsToAgent, a.PacketsFromAgent)
		}
	}
	t.Logf("dispositions: %v", counts)
	if code := sp.wait(15 * time.Second); code != 0 {
		t.Errorf("sipp exit %d:\n%s", code, sp.tail())
	}
}
