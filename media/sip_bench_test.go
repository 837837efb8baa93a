package media

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// Concurrent SIP calls: SIPp UAS (RTP echo) <-> SIP leg <-> bridge <-> sim
// agent over loopback WebRTC, and as the baseline in the same run the same
// number of sim-carrier calls (benchBridged). Run with
//
//	go test ./media -run '^$' -bench 'SIPCalls' -benchtime 1x
//
// CPU and RSS are this process's (dialdeck and the in-process sim agent);
// SIPp's own CPU is not counted. DIALDECK_BENCH_TALK sets the talk time.
func BenchmarkSIPCalls(b *testing.B) {
	for _, n := range []int{50, 100} {
		b.Run(fmt.Sprintf("carrier=sim/calls=%d", n), func(b *testing.B) {
			for range b.N {
				benchBridged(b, n)
			}
		})
		b.Run(fmt.Sprintf("carrier=sip/calls=%d", n), func(b *testing.B) {
			for range b.N {
				benchSIP(b, n)
			}
		})
	}
}

func benchSIP(b *testing.B, n int) {
	rig := newBenchRig(b)
	sp := startSipp(b, "bench_answer.xml", false, "-m", fmt.Sprint(n), "-l", "1000", "-timeout", "300s")
	rtpLo := freePortPair(b, 45000, 50000)
	carrier, err := NewSIPCarrier(SIPTrunkConfig{ID: "bench", Trunk: sp.addr, BindAddr: "127.0.0.1",
		RTPPortMin: rtpLo, RTPPortMax: rtpLo + 4*n, RingTimeout: time.Minute, NoMediaTimeout: time.Minute}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer carrier.Close()
	br := rig.bridge(carrier)
	u := startUsage()
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		sipSetup, agentSet []time.Duration
		toAgent, fromA     atomic.Uint64
		failed             atomic.Int64
	)
	for i := range n {
		wg.Add(1)
		// Calls start 5 ms apart, as the sim-carrier baseline.
		time.Sleep(5 * time.Millisecond)
		go func() {
			defer wg.Done()
			req := testRequest(uint64(i + 1))
			req.Phone, req.CallerID, req.AgentID = sipTestPhone, sipTestCallerID, "ag"
			// Progress comes from several goroutines: keep the first time of
			// each state under a lock.
			var pmu sync.Mutex
			seen := map[string]time.Time{}
			req.OnProgress = func(p engine.CallProgress) {
				pmu.Lock()
				if _, ok := seen[p.State]; !ok {
					seen[p.State] = time.Now()
				}
				pmu.Unlock()
			}
			res := br.Place(context.Background(), req)
			if res.Outcome != engine.OutcomeAnswered {
				failed.Add(1)
				b.Logf("call %d: %s: %s", i, res.Outcome, res.Reason)
			}
			toAgent.Add(res.PacketsToAgent)
			fromA.Add(res.PacketsFromAgent)
			pmu.Lock()
			defer pmu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			// "trying" is reported as the INVITE leaves, "answered" on the 200.
			if t0, t1 := seen["trying"], seen["answered"]; !t0.IsZero() && !t1.IsZero() {
				sipSetup = append(sipSetup, t1.Sub(t0))
			}
			if t0, t1 := seen["connecting agent"], seen["talking"]; !t0.IsZero() && !t1.IsZero() {
				agentSet = append(agentSet, t1.Sub(t0))
			}
		}()
	}
	wg.Wait()
	u.report(b, n)
	carrier.Close()
	rig.agent.Close()
	// SIPp echoes the agent's own packets, so sequence gaps at the agent
	// count what was lost anywhere on the loop agent -> SIP -> agent.
	rig.reportRelay(b, br, n, toAgent.Load(), fromA.Load(), failed.Load())
	pct := func(d []time.Duration, name string) {
		if len(d) == 0 {
			return
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
	pct(sipSetup, "invite200")
	pct(agentSet, "setup")
	if code := sp.wait(60 * time.Second); code != 0 {
		b.Errorf("sipp exit %d:\n%s", code, sp.tail())
	}
}
