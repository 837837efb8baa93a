package media

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/storage"
)

// Resource bounds (issue 6): a 1M-lead campaign dialing 200 calls at once
// through the real bridge (sim carrier, sim agent over WebRTC on loopback)
// while its webhook receiver takes 2 s per request, so the outbox backlog
// grows the whole time. The benchmark fails when peak RSS passes the
// documented bound, or when file descriptors and goroutines do not return
// to their baseline once the calls end. Bounds, not timings: see
// docs/RELIABILITY.md.
//
// What it does not show: in a 20 s soak the engine dials ~700 of the 1M
// leads (~0.07%), so it bounds memory against live calls, the webhook
// backlog and a 1M-lead database on disk, not against a campaign run to
// the end. The database is mmapped by bbolt: its pages count in VmRSS as
// file-backed memory (RssFile), reclaimable by the kernel, as they are
// touched. The bound is therefore on RssAnon (the heap and stacks the
// process owns); VmRSS is also bounded during the soak, and measured again
// after a full scan of the 1M leads (a lead list filtered to none) so the mmap's
// share shows, but that figure is reported, not bounded.

const (
	soakLeads = 1_000_000
	soakCalls = 200
	// soakRSSBoundMiB bounds the process's peak RSS (VmRSS sampled every
	// 100 ms) during the soak: the 1M-lead database mapped in memory, both
	// ends of 200 WebRTC calls (dialer and the in-process sim agent) and
	// the engine. Measured ~260 MiB on 2 vCPUs (RELIABILITY.md): about
	// twice that is the bound.
	soakRSSBoundMiB = 512
	// soakAnonBoundMiB bounds peak RssAnon, the memory the process owns
	// (measured 215-237 MiB; about twice that).
	soakAnonBoundMiB = 448
)

func soakDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("DIALDECK_BENCH_SOAK")); err == nil && d > 0 {
		return d
	}
	return 20 * time.Second
}

// procCounts reads the process's open file descriptors, goroutines and
// memory (KiB) from /proc.
type procCounts struct {
	fds, goroutines int
	rss, anon, file int64 // VmRSS, RssAnon, RssFile+RssShmem
}

func readProc(tb testing.TB) procCounts {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatal(err)
	}
	pc := procCounts{fds: len(ents), goroutines: runtime.NumGoroutine()}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			pc.rss = v
		case "RssAnon:":
			pc.anon = v
		case "RssFile:", "RssShmem:":
			pc.file += v
		}
	}
	return pc
}

// slowReceiver is a webhook receiver on 127.0.0.1 that takes delay to
// answer every request.
func slowReceiver(tb testing.TB, delay time.Duration) (url string, got *atomic.Int64, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	got = new(atomic.Int64)
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-done:
		}
		got.Add(1)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/hooks", got, func() { close(done); srv.Close() }
}

// fillLeads stores n pending leads straight through the store, as a
// finished import leaves them (phone parsing, which BenchmarkImport1M
// measures, is skipped).
func fillLeads(b *testing.B, st *storage.Store, cid uint64, n int) {
	cols := []string{"phone", "first_name", "company"}
	phones := make([]engine.PhoneEntry, 0, n)
	for start := 0; start < n; start += 10_000 {
		batch := make([]*engine.Lead, 0, 10_000)
		for i := start; i < min(start+10_000, n); i++ {
			p := "+91" + strconv.Itoa(9000000000+i)
			batch = append(batch, &engine.Lead{Phone: p, Status: engine.LeadPending, Values: []string{p, "Name" + strconv.Itoa(i), "Acme"}})
		}
		err := st.Update(func(tx engine.Tx) error {
			c, err := tx.Campaign(cid)
			if err != nil {
				return err
			}
			c.Columns, c.PhoneColumn, c.TZGroups = cols, 0, [][]string{nil}
			if err := tx.PutCampaign(c); err != nil {
				return err
			}
			return tx.InsertLeads(cid, batch)
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range batch {
			d, _ := engine.PhoneDigits(l.Phone)
			phones = append(phones, engine.PhoneEntry{Phone: d, LeadID: l.ID})
		}
	}
	for i := 0; i < len(phones); i += 100_000 {
		if err := st.Update(func(tx engine.Tx) error { return tx.PutPhones(cid, phones[i:min(i+100_000, len(phones))]) }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResourceBounds1M(b *testing.B) {
	for range b.N {
		soak(b)
	}
}

func soak(b *testing.B) {
	dir := b.TempDir()
	hookURL, delivered, stopReceiver := slowReceiver(b, 2*time.Second)
	defer stopReceiver()
	simCfg := SimConfig{Seed: 1, Odds: SimOdds{Answered: 1}, RingMin: 100 * time.Millisecond, RingMax: 300 * time.Millisecond,
		TalkMin: 3 * time.Second, TalkMax: 5 * time.Second, Agents: map[string]AgentOdds{"ag": {Qualified: 1, NotInterested: 2}}}
	sim := NewSimPlacer(simCfg, nil)
	agent, err := StartSimAgent("127.0.0.1:0", SimAgentOptions{Sim: sim})
	if err != nil {
		b.Fatal(err)
	}
	defer agent.Close()
	// Own transports (agent signaling, webhooks), so their idle keep-alive
	// connections can be closed before counting file descriptors.
	agentTransport := http.DefaultTransport.(*http.Transport).Clone()
	agentClient := &http.Client{Transport: agentTransport}
	bridge := NewBridge(NewSimCarrier(sim), func(req engine.CallRequest) (AgentConfig, error) {
		return AgentConfig{URL: agent.URL(), Net: NetOptions{Loopback: true}, Header: SimCallHeader(req), HTTPClient: agentClient,
			AnswerTimeout: 30 * time.Second, ConnectTimeout: 30 * time.Second, FirstAudioTimeout: 30 * time.Second, MaxDuration: time.Minute}, nil
	}, nil)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	st, err := storage.Open(filepath.Join(dir, "soak.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e, err := engine.New(engine.Options{Store: st, Placer: bridge, OrgMaxConcurrent: soakCalls, TickInterval: 250 * time.Millisecond,
		Agents:         []engine.Agent{{ID: "ag", Prompt: "You are calling {{first_name}} from {{company}}.", Analysis: true}},
		Numbers:        []engine.Number{{ID: "pn", CallerID: "+14155550100", CallsPerSecond: 50}},
		WebhookTimeout: 10 * time.Second, WebhookSender: engine.HTTPSender{Client: &http.Client{Transport: transport}}})
	if err != nil {
		b.Fatal(err)
	}
	c, err := e.CreateCampaign(engine.CampaignSpec{Name: "soak", AgentID: "ag", PhoneNumberID: "pn", MaxConcurrent: soakCalls,
		Schedule:    engine.Schedule{Timezone: "UTC", WindowStart: "00:00", WindowEnd: "00:00", Weekdays: []int{1, 2, 3, 4, 5, 6, 7}},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: 1}, WebhookURL: hookURL})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	fillLeads(b, st, c.ID, soakLeads)
	fill := time.Since(t0)
	if err := e.Start(fmt.Sprint(c.ID)); err != nil {
		b.Fatal(err)
	}

	runtime.GC()
	debug.FreeOSMemory()
	base := readProc(b)
	b.ResetTimer()

	ctx, cancel := context.WithCancel(context.Background())
	var peak procCounts
	peakActive := 0
	var wg sync.WaitGroup
	wg.Add(2)
	ran := make(chan struct{})
	go func() {
		defer wg.Done()
		defer close(ran)
		e.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		for {
			p := readProc(b)
			peak.fds, peak.goroutines = max(peak.fds, p.fds), max(peak.goroutines, p.goroutines)
			peak.rss, peak.anon, peak.file = max(peak.rss, p.rss), max(peak.anon, p.anon), max(peak.file, p.file)
			peakActive = max(peakActive, e.ActiveCount(0))
			select {
			case <-ran:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	time.Sleep(soakDuration())
	cancel() // Run hangs up the live calls and returns once they are recorded
	wg.Wait()
	b.StopTimer()

	// Back to baseline: closing idle keep-alive connections is what a
	// client does after its idle timeout (90 s by default); the calls'
	// sockets and goroutines must be gone on their own.
	transport.CloseIdleConnections()
	agentTransport.CloseIdleConnections()
	var after procCounts
	for deadline := time.Now().Add(15 * time.Second); ; {
		after = readProc(b)
		if (after.fds <= base.fds && after.goroutines <= base.goroutines) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep, err := e.Report(fmt.Sprint(c.ID))
	if err != nil {
		b.Fatal(err)
	}
	soon, later, dead, err := e.WebhookBacklog(time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	pending := soon + later + dead

	// Outcomes: every call the soak placed was a healthy answered call the
	// agent ended, except the ones live at cancel, hung up by Run. A
	// failure under load (timeouts, agent or ICE errors) fails the bench.
	atts, err := e.Attempts(fmt.Sprint(c.ID), 0)
	if err != nil {
		b.Fatal(err)
	}
	answered, cut := 0, 0
	for _, a := range atts {
		switch {
		case a.Outcome == engine.OutcomeAnswered && a.Reason == "agent ended the call":
			answered++
		case a.Outcome == engine.OutcomeFailed && strings.Contains(a.Reason, "campaign stopped or dialdeck shutting down"):
			cut++
		default:
			b.Errorf("lead %d attempt %d: %s %q: a call failed under load", a.LeadID, a.Attempt, a.Outcome, a.Reason)
		}
	}
	if rep.Leads != soakLeads || uint64(len(atts)) != rep.Attempts || answered == 0 || cut > soakCalls {
		b.Fatalf("report: %d leads (want %d), %d attempts (%d listed): %d answered, %d hung up at cancel (at most %d live)",
			rep.Leads, soakLeads, rep.Attempts, len(atts), answered, cut, soakCalls)
	}

	// A full scan of the 1M leads (what an export, a filtered lead list or
	// a recount does; here the UI's filtered list, matching none) touches every page of the mmapped database: RSS grows by the
	// file-backed part, the anon part should not.
	runtime.GC()
	scanStart := time.Now()
	scannedLeads := 0
	if _, err := e.Leads(c.ID, 0, 1, func(*engine.Lead) bool { scannedLeads++; return false }); err != nil || scannedLeads != soakLeads {
		b.Fatalf("scan: %d leads, %v", scannedLeads, err)
	}
	scanTook := time.Since(scanStart)
	scanned := readProc(b)
	var dbSize int64
	if fi, err := os.Stat(filepath.Join(dir, "soak.db")); err == nil {
		dbSize = fi.Size() >> 10
	}
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	b.ReportMetric(float64(peakActive), "peak-calls")
	b.ReportMetric(float64(rep.Attempts), "attempts")
	b.ReportMetric(mib(base.rss), "base-RSS-MiB")
	b.ReportMetric(mib(peak.rss), "peak-RSS-MiB")
	b.ReportMetric(mib(peak.anon), "peak-anon-MiB")
	b.ReportMetric(mib(peak.file), "peak-file-MiB")
	b.ReportMetric(mib(scanned.rss), "scan-RSS-MiB")
	b.ReportMetric(mib(scanned.anon), "scan-anon-MiB")
	b.ReportMetric(mib(scanned.file), "scan-file-MiB")
	b.ReportMetric(float64(len(atts))/soakLeads*100, "dialed-%")
	b.ReportMetric(float64(base.fds), "base-fds")
	b.ReportMetric(float64(peak.fds), "peak-fds")
	b.ReportMetric(float64(after.fds), "after-fds")
	b.ReportMetric(float64(base.goroutines), "base-goroutines")
	b.ReportMetric(float64(peak.goroutines), "peak-goroutines")
	b.ReportMetric(float64(after.goroutines), "after-goroutines")
	b.ReportMetric(float64(pending), "webhooks-pending")
	b.Logf("1M leads stored in %s; soak %s: %d attempts, peak %d calls at once, %d webhooks delivered, %d pending (slow receiver)",
		fill.Round(time.Millisecond), soakDuration(), rep.Attempts, peakActive, delivered.Load(), pending)
	b.Logf("outcomes: %d answered and ended by the agent, %d hung up at cancel, 0 failed under load; dialed %d of %d leads (%.3f%%)",
		answered, cut, len(atts), soakLeads, float64(len(atts))/soakLeads*100)
	b.Logf("RSS %.0f MiB at baseline (1M leads stored; anon %.0f, file %.0f), peak %.0f MiB (anon %.0f MiB, bound %d; file %.0f; total bound %d): ratio peak/baseline = %.2f, anon %.2f",
		mib(base.rss), mib(base.anon), mib(base.file), mib(peak.rss), mib(peak.anon), soakAnonBoundMiB, mib(peak.file), soakRSSBoundMiB,
		float64(peak.rss)/float64(base.rss), float64(peak.anon)/float64(max(base.anon, 1)))
	b.Logf("after a full scan of the 1M leads (%s; database file %.0f MiB): RSS %.0f MiB (anon %.0f, file %.0f), not bounded",
		scanTook.Round(time.Millisecond), mib(dbSize), mib(scanned.rss), mib(scanned.anon), mib(scanned.file))
	b.Logf("fds %d -> peak %d -> %d after; goroutines %d -> peak %d -> %d after",
		base.fds, peak.fds, after.fds, base.goroutines, peak.goroutines, after.goroutines)
	if mib(peak.anon) > soakAnonBoundMiB {
		b.Fatalf("peak RssAnon %.0f MiB is over the documented bound of %d MiB", mib(peak.anon), soakAnonBoundMiB)
	}
	if mib(peak.rss) > soakRSSBoundMiB {
		b.Fatalf("peak RSS %.0f MiB is over the documented bound of %d MiB", mib(peak.rss), soakRSSBoundMiB)
	}
	if after.fds > base.fds || after.goroutines > base.goroutines {
		var stacks strings.Builder
		pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		b.Fatalf("not back to baseline after the calls ended: fds %d (baseline %d), goroutines %d (baseline %d); goroutines:\n%s",
			after.fds, base.fds, after.goroutines, base.goroutines, stacks.String())
	}
	if peakActive < soakCalls {
		b.Fatalf("only %d calls at once, want %d: the machine could not carry the load this bound is for", peakActive, soakCalls)
	}
}
