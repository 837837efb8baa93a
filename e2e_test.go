package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNewUserWalkthrough follows a new user from config check to export:
// the spec's create body and CSV, the demo leads, a headless run to the end,
// the report, the export and the database check.
func TestNewUserWalkthrough(t *testing.T) {
	w := newWorkdir(t)

	// config check prints a summary of what it read.
	out := w.ok("config", "check", "dialdeck.toml")
	for _, want := range []string{"agent_xxx", "pn_xxx", "tick every 200ms", "up to 20 concurrent calls", "config ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check summary lacks %q:\n%s", want, out)
		}
	}

	// The spec's body creates a draft and prints its id.
	spec := w.create("spec.json", specBody)

	// Mistakes in the body are refused, naming the field.
	for _, tc := range []struct {
		name, old, new string
		wants          []string
	}{
		{"unknown field", `"maxConcurrent"`, `"maxConcurent"`, []string{`unknown field "maxConcurent"`}},
		{"unknown agent", `"agent_xxx"`, `"agent_nope"`, []string{"agentId", "agent_nope"}},
		{"bad timezone", `"Asia/Kolkata"`, `"Asia/Mumbai_Nowhere"`, []string{"schedule.timezone", "Asia/Mumbai_Nowhere"}},
		{"hour 25", `"18:00"`, `"25:00"`, []string{"schedule.windowEnd", "25:00"}},
		{"weekday 8", `[1, 2, 3, 4, 5]`, `[1, 2, 8]`, []string{"schedule.weekdays", "8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(specBody, tc.old) {
				t.Fatalf("spec body has no %s", tc.old)
			}
			w.write("bad.json", strings.Replace(specBody, tc.old, tc.new, 1))
			w.fails(1, tc.wants, "campaign", "create", "-f", "bad.json")
		})
	}

	// The spec's CSV example: one Indian number.
	type importSummary struct {
		Imported         *int              `json:"imported"`
		Duplicates       *int              `json:"duplicates"`
		Invalid          *int              `json:"invalid"`
		DNCMatches       *int              `json:"dncMatches"`
		Errors           []json.RawMessage `json:"errors"`
		Variables        []string          `json:"variables"`
		MissingVariables []string          `json:"missingVariables"`
	}
	checkImport := func(s importSummary, imported int) {
		t.Helper()
		if s.Imported == nil || s.Duplicates == nil || s.Invalid == nil || s.DNCMatches == nil || s.Errors == nil || s.Variables == nil || s.MissingVariables == nil {
			t.Fatalf("import summary lacks a field: %+v", s)
		}
		if *s.Imported != imported || *s.Duplicates != 0 || *s.Invalid != 0 || *s.DNCMatches != 0 || len(s.Errors) != 0 {
			t.Errorf("import: imported %d duplicates %d invalid %d dnc %d errors %d; want %d imported and nothing else",
				*s.Imported, *s.Duplicates, *s.Invalid, *s.DNCMatches, len(s.Errors), imported)
		}
		want := []string{"first_name", "company", "policy_type", "renewal_date", "premium"}
		if strings.Join(s.Variables, ",") != strings.Join(want, ",") {
			t.Errorf("variables %v, want %v", s.Variables, want)
		}
		if len(s.MissingVariables) != 0 {
			t.Errorf("missingVariables %v: the agent prompt only uses columns the CSV has", s.MissingVariables)
		}
	}
	w.write("leads.csv", specCSV)
	var s1 importSummary
	w.okJSON(&s1, "leads", "import", spec, "leads.csv", "--region", "IN", "--json")
	checkImport(s1, 1)

	// The demo leads into a second campaign that may dial at any hour.
	demo := w.create("demo.json", allDayBody("US demo", 5, "no_answer", "busy"))
	var s2 importSummary
	w.okJSON(&s2, "leads", "import", demo, filepath.Join(mustAbs(t, "examples"), "leads.csv"), "--region", "US", "--json")
	checkImport(s2, 20)

	var list []struct {
		ID    uint64 `json:"id"`
		Name  string `json:"name"`
		State string `json:"state"`
	}
	w.okJSON(&list, "campaign", "list", "--json")
	if len(list) != 2 || list[0].Name != "Q2 Renewals — Mumbai" || list[0].State != "draft" || list[1].Name != "US demo" {
		t.Fatalf("campaign list: %+v, want the two drafts", list)
	}

	out = w.ok("campaign", "start", demo)
	if !strings.Contains(out, "running") {
		t.Errorf("campaign start says %q, want it to say running", out)
	}

	r := w.runTimeout(60*time.Second, "run", "--headless", "--exit-when-done")
	if r.code != 0 {
		t.Fatalf("run --headless --exit-when-done:\n%s", r)
	}

	var rep reportJSON
	w.okJSON(&rep, "report", demo, "--json")
	var raw map[string]json.RawMessage
	w.okJSON(&raw, "report", demo, "--json")
	for _, k := range []string{"leads", "byStatus", "byDisposition", "attempts", "active", "state"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report --json lacks %q", k)
		}
	}
	if rep.Leads != 20 {
		t.Errorf("report: %d leads, want 20", rep.Leads)
	}
	if rep.ByStatus["done"] != rep.Leads && rep.State != "completed" {
		t.Errorf("after the run: state %s, byStatus %v: want every lead done or the campaign completed", rep.State, rep.ByStatus)
	}
	if rep.Attempts < rep.Leads || rep.Active != 0 {
		t.Errorf("report: %d attempts, %d active; want >= %d attempts and none active", rep.Attempts, rep.Active, rep.Leads)
	}
	// Every answered call crossed a real WebRTC session to the sim agent:
	// audio both ways, a transcript naming the lead, the agent's analysis.
	var atts []struct {
		Outcome          string `json:"outcome"`
		Reason           string `json:"reason"`
		PacketsToAgent   uint64 `json:"packetsToAgent"`
		PacketsFromAgent uint64 `json:"packetsFromAgent"`
		Transcript       []struct {
			Speaker string `json:"speaker"`
			Text    string `json:"text"`
		} `json:"transcript"`
		Analysis *struct {
			NextAction string `json:"nextAction"`
		} `json:"analysis"`
	}
	w.okJSON(&atts, "attempts", demo, "--json")
	answered := 0
	for _, a := range atts {
		if a.Outcome != "answered" {
			continue
		}
		answered++
		if a.PacketsToAgent == 0 || a.PacketsFromAgent == 0 || len(a.Transcript) == 0 || a.Analysis == nil || a.Analysis.NextAction == "" {
			t.Errorf("answered attempt without audio both ways, transcript and analysis: %+v", a)
		} else if a.Transcript[0].Speaker != "agent" || !strings.HasPrefix(a.Transcript[0].Text, "Hi ") {
			t.Errorf("the agent's first line is %+v, want the rendered welcome", a.Transcript[0])
		}
	}
	if answered == 0 {
		t.Errorf("no answered call among %d attempts", len(atts))
	}
	var dispSum uint64
	for d, n := range rep.ByDisposition {
		if !knownDispositions[d] {
			t.Errorf("unknown disposition %q in report", d)
		}
		dispSum += n
	}
	if dispSum != rep.Leads {
		t.Errorf("byDisposition adds up to %d, want one per lead (%d): %v", dispSum, rep.Leads, rep.ByDisposition)
	}

	// The export has one row per lead with its status and disposition.
	rows, err := csv.NewReader(strings.NewReader(w.ok("export", demo))).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	if len(rows) != 21 {
		t.Fatalf("export: %d rows, want a header and 20 leads", len(rows))
	}
	col := columns(t, rows[0], "phone", "status", "disposition")
	for _, row := range rows[1:] {
		if row[col["status"]] != "done" || !knownDispositions[row[col["disposition"]]] {
			t.Errorf("export row for %s: status %q disposition %q", row[col["phone"]], row[col["status"]], row[col["disposition"]])
		}
	}

	if out := w.ok("db", "check"); !strings.Contains(out, "ok") {
		t.Errorf("db check: %s", out)
	}

	// A completed campaign cannot be paused; the refusal says why and what is allowed.
	w.fails(1, []string{"completed", "allows", "delete"}, "campaign", "pause", demo)
	// The spec campaign was never started: still a draft with its lead.
	var specRep reportJSON
	w.okJSON(&specRep, "report", spec, "--json")
	if specRep.State != "draft" || specRep.Leads != 1 || specRep.Attempts != 0 {
		t.Errorf("spec campaign: state %s leads %d attempts %d, want an undialed draft with 1 lead", specRep.State, specRep.Leads, specRep.Attempts)
	}

	// Usage mistakes exit 2.
	w.fails(2, []string{"unknown command"}, "frobnicate")
	w.fails(2, []string{"-bogus"}, "report", demo, "--bogus")
}

// TestDatabaseLocked: a second dialdeck fails fast, naming the database,
// while the engine holds it.
func TestDatabaseLocked(t *testing.T) {
	w := newWorkdir(t)
	id := w.create("demo.json", allDayBody("locked", 1))
	eng := startEngine(t, w)
	eng.waitLine(t, 10*time.Second, func(l string) bool { return strings.Contains(l, "dialdeck engine running") })

	start := time.Now()
	// runTimeout fails the test if the command is still waiting after 5 s.
	r := w.runTimeout(5*time.Second, "report", id)
	t.Logf("locked report returned after %s", time.Since(start).Round(time.Millisecond))
	db := w.path("dialdeck.db")
	want := "database " + db + " is in use by another dialdeck process"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("report while the engine runs: want exit 1 and %q\n%s", want, r)
	}
	eng.kill(t)
}

// TestConfigErrors: each kind of config mistake is reported at its place in
// the file, naming the key.
func TestConfigErrors(t *testing.T) {
	w := newWorkdir(t)
	for _, tc := range []struct {
		name, old, new string
		wants          []string
	}{
		{"unknown key", `tick_interval = "200ms"`, `tick_intervall = "200ms"`,
			[]string{"dialdeck.toml:5:1:", "engine.tick_intervall", "unknown key", `"tick_interval"`}},
		{"type error", `max_concurrent_calls = 20`, `max_concurrent_calls = "twenty"`,
			[]string{"dialdeck.toml:11:24:", "org.max_concurrent_calls"}},
		{"unset variable", `secret = "e2e-secret"`, `secret = "${DIALDECK_TEST_SURELY_UNSET}"`,
			[]string{"dialdeck.toml:", "webhooks.secret", "DIALDECK_TEST_SURELY_UNSET", "not set"}},
		{"number on an undefined trunk", `carrier = "sim"`, `carrier = "sip:telnyx"`,
			[]string{"dialdeck.toml:32:11:", "numbers[0].carrier", `unknown carrier "sip:telnyx"`, `add a [[carriers.sip]] with id = "telnyx"`}},
		{"trunk without a port", `[webhooks]`, "[[carriers.sip]]\nid = \"pbx\"\ntrunk = \"pbx.example.com\"\n[webhooks]",
			[]string{"dialdeck.toml:50:9:", "carriers.sip[0].trunk", `write "pbx.example.com:5060"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "e2e.toml"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("testdata/e2e.toml has no %q", tc.old)
			}
			w.write("dialdeck.toml", strings.Replace(string(data), tc.old, tc.new, 1))
			w.fails(1, tc.wants, "config", "check", "dialdeck.toml")
		})
	}
}

func columns(t *testing.T, header []string, names ...string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for i, h := range header {
		m[h] = i
	}
	for _, n := range names {
		if _, ok := m[n]; !ok {
			t.Fatalf("CSV header %v lacks %q", header, n)
		}
	}
	return m
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSimulateSpecCampaign dry-runs the spec campaign (Asia/Kolkata,
// 10:00-18:00, Mon-Fri) from a Monday 09:00 IST: every attempt falls inside
// the window on a weekday, and the real database is left untouched.
func TestSimulateSpecCampaign(t *testing.T) {
	const leads = 50
	w := newWorkdir(t)
	id := w.create("spec.json", specBody)
	var b strings.Builder
	b.WriteString("phone,first_name,company,policy_type,renewal_date,premium\n")
	for i := range leads {
		fmt.Fprintf(&b, "+9198765%05d,Lead%d,Acme,Health,2026-05-28,%d\n", i, i, 10000+i)
	}
	w.write("leads.csv", b.String())
	w.ok("leads", "import", id, "leads.csv", "--region", "IN")

	reportBefore := w.ok("report", id, "--json")
	dbBefore, err := os.ReadFile(w.path("dialdeck.db"))
	if err != nil {
		t.Fatal(err)
	}

	var res struct {
		Finished bool `json:"finished"`
		Report   struct {
			Leads    uint64            `json:"leads"`
			ByStatus map[string]uint64 `json:"byStatus"`
		} `json:"report"`
		Attempts []struct {
			LeadID uint64    `json:"leadId"`
			At     time.Time `json:"at"`
		} `json:"attempts"`
	}
	out := w.runTimeout(60*time.Second, "simulate", id, "--from", "2026-12-07T09:00:00+05:30", "--json")
	if out.code != 0 {
		t.Fatalf("simulate:\n%s", out)
	}
	if err := jsonUnmarshal(out.stdout, &res); err != nil {
		t.Fatalf("simulate --json: %v\n%s", err, out.stdout)
	}
	if !res.Finished || res.Report.Leads != leads || res.Report.ByStatus["done"] != leads {
		t.Errorf("simulate: finished %v, leads %d, byStatus %v; want all %d leads done", res.Finished, res.Report.Leads, res.Report.ByStatus, leads)
	}
	if len(res.Attempts) < leads {
		t.Fatalf("simulate: %d attempts for %d leads", len(res.Attempts), leads)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 7, 9, 0, 0, 0, kolkata)
	dialed := map[uint64]bool{}
	for _, a := range res.Attempts {
		dialed[a.LeadID] = true
		local := a.At.In(kolkata)
		open := time.Date(local.Year(), local.Month(), local.Day(), 10, 0, 0, 0, kolkata)
		end := time.Date(local.Year(), local.Month(), local.Day(), 18, 0, 0, 0, kolkata)
		wd := local.Weekday()
		if a.At.Before(from) || local.Before(open) || !local.Before(end) || wd == time.Saturday || wd == time.Sunday {
			t.Errorf("lead %d dialed at %s (%s): outside Mon-Fri 10:00-18:00 Asia/Kolkata", a.LeadID, local.Format(time.RFC3339), wd)
		}
	}
	if len(dialed) != leads {
		t.Errorf("simulate dialed %d distinct leads, want %d", len(dialed), leads)
	}

	// The dry run touched nothing: same bytes, same report.
	dbAfter, err := os.ReadFile(w.path("dialdeck.db"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dbBefore, dbAfter) {
		t.Error("simulate changed the real database file")
	}
	reportAfter := w.ok("report", id, "--json")
	if stripAt(reportBefore) != stripAt(reportAfter) {
		t.Errorf("report changed after simulate:\nbefore %s\nafter %s", reportBefore, reportAfter)
	}
}

// stripAt drops the report's "at" (when it was made) and window fields that
// depend on the wall clock.
func stripAt(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		k := strings.TrimSpace(l)
		if strings.HasPrefix(k, `"at":`) || strings.HasPrefix(k, `"windowOpen":`) || strings.HasPrefix(k, `"windowChangeAt":`) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
