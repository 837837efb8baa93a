package storage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

const benchBatch = 10_000

// benchBatchLeads returns a reusable batch of realistic leads (5 columns).
// InsertLeads only reads them (and sets ID), so one batch serves every tx.
func benchBatchLeads(seed int, mix bool) []*engine.Lead {
	out := make([]*engine.Lead, benchBatch)
	for i := range out {
		n := seed*benchBatch + i
		phone := "+1415" + fmt.Sprintf("%07d", n%10_000_000)
		l := &engine.Lead{Phone: phone, Status: engine.LeadPending, TZGroup: uint16(n / 2 % 4),
			Values: []string{phone, "First" + strconv.Itoa(n), "Acme Corp", "Health", "2026-05-28"}}
		if mix && n%2 == 1 {
			// Half the campaign is waiting for a retry hours away: not due.
			l.Status, l.Disposition, l.Attempts = engine.LeadRetry, engine.DispNoAnswer, 1
			l.LastAt = t0.Add(-time.Hour)
			l.NextAt = t0.Add(time.Hour + time.Duration(n)*time.Second)
		}
		out[i] = l
	}
	return out
}

// peakRSSMB is the process's high-water resident set (VmHWM), in MiB.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func BenchmarkInsertLeads(b *testing.B) {
	const total = 1_000_000
	batch := benchBatchLeads(0, false)
	var elapsed time.Duration
	var fileSize int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("insert%d.db", i)), Options{})
		if err != nil {
			b.Fatal(err)
		}
		cid := newCampaign(b, s, "bench")
		b.StartTimer()
		start := time.Now()
		for n := 0; n < total; n += benchBatch {
			if err := s.Update(func(tx engine.Tx) error { return tx.InsertLeads(cid, batch) }); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		b.StopTimer()
		fileSize = s.Stats().FileSize
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "leads/s")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MiB")
	b.ReportMetric(float64(fileSize)/(1<<20), "file-MiB")
}

// Fixtures shared by the Due and Counters benchmarks, built once per process.
var (
	benchMu       sync.Mutex
	benchDir      string
	benchFixtures = map[int]*benchFixture{}
)

type benchFixture struct {
	s   *Store
	cid uint64
}

func fixture(b *testing.B, n int) *benchFixture {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if f := benchFixtures[n]; f != nil {
		return f
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "dialdeck-storage-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	s, err := Open(filepath.Join(benchDir, fmt.Sprintf("due%d.db", n)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	cid := newCampaign(b, s, "bench")
	for seed := 0; seed*benchBatch < n; seed++ {
		batch := benchBatchLeads(seed, true)
		if rest := n - seed*benchBatch; rest < benchBatch {
			batch = batch[:rest]
		}
		if err := s.Update(func(tx engine.Tx) error { return tx.InsertLeads(cid, batch) }); err != nil {
			b.Fatal(err)
		}
	}
	f := &benchFixture{s: s, cid: cid}
	benchFixtures[n] = f
	return f
}

func cleanupBenchFixtures() {
	for _, f := range benchFixtures {
		f.s.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
}

// BenchmarkDue100 selects 100 due leads of one tz group in a campaign where
// half the leads are due and half wait for a retry later: "scan" is the read
// alone, "claim" the dialer's write tx (Due + PutLead to dialing, fsync'd).
// The cost must not grow with the campaign's size.
func BenchmarkDue100(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		name := fmt.Sprintf("leads=%dk", n/1000)
		b.Run(name+"/scan", func(b *testing.B) {
			f := fixture(b, n)
			ids := make([]uint64, 0, 100)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ids = ids[:0]
				err := f.s.View(func(tx engine.Tx) error {
					return tx.Due(f.cid, uint16(i%4), t0, func(lid uint64, _ time.Time) bool {
						ids = append(ids, lid)
						return len(ids) < 100
					})
				})
				if err != nil || len(ids) != 100 {
					b.Fatalf("due %d: %v", len(ids), err)
				}
			}
		})
		b.Run(name+"/claim", func(b *testing.B) { benchClaim(b, fixture(b, n)) })
		// Same without fsync: the CPU part of a claim (fsync dominates).
		b.Run(name+"/claim-nosync", func(b *testing.B) {
			f := fixture(b, n)
			f.s.db.NoSync = true
			defer func() { f.s.db.NoSync = false }()
			benchClaim(b, f)
		})
	}
}

func benchClaim(b *testing.B, f *benchFixture) {
	claimed := make([]*engine.Lead, 0, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		claimed = claimed[:0]
		err := f.s.Update(func(tx engine.Tx) error {
			var ids []uint64
			if err := tx.Due(f.cid, uint16(i%4), t0, func(lid uint64, _ time.Time) bool {
				ids = append(ids, lid)
				return len(ids) < 100
			}); err != nil {
				return err
			}
			for _, lid := range ids {
				l, err := tx.Lead(f.cid, lid)
				if err != nil {
					return err
				}
				l.Status, l.Attempts, l.LastAt, l.NextAt = engine.LeadDialing, l.Attempts+1, t0, time.Time{}
				if err := tx.PutLead(f.cid, l); err != nil {
					return err
				}
				claimed = append(claimed, l)
			}
			return nil
		})
		if err != nil || len(claimed) != 100 {
			b.Fatalf("claimed %d: %v", len(claimed), err)
		}
		// Put them back (due again) so the due pool stays the same size.
		b.StopTimer()
		err = f.s.Update(func(tx engine.Tx) error {
			for _, l := range claimed {
				l.Status, l.Disposition, l.NextAt = engine.LeadRetry, engine.DispBusy, t0.Add(-time.Minute)
				if err := tx.PutLead(f.cid, l); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkCounters(b *testing.B) {
	f := fixture(b, 10_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := f.s.View(func(tx engine.Tx) error {
			_, err := tx.Counters(f.cid)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
