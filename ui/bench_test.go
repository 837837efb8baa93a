package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/creack/pty"

	"github.com/dialdeck/dialdeck/engine"
)

// benchMonitor is a root model at 120x40 showing the live monitor of
// campaign 1 with the data set in place (no engine reads): leads is the
// campaign's lead count, calls its active calls. As in the UI, the lead
// table holds only the visible rows.
func benchMonitor(leads uint64, calls int) *Model {
	f := newFakeEngine()
	m := New(f, Options{Now: func() time.Time { return fixedNow }, Refresh: -1})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	c, _ := f.find("1")
	cp := *c
	s := newMonitorScreen(m.sh, &cp)
	m.monitor = s
	m.layout()

	r := &engine.Report{CampaignID: 1, Name: c.Name, State: c.State, MaxConcurrent: 200, Schedule: "Mon-Fri 10:00-18:00 Asia/Kolkata",
		WindowOpen: true, ByStatus: map[engine.LeadStatus]uint64{}, ByDisposition: map[engine.Disposition]uint64{}, At: fixedNow}
	closes := fixedNow.Add(2 * time.Hour)
	r.WindowChangeAt = &closes
	d := &monitorData{campaignRow: campaignRow{c: &cp, r: r, loc: time.UTC}, cpm: f.CallsPerMinute(1),
		nextTick: fixedNow.Add(7 * time.Second), orgMax: 200}
	if leads > 0 {
		r.Leads, r.Terminal, r.Attempts, r.Active = leads, leads*41/100, leads/2, calls
		r.ByStatus[engine.LeadPending] = leads - r.Terminal - uint64(calls) - 31_000
		r.ByStatus[engine.LeadDialing] = uint64(calls)
		r.ByStatus[engine.LeadRetry] = 31_000
		r.ByStatus[engine.LeadDone] = r.Terminal
		for i, disp := range engine.Dispositions {
			r.ByDisposition[disp] = r.Terminal / uint64(len(engine.Dispositions)+i)
		}
		r.Progress = 0.41
		for i := range calls {
			d.calls = append(d.calls, engine.ActiveCall{CampaignID: 1, LeadID: uint64(500_000 + i), Attempt: 1,
				Phone: fmt.Sprintf("+9198765%05d", i), Name: "Maria", ClaimedAt: fixedNow.Add(-time.Duration(i) * time.Second),
				Progress: engine.CallProgress{State: "talking", LastLine: fmt.Sprintf("agent: Hi Maria, this is Ava from Acme about your Health policy renewal (%d).", i)}})
		}
		d.orgUsed = calls
		for i := range s.leadRows {
			id := uint64(600_001 + i)
			s.leads.rows = append(s.leads.rows, &engine.Lead{ID: id, Phone: fmt.Sprintf("+9198766%05d", i), Status: engine.LeadRetry,
				Disposition: engine.DispBusy, Attempts: 2, NextAt: fixedNow.Add(42 * time.Minute),
				Values: []string{fmt.Sprintf("+9198766%05d", i), "Priya", "Acme", "Health"}})
		}
		s.leads.after = 600_000
	}
	s.d = d
	s.calls.seen(d.calls, time.Now())
	s.leads.loaded = true
	return m
}

// BenchmarkMonitorView renders the live monitor at 120x40: a 1M-lead
// campaign with 200 active calls, beside an empty campaign's monitor.
// p50-ns is the median of the individual View calls.
func BenchmarkMonitorView(b *testing.B) {
	for _, bc := range []struct {
		name  string
		leads uint64
		calls int
	}{{"empty", 0, 0}, {"1M_leads_200_calls", 1_000_000, 200}} {
		b.Run(bc.name, func(b *testing.B) {
			m := benchMonitor(bc.leads, bc.calls)
			if bc.leads > 0 && len(m.monitor.leads.rows) == 0 {
				b.Fatal("no lead rows")
			}
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				_ = m.View()
				times = append(times, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
		})
	}
}

// liveFake is the fake engine with n live calls on campaign 1.
func liveFake(n int) *fakeEngine {
	f := newFakeEngine()
	f.calls = nil
	for i := range n {
		f.calls = append(f.calls, engine.ActiveCall{CampaignID: 1, LeadID: uint64(1000 + i), Attempt: 1,
			Phone: fmt.Sprintf("+9198765%05d", 1000+i), Name: "Maria", ClaimedAt: fixedNow.Add(-time.Duration(i) * time.Second),
			Progress: engine.CallProgress{State: "ringing"}})
	}
	return f
}

// BenchmarkTerminalBytes runs the real program with its output on a pty
// (120x40, TERM=xterm-256color, colour) showing the live monitor, sends
// engine events at the engine's 10/s, and counts the bytes the terminal
// receives per second once the screen is up. idle: no calls; 50_calls:
// 50 live calls whose state and transcript line all change every second.
func BenchmarkTerminalBytes(b *testing.B) {
	const warm, measure = time.Second, 5 * time.Second
	for _, bc := range []struct {
		name  string
		calls int
	}{{"idle", 0}, {"50_calls", 50}} {
		b.Run(bc.name, func(b *testing.B) {
			var perSec float64
			for range b.N {
				perSec = terminalBytes(b, bc.calls, warm, measure)
			}
			b.ReportMetric(perSec, "B/s")
		})
	}
}

func terminalBytes(b *testing.B, calls int, warm, measure time.Duration) float64 {
	b.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		b.Skip("no pty:", err)
	}
	defer master.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	var head bytes.Buffer // the first bytes, to check what was shown
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(countWriter{&n}, io.TeeReader(master, &limitWriter{&head, 1 << 20}))
	}()

	f := liveFake(calls)
	start := time.Now()
	now := func() time.Time { return fixedNow.Add(time.Since(start)) }
	m := New(f, Options{Now: now})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := tea.NewProgram(m, tea.WithInput(slave), tea.WithOutput(slave), tea.WithContext(ctx),
		tea.WithEnvironment(append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=", "COLORTERM=")))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.Run()
	}()
	c, _ := f.find("1")
	cp := *c
	p.Send(openMonitorMsg{c: &cp})

	// The engine: events at <= 10/s; with calls, every call changes each second.
	go func() {
		tick := time.NewTicker(MinSnapshotGap)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if calls > 0 && i%10 == 0 {
				sec := i / 10
				f.mu.Lock()
				for j := range f.calls {
					f.calls[j].Progress.State = []string{"ringing", "talking", "listening"}[(sec+j)%3]
					f.calls[j].Progress.LastLine = benchLines[(sec+j)%len(benchLines)]
				}
				f.mu.Unlock()
			}
			p.Send(EventsMsg{Events: []engine.Event{{Kind: engine.EventCampaign, CampaignID: 1}}})
		}
	}()

	time.Sleep(warm)
	b.ResetTimer()
	n0, t0 := n.Load(), time.Now()
	if os.Getenv("DIALDECK_PTY_DUMP") != "" {
		defer func() { _ = os.WriteFile(os.Getenv("DIALDECK_PTY_DUMP")+"."+strconv.Itoa(calls), head.Bytes(), 0o600) }()
	}
	time.Sleep(measure)
	got, el := n.Load()-n0, time.Since(t0)
	b.StopTimer()
	cancel()
	<-done
	slave.Close()
	master.Close()
	<-copied
	if want := fmt.Sprintf("ACTIVE CALLS (%d)", calls); !bytes.Contains(head.Bytes(), []byte(want)) {
		b.Fatalf("the terminal never showed %q", want)
	}
	return float64(got) / el.Seconds()
}

// benchLines are transcript lines the live calls cycle through: each second
// every call says a different one.
var benchLines = []string{
	"agent: Hi, this is Ava calling from Acme about your Health policy renewal.",
	"callee: Oh, right. Is this going to take long?",
	"agent: Only a minute. Your policy renews on the 14th; shall I confirm the details?",
	"callee: Sure, go ahead, but I may want to change the address on file.",
	"agent: No problem. What is the new postcode?",
	"callee: It is four zero zero zero five zero, Mumbai.",
	"agent: Thank you. And the premium stays at the same yearly amount, is that fine?",
	"callee: Can you call me back tomorrow afternoon instead?",
}

// limitWriter keeps the first max bytes written to it.
type limitWriter struct {
	b   *bytes.Buffer
	max int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }
