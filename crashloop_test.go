package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/media"
)

// placement is one phone leg from the sim carrier's placement log (see
// media.PlacementLogEnv).
type placement struct {
	pid, campaign, lead uint64
	attempt             int
	start, end          int64 // unix ns; end is the pid's last event when the kill cut the call off
	cut                 bool
}

// checkPlacements reads a placement log and reports every (lead, attempt)
// placed twice, every lead with two calls at once, and malformed lines. An
// unmatched start (the process was SIGKILLed mid-call) ends at the last
// event its process logged: the next process starts only after the kill,
// so no overlap across processes is hidden, and one inside the process is
// still caught.
func checkPlacements(log []byte) (calls []placement, problems []string) {
	type key struct {
		pid, campaign, lead uint64
		attempt             int
	}
	open := map[key]int{} // -> index in calls
	lastAt := map[uint64]int64{}
	placed := map[[3]uint64]int{}
	sc := bufio.NewScanner(bytes.NewReader(log))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || (f[0] != "start" && f[0] != "end") {
			problems = append(problems, fmt.Sprintf("line %d: malformed %q", n, sc.Text()))
			continue
		}
		var v [5]uint64
		bad := false
		for i := range v {
			x, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				bad = true
			}
			v[i] = x
		}
		if bad {
			problems = append(problems, fmt.Sprintf("line %d: malformed %q", n, sc.Text()))
			continue
		}
		k := key{v[0], v[1], v[2], int(v[3])}
		at := int64(v[4])
		lastAt[k.pid] = max(lastAt[k.pid], at)
		switch f[0] {
		case "start":
			id := [3]uint64{k.campaign, k.lead, uint64(k.attempt)}
			placed[id]++
			if placed[id] == 2 {
				problems = append(problems, fmt.Sprintf("campaign %d lead %d attempt %d placed twice", k.campaign, k.lead, k.attempt))
			}
			open[k] = len(calls)
			calls = append(calls, placement{pid: k.pid, campaign: k.campaign, lead: k.lead, attempt: k.attempt, start: at, end: -1})
		case "end":
			i, ok := open[k]
			if !ok {
				problems = append(problems, fmt.Sprintf("line %d: end without a start: %q", n, sc.Text()))
				continue
			}
			delete(open, k)
			calls[i].end = at
		}
	}
	for _, i := range open {
		calls[i].end, calls[i].cut = lastAt[calls[i].pid], true
	}
	byLead := map[[2]uint64][]placement{}
	for _, c := range calls {
		id := [2]uint64{c.campaign, c.lead}
		byLead[id] = append(byLead[id], c)
	}
	for id, cs := range byLead {
		sort.Slice(cs, func(i, j int) bool { return cs[i].start < cs[j].start })
		for i := 1; i < len(cs); i++ {
			if cs[i].start < cs[i-1].end {
				problems = append(problems, fmt.Sprintf("campaign %d lead %d: attempt %d started while attempt %d was live", id[0], id[1], cs[i].attempt, cs[i-1].attempt))
			}
		}
	}
	sort.Strings(problems)
	return calls, problems
}

// TestPlacementCheckerCatchesBugs feeds the checker logs with injected bugs:
// a (lead, attempt) placed twice (as when a call is placed before its
// claim commits and the claim is retried) and two overlapping calls of one
// lead; and a clean log with a call cut off by a kill.
func TestPlacementCheckerCatchesBugs(t *testing.T) {
	clean := "start 10 1 5 1 100\nend 10 1 5 1 200 busy\nstart 10 1 6 1 150\n" + // lead 6 cut off by the kill of pid 10
		"start 11 1 6 2 1000\nend 11 1 6 2 1100 answered\nstart 11 1 5 2 1050\nend 11 1 5 2 1300 no_answer\n"
	calls, problems := checkPlacements([]byte(clean))
	if len(problems) != 0 || len(calls) != 4 {
		t.Fatalf("clean log: %d calls, problems %q", len(calls), problems)
	}
	for _, c := range calls {
		if c.lead == 6 && c.attempt == 1 && (!c.cut || c.end != 200) {
			t.Fatalf("cut-off call not closed at its process's last event: %+v", c)
		}
	}
	for name, tc := range map[string]struct{ log, want string }{
		"placed twice across a crash": {"start 10 1 5 1 100\nstart 11 1 5 1 900\nend 11 1 5 1 950 busy\n", "lead 5 attempt 1 placed twice"},
		"placed twice in one run":     {"start 10 1 5 1 100\nend 10 1 5 1 200 busy\nstart 10 1 5 1 300\nend 10 1 5 1 400 busy\n", "lead 5 attempt 1 placed twice"},
		"two calls at once":           {"start 10 1 5 1 100\nstart 10 1 5 2 150\nend 10 1 5 2 180 busy\nend 10 1 5 1 200 busy\n", "lead 5: attempt 2 started while attempt 1 was live"},
		"overlap with a cut-off call": {"start 10 1 5 1 100\nstart 10 1 5 2 150\nend 10 1 5 2 180 busy\n", "started while attempt 1 was live"},
		"torn line":                   {"start 10 1 5 1 100\nend 10 1 5\n", "malformed"},
		"end without start":           {"end 10 1 5 1 100 busy\n", "end without a start"},
	} {
		_, problems := checkPlacements([]byte(tc.log))
		if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
			t.Errorf("%s: problems %q, want one mentioning %q", name, problems, tc.want)
		}
	}
}

// TestCrashLoop SIGKILLs `dialdeck run --headless` at random moments, at
// least 20 times, restarting it each time, until a campaign on the sim
// carrier and sim agent (over WebRTC) with a live webhook receiver
// completes; then checks that nothing was placed twice, no lead had two
// calls at once, attempts stayed within the policy, every attempt's
// outcome event reached the receiver and the database checks out.
func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("crash loop: about half a minute")
	}
	const leads, maxAttempts, minKills = 300, 3, 20
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	crm := newCRM(t, "e2e-secret")
	w := newWorkdir(t)
	placements := w.path("placements.log")
	t.Setenv(media.PlacementLogEnv, placements)
	body := strings.Replace(allDayBody("loop", 15, "no_answer", "busy", "failed"), "http://127.0.0.1:9/webhooks", crm.srv.URL+"/hooks", 1)
	id := w.create("loop.json", body)
	var b strings.Builder
	b.WriteString("phone,first_name,company,policy_type,renewal_date,premium\n")
	for i := range leads {
		fmt.Fprintf(&b, "+1212555%04d,Lead%d,Acme,Auto,2026-06-01,%d\n", 3000+i, i, 100+i)
	}
	w.write("loop.csv", b.String())
	w.ok("leads", "import", id, "loop.csv")
	w.ok("campaign", "start", id)

	started := time.Now()
	kills := 0
	// First, kills placed exactly where random ones rarely land (the
	// engine's test hook, engine.KillAtEnv): right before a claim commits
	// (after any call already launched for it is out at the carrier: placing
	// before the claim commits then shows up as a (lead, attempt) placed
	// twice, every time), right after it commits and before its calls
	// launch, and right when the n-th call of the process is out.
	for _, at := range []string{"precommit:1", "claim:1", "placed:1", "precommit:2", "placed:4", "claim:2", "precommit:1", "placed:9"} {
		eng := startEngineEnv(t, w, []string{engine.KillAtEnv + "=" + at})
		if !eng.killedBySIGKILL(t, 20*time.Second) {
			t.Fatalf("%s=%s: the engine was not killed by its hook; log:\n%s", engine.KillAtEnv, at, strings.Join(eng.seen, "\n"))
		}
		kills++
	}
	hooked := kills
	t.Logf("%d kills by the engine's hook in %s", hooked, time.Since(started).Round(time.Millisecond))
	for {
		var rep reportJSON
		w.okJSON(&rep, "report", id, "--json")
		done := rep.ByStatus["done"] == rep.Leads && rep.Active == 0
		if kills-hooked >= minKills && done {
			break
		}
		if kills >= 100 || time.Since(started) > 100*time.Second {
			t.Fatalf("after %d kills in %s the campaign is not done: %+v", kills, time.Since(started).Round(time.Second), rep)
		}
		eng := startEngine(t, w)
		// A random moment: from before the first tick to well into the run.
		time.Sleep(time.Duration(50+rng.IntN(1200)) * time.Millisecond)
		eng.kill(t)
		kills++
	}
	t.Logf("%d SIGKILLs in %s", kills, time.Since(started).Round(time.Millisecond))

	eng := startEngine(t, w, "--exit-when-done")
	if code := eng.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("final run exited %d; log:\n%s", code, strings.Join(eng.seen, "\n"))
	}
	if out := w.ok("db", "check"); !strings.Contains(out, "ok") {
		t.Errorf("db check after %d kills: %s", kills, out)
	}

	var rep reportJSON
	w.okJSON(&rep, "report", id, "--json")
	if rep.Leads != leads || rep.ByStatus["done"] != leads || rep.Active != 0 {
		t.Errorf("report after the loop: %+v", rep)
	}
	var atts []attempt
	w.okJSON(&atts, "attempts", id, "--json")
	perLead := map[uint64][]int{}
	recorded := map[[2]uint64]bool{}
	reconciled := 0
	for _, a := range atts {
		perLead[a.LeadID] = append(perLead[a.LeadID], a.Attempt)
		recorded[[2]uint64{a.LeadID, uint64(a.Attempt)}] = true
		if strings.Contains(a.Reason, "reconciled") {
			reconciled++
		}
	}
	if len(perLead) != leads {
		t.Errorf("%d leads have attempts, want %d", len(perLead), leads)
	}
	// Counters equal a recount made here, from the attempt records, as
	// well as db check's own recount from the leads: the report's attempt
	// total, and each done lead's disposition is its last attempt's.
	if rep.Attempts != uint64(len(atts)) {
		t.Errorf("report counts %d attempts, the attempt records %d", rep.Attempts, len(atts))
	}
	last := map[uint64]attempt{}
	for _, a := range atts {
		if a.Attempt > last[a.LeadID].Attempt {
			last[a.LeadID] = a
		}
	}
	recount := map[string]uint64{}
	for _, a := range last {
		recount[a.Disposition]++
	}
	for d, n := range rep.ByDisposition {
		if n != recount[d] {
			t.Errorf("disposition %s: counter %d, recount from the last attempts %d", d, n, recount[d])
		}
	}
	for d, n := range recount {
		if rep.ByDisposition[d] != n {
			t.Errorf("disposition %s: recount %d, counter %d", d, n, rep.ByDisposition[d])
		}
	}
	for lead, ns := range perLead {
		sort.Ints(ns)
		if len(ns) > maxAttempts {
			t.Errorf("lead %d: %d attempts %v, over maxAttempts %d", lead, len(ns), ns, maxAttempts)
		}
		for i, n := range ns {
			if n != i+1 {
				t.Errorf("lead %d: attempt numbers %v, want 1..%d", lead, ns, len(ns))
				break
			}
		}
	}

	// The carrier's view: nothing placed twice, never two calls of a lead
	// at once, and every placed call has an attempt record.
	data, err := os.ReadFile(placements)
	if err != nil {
		t.Fatal(err)
	}
	calls, problems := checkPlacements(data)
	for _, p := range problems {
		t.Error("placement log: " + p)
	}
	cut := 0
	cid, _ := strconv.ParseUint(id, 10, 64)
	for _, c := range calls {
		if c.cut {
			cut++
		}
		if c.campaign == cid && !recorded[[2]uint64{c.lead, uint64(c.attempt)}] {
			t.Errorf("lead %d attempt %d was placed but has no attempt record", c.lead, c.attempt)
		}
	}

	// Every attempt's campaign.lead_completed reached the receiver at
	// least once (distinct webhook-ids; redeliveries of one id are fine).
	got := crm.leadEvents()
	lost, extra := 0, 0
	for _, a := range atts {
		switch n := got[fmt.Sprintf("%d/%d", a.LeadID, a.Attempt)]; {
		case n == 0:
			lost++
			t.Errorf("lead %d attempt %d: no campaign.lead_completed reached the receiver", a.LeadID, a.Attempt)
		case n > 1:
			extra++
		}
	}
	crm.mu.Lock()
	dupes, badSig := crm.dupes, crm.badSig
	crm.mu.Unlock()
	if badSig > 0 {
		t.Errorf("%d deliveries had a bad signature", badSig)
	}
	t.Logf("kills %d, attempts %d (reconciled %d), calls placed %d (cut off by a kill %d), events lost %d, attempts with >1 event id %d, redeliveries %d, elapsed %s",
		kills, len(atts), reconciled, len(calls), cut, lost, extra, dupes, time.Since(started).Round(time.Millisecond))
}
