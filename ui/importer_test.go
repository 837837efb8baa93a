package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// waitUntil runs the harness until cond holds: the import runs in a real
// goroutine, so its messages may come a little after the key.
func (h *harness) waitUntil(what string, cond func() bool) {
	h.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		if s, ok := h.m.top.(*importScreen); ok && s.run != nil && s.step == stepRunning {
			h.run(waitImport(s.run))
			continue
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("%s: not within 5s:\n%s", what, h.screen())
}

func (h *harness) importScreen() *importScreen {
	h.t.Helper()
	s, ok := h.m.top.(*importScreen)
	if !ok {
		h.t.Fatalf("the import screen is not open:\n%s", h.screen())
	}
	return s
}

func TestImportPreviewRunAndSummary(t *testing.T) {
	h := newHarness(t, Options{})
	h.selectCampaign("Demo renewals")
	h.keys("i")
	h.wantScreen("Demo renewals › import leads")
	h.wantScreen("Default region  IN") // the campaign's defaultRegion
	h.typeText("testdata/lea")
	h.keys("tab")
	h.wantScreen("CSV file        testdata/leads.csv")
	h.wantScreen("phone column: phone · variables: first_name, company, policy_type")
	h.wantScreen("☎ +919876500001")
	h.keys("enter") // to the region
	h.keys("enter") // import
	h.waitUntil("summary", func() bool { return h.importScreen().step == stepDone })
	h.wantActions("import 2 region=") // the campaign's own region is not sent
	for _, s := range []string{"imported 3 · duplicates 1 · invalid 1 · blank 1 · ragged 1 · DNC matches 0",
		"region IN (campaign defaultRegion)", "the prompt needs but the CSV lacks: renewal_date",
		"INVALID LINES (2)", `line 4      invalid phone "not a number"`, "line 8      ragged row"} {
		h.wantScreen(s)
	}
	h.wantStatus(`imported 3 leads into "Demo renewals"`)
	h.keys("j", "k", "G", "g")
	h.keys("esc")
	if h.m.top != nil {
		t.Error("summary still open after esc")
	}
}

func TestImportRegionEnteredAndProgress(t *testing.T) {
	h := newHarness(t, Options{})
	h.selectCampaign("Demo renewals")
	h.keys("i")
	h.typeText("testdata/leads.csv")
	h.keys("enter")
	h.keys("backspace", "backspace")
	h.typeText("gb")
	h.keys("enter")
	s := h.importScreen()
	h.waitUntil("summary", func() bool { return s.step == stepDone })
	if s.prog.Rows == 0 {
		t.Error("no progress reached the screen")
	}
	h.wantActions("import 2 region=GB")
	h.wantScreen("region GB (entered here)")

	// The progress bar while it runs.
	s.step, s.size, s.prog = stepRunning, 300, engine.ImportProgress{BytesRead: 150, Rows: 5, Imported: 3}
	h.wantScreen("importing  ███████████████░░░░░░░░░░░░░░░  50%  5 rows read, 3 imported")
	h.keys("esc")
	h.wantStatus("the import runs to the end")
}

func TestImportRefusalsAndErrors(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("i") // Q2 is running
	h.wantStatus(`cannot import campaign "Q2 Renewals — Mumbai": it is running`)
	h.selectCampaign("Demo renewals")
	h.keys("i", "enter")
	h.wantStatus("give the CSV file's path")
	h.typeText("testdata/nope.csv")
	h.keys("enter")
	h.wantScreen("cannot read the file")
	h.keys("enter")
	h.wantStatus("cannot import")
	h.wantActions()

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte("name,company\nA,B\n"), 0o600)
	h.keys("shift+tab", "ctrl+u")
	for range 30 {
		h.keys("backspace")
	}
	h.typeText(filepath.Join(dir, "x.csv"))
	h.keys("enter")
	h.wantScreen("no phone column found")
	h.keys("enter")
	h.wantStatus("cannot import: no phone column")
	h.keys("esc")
	h.wantStatus("import cancelled")
	if h.m.top != nil {
		t.Error("import screen still open")
	}
}

func TestImportCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"leads-a.csv", "leads-b.csv", "other.txt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("phone\n+12125550100\n"), 0o600)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	v, choices, err := completeFile(dir + "/le")
	if err != nil || v != dir+"/leads-" || strings.Join(choices, " ") != "leads-a.csv leads-b.csv" {
		t.Errorf("complete le = %q %q %v", v, choices, err)
	}
	if v, _, _ := completeFile(dir + "/s"); v != dir+"/sub/" {
		t.Errorf("complete s = %q", v)
	}
	if _, _, err := completeFile(dir + "/zz"); err == nil {
		t.Error("no match gave no error")
	}

	h := newHarness(t, Options{})
	h.selectCampaign("Demo renewals")
	h.keys("i")
	h.typeText(dir + "/le")
	h.keys("tab")
	h.wantScreen("leads-a.csv  leads-b.csv")
	h.typeText("b")
	h.keys("tab")
	h.wantScreen("phone column: phone")
}

func TestImportReadOnly(t *testing.T) {
	h := newHarness(t, Options{ReadOnly: true})
	h.selectCampaign("Demo renewals")
	h.keys("i")
	h.wantStatus("read-only")
}
