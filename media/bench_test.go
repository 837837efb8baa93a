package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Benchmarks of concurrent bridged calls (sim callee <-> bridge <-> sim
// agent over loopback WebRTC) and, as a baseline, bare pion PeerConnection
// pairs sending the same 50 packets per second each way. Run with
//
//	go test ./media -run '^$' -bench 'Calls' -benchtime 1x
//
// DIALDECK_BENCH_TALK sets each call's talk time (default 5s). Figures go to
// docs/PERFORMANCE.md.

var benchSizes = []int{50, 100, 200}

func benchTalk() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("DIALDECK_BENCH_TALK")); err == nil && d > 0 {
		return d
	}
	return 5 * time.Second
}

// usage samples process CPU time and peak RSS over a benchmark run.
type usage struct {
	start    time.Time
	cpu0     time.Duration
	rss0     int64
	peak     atomic.Int64
	heap0    int64
	heapPeak atomic.Int64 // Go heap and stacks in use
	stop     chan struct{}
	finished chan struct{}
}

func startUsage() *usage {
	// Give memory from earlier runs in this process back to the OS first,
	// so each run's RSS growth is its own.
	debug.FreeOSMemory()
	u := &usage{start: time.Now(), cpu0: cpuTime(), rss0: rssKiB(), heap0: heapKiB(), stop: make(chan struct{}), finished: make(chan struct{})}
	u.peak.Store(u.rss0)
	u.heapPeak.Store(u.heap0)
	go func() {
		defer close(u.finished)
		for {
			if r := rssKiB(); r > u.peak.Load() {
				u.peak.Store(r)
			}
			if h := heapKiB(); h > u.heapPeak.Load() {
				u.heapPeak.Store(h)
			}
			select {
			case <-u.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return u
}

func (u *usage) report(b *testing.B, n int) {
	close(u.stop)
	<-u.finished
	wall := time.Since(u.start)
	cpu := cpuTime() - u.cpu0
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(n), "cpu%/call")
	b.ReportMetric(float64(u.peak.Load()-u.rss0)/float64(n), "rssKiB/call")
	b.ReportMetric(float64(u.heapPeak.Load()-u.heap0)/float64(n), "heapKiB/call")
}

// heapKiB is the Go heap spans and goroutine stacks in use.
func heapKiB() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse+ms.StackInuse) / 1024
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssKiB() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}

func BenchmarkBridgedCalls(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			for range b.N {
				benchBridged(b, n)
			}
		})
	}
}

// benchRig is the agent side every bridged-call benchmark shares: the sim
// agent on loopback answering every call, with generous timeouts so only
// real failures count.
type benchRig struct {
	talk  time.Duration
	sim   *SimPlacer
	agent *SimAgent
}

func newBenchRig(b *testing.B) *benchRig {
	talk := benchTalk()
	cfg := SimConfig{Seed: 1, Odds: SimOdds{Answered: 1}, TalkMin: talk, TalkMax: talk,
		Agents: map[string]AgentOdds{"ag": {Qualified: 1}}}
	sim := NewSimPlacer(cfg, nil)
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { agent.Close() })
	return &benchRig{talk: talk, sim: sim, agent: agent}
}

// bridge joins carrier's calls to the rig's agent.
func (r *benchRig) bridge(carrier Carrier) *Bridge {
	return NewBridge(carrier, func(req engine.CallRequest) (AgentConfig, error) {
		return AgentConfig{URL: r.agent.URL(), Net: NetOptions{Loopback: true}, Header: SimCallHeader(req),
			AnswerTimeout: time.Minute, ConnectTimeout: time.Minute, FirstAudioTimeout: time.Minute, MaxDuration: r.talk + time.Minute}, nil
	}, nil)
}

// reportRelay reports what every bridged-call benchmark measures of the
// relay. Lost: sequence-number gaps at each receiver (packets missing inside
// the stream). Unheard: counted sent minus counted received, which also
// includes packets in flight at hang-up and, from the agent, frames sent
// before the bridge started reading. Call after the agent has closed.
func (r *benchRig) reportRelay(b *testing.B, br *Bridge, n int, toAgent, fromAgent uint64, failed int64) {
	sent, heard := r.agent.Packets()
	lat := br.Latency()
	b.ReportMetric(float64(lat.Quantile(0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat.Quantile(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat.Max().Microseconds()), "max-µs")
	b.ReportMetric(float64(r.agent.Lost()), "lost-to-agent")
	b.ReportMetric(float64(int64(toAgent)-int64(heard)), "unheard-to-agent")
	b.ReportMetric(float64(int64(sent)-int64(fromAgent)), "unheard-from-agent")
	b.ReportMetric(float64(toAgent+fromAgent)/float64(n), "pkts/call")
	b.ReportMetric(float64(failed), "failed")
}

func benchBridged(b *testing.B, n int) {
	rig := newBenchRig(b)
	carrier := NewSimCarrier(rig.sim)
	br := rig.bridge(carrier)
	u := startUsage()
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		setups         []time.Duration
		toAgent, fromA atomic.Uint64
		failed         atomic.Int64
	)
	for i := range n {
		wg.Add(1)
		// Calls start 5 ms apart, as a dialer pacing 200 calls per second.
		time.Sleep(5 * time.Millisecond)
		go func() {
			defer wg.Done()
			req := testRequest(uint64(i + 1))
			req.AgentID = "ag"
			// Progress arrives from several goroutines and repeats a state
			// for each transcript line: take the first of each, under a lock.
			var pmu sync.Mutex
			var connecting time.Time
			talking := false
			req.OnProgress = func(p engine.CallProgress) {
				pmu.Lock()
				defer pmu.Unlock()
				switch {
				case p.State == "connecting agent" && connecting.IsZero():
					connecting = time.Now()
				case p.State == "talking" && !talking && !connecting.IsZero():
					talking = true
					mu.Lock()
					setups = append(setups, time.Since(connecting))
					mu.Unlock()
				}
			}
			res := br.Place(context.Background(), req)
			if res.Outcome != engine.OutcomeAnswered {
				failed.Add(1)
				b.Logf("call %d: %s: %s", i, res.Outcome, res.Reason)
			}
			toAgent.Add(res.PacketsToAgent)
			fromA.Add(res.PacketsFromAgent)
		}()
	}
	wg.Wait()
	u.report(b, n)
	rig.agent.Close()
	rig.reportRelay(b, br, n, toAgent.Load(), fromA.Load(), failed.Load())
	b.ReportMetric(float64(carrier.Lost()), "lost-from-agent")
	sort.Slice(setups, func(i, j int) bool { return setups[i] < setups[j] })
	if len(setups) > 0 {
		b.ReportMetric(float64(setups[len(setups)/2].Milliseconds()), "setup-p50-ms")
		b.ReportMetric(float64(setups[len(setups)*99/100].Milliseconds()), "setup-p99-ms")
	}
}

// BenchmarkBarePeerConnectionCalls is the baseline: n pion PeerConnection
// pairs (same API settings, signaling in memory) each sending 50 packets
// per second both ways for the talk time.
func BenchmarkBarePeerConnectionCalls(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pairs=%d", n), func(b *testing.B) {
			for range b.N {
				benchBare(b, n)
			}
		})
	}
}

func benchBare(b *testing.B, n int) {
	talk := benchTalk()
	api, err := newAPI(NetOptions{Loopback: true})
	if err != nil {
		b.Fatal(err)
	}
	u := startUsage()
	var wg sync.WaitGroup
	var sent, got atomic.Uint64
	for range n {
		wg.Add(1)
		time.Sleep(5 * time.Millisecond)
		go func() {
			defer wg.Done()
			if err := barePair(api, talk, &sent, &got); err != nil {
				b.Log(err)
			}
		}()
	}
	wg.Wait()
	u.report(b, n)
	b.ReportMetric(float64(int64(sent.Load())-int64(got.Load())), "lost")
}

func barePair(api *webrtc.API, talk time.Duration, sent, got *atomic.Uint64) error {
	var pcs [2]*webrtc.PeerConnection
	var tracks [2]*webrtc.TrackLocalStaticRTP
	connected := make(chan struct{}, 2)
	for i := range pcs {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return err
		}
		defer pc.Close()
		pcs[i] = pc
		if tracks[i], err = webrtc.NewTrackLocalStaticRTP(pcmuCodec.RTPCodecCapability, "a", "s"); err != nil {
			return err
		}
		if _, err := pc.AddTrack(tracks[i]); err != nil {
			return err
		}
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			buf := make([]byte, 1500)
			for {
				if _, _, err := t.Read(buf); err != nil {
					return
				}
				got.Add(1)
			}
		})
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				connected <- struct{}{}
			}
		})
	}
	offer, err := pcs[0].CreateOffer(nil)
	if err != nil {
		return err
	}
	g0 := webrtc.GatheringCompletePromise(pcs[0])
	if err := pcs[0].SetLocalDescription(offer); err != nil {
		return err
	}
	<-g0
	if err := pcs[1].SetRemoteDescription(*pcs[0].LocalDescription()); err != nil {
		return err
	}
	answer, err := pcs[1].CreateAnswer(nil)
	if err != nil {
		return err
	}
	g1 := webrtc.GatheringCompletePromise(pcs[1])
	if err := pcs[1].SetLocalDescription(answer); err != nil {
		return err
	}
	<-g1
	if err := pcs[0].SetRemoteDescription(*pcs[1].LocalDescription()); err != nil {
		return err
	}
	for range 2 {
		select {
		case <-connected:
		case <-time.After(time.Minute):
			return errors.New("pair did not connect")
		}
	}
	var wg sync.WaitGroup
	for _, t := range tracks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pkt := rtp.Packet{Header: rtp.Header{Version: 2}, Payload: make([]byte, frameSamples)}
			end, next := time.Now().Add(talk), time.Now()
			for time.Now().Before(end) {
				if err := t.WriteRTP(&pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
					return
				}
				sent.Add(1)
				pkt.SequenceNumber++
				pkt.Timestamp += frameSamples
				next = next.Add(frameDuration)
				time.Sleep(time.Until(next))
			}
		}()
	}
	wg.Wait()
	return nil
}
