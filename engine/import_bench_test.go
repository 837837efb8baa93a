package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/storage"
)

const impBenchRows = 1_000_000

var impUSAreas = []string{"212", "312", "415", "617", "646"}

// impUSExchanges are the assignable US exchanges 200-999 (no N11).
var impUSExchanges = func() (out []int) {
	for x := 200; x <= 999; x++ {
		if x%100 != 11 {
			out = append(out, x)
		}
	}
	return out
}()

// impBenchPhone is row i's phone as a person might have typed it: a third
// US numbers (always with +1, four ways), the rest Indian in E.164 or
// national formats (five ways). Every 100th row is invalid and every 100th
// (another offset) repeats the number of the row 51 back, written its own
// way: 1% invalid, 1% duplicates.
func impBenchPhone(i int) string {
	form, n := i, i
	switch {
	case i%100 == 37:
		return [...]string{"12345", "n/a", "+999123456", "9.19876E+11"}[i/100%4]
	case i%100 == 71 && i > 100:
		n = i - 51 // same country (51%3 == 0), different format
	}
	if n%3 == 0 {
		j := n / 3
		l := len(impUSExchanges)
		area, exch, line := impUSAreas[j%5], impUSExchanges[(j/5)%l], (j/(5*l))%10000
		switch form % 4 {
		case 0:
			return fmt.Sprintf("+1%s%03d%04d", area, exch, line)
		case 1:
			return fmt.Sprintf("+1 (%s) %03d-%04d", area, exch, line)
		case 2:
			return fmt.Sprintf("+1-%s-%03d-%04d", area, exch, line)
		default:
			return fmt.Sprintf("+1 %s.%03d.%04d", area, exch, line)
		}
	}
	s := strconv.Itoa(9000000000 + n) // Indian mobile numbers 90000 00000 and up
	switch form % 5 {
	case 0:
		return "+91" + s
	case 1:
		return "+91 " + s[:5] + " " + s[5:]
	case 2:
		return "0" + s[:5] + " " + s[5:]
	case 3:
		return s[:5] + "-" + s[5:]
	default:
		return "(" + s[:5] + ") " + s[5:]
	}
}

// impWriteBenchCSV writes the n-row lead list: phone plus 5 variables.
func impWriteBenchCSV(tb testing.TB, w io.Writer, n int) {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("phone,first_name,company,policy_type,renewal_date,premium\n")
	policies := []string{"Health", "Life", "Auto", "Home"}
	for i := range n {
		fmt.Fprintf(bw, "%s,Name%d,\"Acme %d, Ltd\",%s,2026-%02d-%02d,%d\n",
			impBenchPhone(i), i, i%97, policies[i%4], 1+i%12, 1+i%28, 500+i%20000)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// impBenchFile generates the 1M-row CSV in dir.
func impBenchFile(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "leads-1m.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	impWriteBenchCSV(tb, f, impBenchRows)
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// impBenchEngine is an engine on a fresh bbolt file with no pacing limit
// (the claim benchmark measures storage, not the calls-per-second gate).
func impBenchEngine(tb testing.TB, dir string, placer engine.CallPlacer, clock engine.Clock, orgMax int) (*engine.Engine, *storage.Store) {
	tb.Helper()
	st, err := storage.Open(filepath.Join(dir, "bench.db"), storage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	e, err := engine.New(engine.Options{
		Store: st, Placer: placer, Clock: clock,
		Agents:           []engine.Agent{{ID: "a", Prompt: "Hi {{first_name}} from {{company}} about {{policy_type}}", WelcomeMessage: "Hello {{ first_name }}"}},
		Numbers:          []engine.Number{{ID: "n", CallerID: "+14155550100"}},
		OrgMaxConcurrent: orgMax,
	})
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	return e, st
}

// impAlwaysOpen is a campaign whose window never closes and whose busy
// leads are due again at once, so a benchmark can claim indefinitely.
func impAlwaysOpen(name string, maxConc int) engine.CampaignSpec {
	return engine.CampaignSpec{
		Name: name, AgentID: "a", PhoneNumberID: "n", MaxConcurrent: maxConc, DefaultRegion: "IN",
		Schedule:    engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "00:00", WindowEnd: "24:00", Weekdays: []int{1, 2, 3, 4, 5, 6, 7}},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: 1 << 30, BackoffMinutes: 0, RetryOn: []string{"busy"}},
	}
}

// impPeakRSSMiB is the process's resident high-water mark (VmHWM) in MiB.
func impPeakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// impChildResult is what the import child process reports.
type impChildResult struct {
	Seconds   float64 `json:"seconds"`
	Imported  int     `json:"imported"`
	Dups      int     `json:"duplicates"`
	Invalid   int     `json:"invalid"`
	PeakRSS   float64 `json:"peakRSSMiB"`
	BaseRSS   float64 `json:"baseRSSMiB"`
	GoMaxProc int     `json:"gomaxprocs"`
}

// The import child's CSV path and database directory.
const (
	impChildEnv   = "DIALDECK_IMP_IMPORT_CSV"
	impChildDBEnv = "DIALDECK_IMP_IMPORT_DB"
)

// TestImpImportChild is not a test: BenchmarkImport1M/import re-executes the
// test binary to run one import in a process of its own, so the peak RSS it
// reports belongs to the import alone.
func TestImpImportChild(t *testing.T) {
	arg := os.Getenv(impChildEnv)
	if arg == "" {
		t.Skip("helper process for BenchmarkImport1M")
	}
	csvPath, dir := arg, os.Getenv(impChildDBEnv)
	base := impPeakRSSMiB()
	e, st := impBenchEngine(t, dir, impBusyPlacer{}, engine.NewFakeClock(impStart), 100)
	defer st.Close()
	c, err := e.CreateCampaign(impAlwaysOpen("import", 100))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	sum, err := e.ImportLeads(c.Name, f, engine.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := impChildResult{Seconds: time.Since(start).Seconds(), Imported: sum.Imported, Dups: sum.Duplicates,
		Invalid: sum.Invalid, PeakRSS: impPeakRSSMiB(), BaseRSS: base, GoMaxProc: runtime.GOMAXPROCS(0)}
	out, _ := json.Marshal(res)
	fmt.Printf("IMPCHILD %s\n", out)
}

func BenchmarkImport1M(b *testing.B) {
	dir := b.TempDir()
	path := impBenchFile(b, dir)
	var baseRate float64

	b.Run("baseline", func(b *testing.B) {
		// Reading the CSV and normalising every phone on all cores is the
		// floor an import can not beat; it stores nothing.
		workers := runtime.GOMAXPROCS(0)
		var valid int
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := engine.NewCSVReader(f, engine.CSVOptions{})
			if err != nil {
				b.Fatal(err)
			}
			batches := make(chan []string, workers*2)
			var wg sync.WaitGroup
			var mu sync.Mutex
			valid = 0
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n := 0
					for phones := range batches {
						for _, p := range phones {
							if _, _, err := engine.NormalizePhone(p, "IN"); err == nil {
								n++
							}
						}
					}
					mu.Lock()
					valid += n
					mu.Unlock()
				}()
			}
			batch := make([]string, 0, 1000)
			for {
				rec, _, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				batch = append(batch, rec[0])
				if len(batch) == cap(batch) {
					batches <- batch
					batch = make([]string, 0, 1000)
				}
			}
			batches <- batch
			close(batches)
			wg.Wait()
			f.Close()
		}
		b.ReportMetric(float64(impBenchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(valid), "valid")
		baseRate = float64(impBenchRows) * float64(b.N) / b.Elapsed().Seconds()
	})

	b.Run("import", func(b *testing.B) {
		// Each import runs in a child process (the test binary again) on a
		// fresh bbolt file, so its peak RSS is its own.
		var secs, rss float64
		var last impChildResult
		for b.Loop() {
			dbDir, err := os.MkdirTemp(dir, "db")
			if err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestImpImportChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), impChildEnv+"="+path, impChildDBEnv+"="+dbDir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("import child: %v\n%s", err, out)
			}
			_, js, ok := strings.Cut(string(out), "IMPCHILD ")
			if !ok {
				b.Fatalf("import child said nothing:\n%s", out)
			}
			js, _, _ = strings.Cut(js, "\n")
			if err := json.Unmarshal([]byte(js), &last); err != nil {
				b.Fatalf("import child: %v: %s", err, js)
			}
			secs += last.Seconds
			rss = max(rss, last.PeakRSS)
			os.RemoveAll(dbDir)
		}
		b.ReportMetric(float64(impBenchRows)*float64(b.N)/secs, "rows/s")
		b.ReportMetric(rss, "peakRSS-MiB")
		b.ReportMetric(float64(last.Imported), "imported")
		b.ReportMetric(float64(last.Dups), "duplicates")
		b.ReportMetric(float64(last.Invalid), "invalid")
		if baseRate > 0 {
			b.Logf("import %.0f rows/s vs baseline %.0f rows/s: ratio import/baseline = %.2f; peak RSS %.1f MiB (child process, VmHWM; %.1f MiB before the import)",
				float64(impBenchRows)*float64(b.N)/secs, baseRate, float64(impBenchRows)*float64(b.N)/secs/baseRate, rss, last.BaseRSS)
		}
	})
}

// impHoldPlacer holds every call until released (or hung up).
type impHoldPlacer struct {
	release chan struct{}
}

func (p *impHoldPlacer) Place(ctx context.Context, _ engine.CallRequest) engine.CallResult {
	select {
	case <-p.release:
	case <-ctx.Done():
	}
	return engine.CallResult{Outcome: engine.OutcomeBusy}
}

// impFillCampaign stores n pending leads (5 variables each) and their phone
// index straight through the store, as a finished import leaves them, and
// starts the campaign. Phone parsing is skipped: it is what makes a real
// 1M import take seconds, and BenchmarkImport1M measures it.
func impFillCampaign(b *testing.B, e *engine.Engine, st *storage.Store, name string, n int) *engine.Campaign {
	b.Helper()
	c, err := e.CreateCampaign(impAlwaysOpen(name, 100))
	if err != nil {
		b.Fatal(err)
	}
	cols := []string{"phone", "first_name", "company", "policy_type", "renewal_date", "premium"}
	phones := make([]engine.PhoneEntry, 0, n)
	for start := 0; start < n; start += 10_000 {
		batch := make([]*engine.Lead, 0, 10_000)
		for i := start; i < min(start+10_000, n); i++ {
			p := "+91" + strconv.Itoa(9000000000+i)
			batch = append(batch, &engine.Lead{Phone: p, Status: engine.LeadPending,
				Values: []string{p, "Name" + strconv.Itoa(i), "Acme", "Health", "2026-05-28", "12450"}})
		}
		err := st.Update(func(tx engine.Tx) error {
			cur, err := tx.Campaign(c.ID)
			if err != nil {
				return err
			}
			cur.Columns, cur.PhoneColumn, cur.TZGroups = cols, 0, [][]string{nil}
			if err := tx.PutCampaign(cur); err != nil {
				return err
			}
			return tx.InsertLeads(c.ID, batch)
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
		if err := st.Update(func(tx engine.Tx) error { return tx.PutPhones(c.ID, phones[i:min(i+100_000, len(phones))]) }); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Start(c.Name); err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkClaim100(b *testing.B) {
	var perClaim = map[int]float64{}
	for _, size := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("leads=%d", size), func(b *testing.B) {
			placer := &impHoldPlacer{release: make(chan struct{})}
			e, st := impBenchEngine(b, b.TempDir(), placer, engine.NewFakeClock(impStart), 100)
			defer st.Close()
			defer e.Shutdown()
			c := impFillCampaign(b, e, st, "claim", size)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if err := e.Tick(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := e.ActiveCount(c.ID); got != 100 {
					b.Fatalf("tick claimed %d leads; want 100", got)
				}
				// Release the calls: each records busy and its lead is due
				// again at once (backoff 0), behind the pending ones.
				for range 100 {
					placer.release <- struct{}{}
				}
				e.WaitCalls()
				b.StartTimer()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			perClaim[size] = ns
			b.ReportMetric(ns/100, "ns/lead")
			b.ReportMetric(ns/1e6, "ms/claim")
		})
	}
	if perClaim[10_000] > 0 && perClaim[1_000_000] > 0 {
		b.Logf("claim of 100: %.3f ms at 10k leads, %.3f ms at 1M leads; ratio 1M/10k = %.2f",
			perClaim[10_000]/1e6, perClaim[1_000_000]/1e6, perClaim[1_000_000]/perClaim[10_000])
	}
}

func BenchmarkReport1M(b *testing.B) {
	e, st := impBenchEngine(b, b.TempDir(), impBusyPlacer{}, engine.NewFakeClock(impStart), 100)
	defer st.Close()
	defer e.Shutdown()
	empty, err := e.CreateCampaign(impAlwaysOpen("empty", 100))
	if err != nil {
		b.Fatal(err)
	}
	full := impFillCampaign(b, e, st, "full", 1_000_000)
	var ns = map[string]float64{}
	for _, tc := range []struct {
		name  string
		c     *engine.Campaign
		leads uint64
	}{{"baseline-empty", empty, 0}, {"leads=1000000", full, 1_000_000}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				r, err := e.Report(tc.c.Name)
				if err != nil || r.Leads != tc.leads {
					b.Fatalf("report = %+v, %v; want %d leads", r, err, tc.leads)
				}
			}
			ns[tc.name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
	}
	if ns["baseline-empty"] > 0 {
		b.Logf("report: %.1f µs empty, %.1f µs at 1M leads; ratio 1M/empty = %.2f",
			ns["baseline-empty"]/1e3, ns["leads=1000000"]/1e3, ns["leads=1000000"]/ns["baseline-empty"])
	}
}
