package ui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// typeText types s one character at a time.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.keys(string(r))
	}
}

// clearField empties the focused text input.
func (h *harness) clearField() {
	for range 60 {
		h.keys("backspace")
	}
}

func (h *harness) form() *formScreen {
	h.t.Helper()
	f, ok := h.m.top.(*formScreen)
	if !ok {
		h.t.Fatalf("the campaign form is not open:\n%s", h.screen())
	}
	return f
}

func TestFormCreatesCampaignWithEveryField(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("n")
	h.wantScreen("new campaign")
	h.wantScreen("1/3 Campaign")
	h.typeText("Spring promo")
	h.keys("enter")
	h.keys("right", "enter") // agent: the second configured one
	h.keys("enter")          // number
	h.clearField()
	h.typeText("7")
	h.keys("enter")
	h.typeText("https://hooks.example.com/dd")
	h.keys("enter")
	h.typeText("in")
	h.keys("enter")
	h.wantScreen("2/3 Schedule")
	h.wantScreen("[ ] Sun") // the whole page fits 80x24
	h.clearField()
	h.typeText("Asia/Kolkata")
	h.keys("enter")
	h.clearField()
	h.typeText("10:00")
	h.keys("enter")
	h.clearField()
	h.typeText("18:30")
	h.keys("enter")
	// weekdays: Mon-Fri are ticked; add Saturday.
	h.keys("down", "down", "down", "down", "down", "space", "enter")
	h.keys("left", "enter") // lead local time: yes
	h.wantScreen("3/3 Start and retries")
	h.wantScreen("[ ] voicemail") // the whole page fits 80x24
	h.typeText("2026-06-01T09:00:00+05:30")
	h.keys("enter")
	h.clearField()
	h.typeText("4")
	h.keys("enter")
	h.clearField()
	h.typeText("30")
	h.keys("enter")
	h.keys("down", "down", "space", "enter") // retry on: add failed
	h.wantActions("create Spring promo")
	h.wantStatus(`created "Spring promo"`)
	if h.m.top != nil {
		t.Fatalf("form still open after create:\n%s", h.screen())
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("", 5*3600+1800))
	want := engine.CampaignSpec{Name: "Spring promo", AgentID: "sim-agent", PhoneNumberID: "pn_demo", MaxConcurrent: 7,
		WebhookURL: "https://hooks.example.com/dd", DefaultRegion: "IN",
		Schedule: engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "10:00", WindowEnd: "18:30",
			Weekdays: []int{1, 2, 3, 4, 5, 6}, LeadLocalTime: true},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: 4, BackoffMinutes: 30, RetryOn: []string{"no_answer", "busy", "failed"}}}
	got := h.f.specs[0]
	if got.ScheduledStartAt == nil || !got.ScheduledStartAt.Equal(at) {
		t.Errorf("scheduledStartAt = %v, want %v", got.ScheduledStartAt, at)
	}
	got.ScheduledStartAt = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spec sent\n%+v\nwant\n%+v", got, want)
	}
	h.wantScreen("Spring promo")
}

func TestFormValidatesAsYouType(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("n")
	h.wantScreen("✗ name: required")
	h.typeText("X")
	if strings.Contains(h.screen(), "name: required") {
		t.Errorf("problem still shown after typing a name")
	}
	h.keys("enter", "enter", "enter")
	h.clearField()
	h.typeText("0")
	h.wantScreen("maxConcurrent: want a whole number, at least 1")
	h.keys("enter") // refused: stays on the field
	h.wantScreen("1/3 Campaign")
	h.keys("backspace")
	h.typeText("3")
	h.keys("enter")
	h.typeText("ftp://x")
	h.wantScreen("webhookUrl: want an http(s) URL")
	h.clearField()
	h.keys("enter")
	h.typeText("ZZ")
	h.wantScreen("defaultRegion:")
	h.clearField()
	h.keys("enter")
	h.clearField()
	h.typeText("Asia/Kolkatta")
	h.wantScreen("did you mean")
	h.wantScreen("Asia/Kolkata?")
	h.clearField()
	h.typeText("Europe/Paris")
	h.keys("enter")
	h.clearField()
	h.typeText("25:00")
	h.wantScreen("invalid time")
	h.clearField()
	h.typeText("9:00")
	h.keys("enter")
	h.clearField()
	h.typeText("24:00")
	if strings.Contains(h.screen(), "✗") {
		t.Errorf("24:00 refused as window end:\n%s", h.screen())
	}
	h.keys("enter")
	h.keys("enter", "enter") // weekdays, lead local time
	h.typeText("tomorrow")
	h.wantScreen("scheduledStartAt: want RFC 3339")
	h.wantActions()
}

func TestFormShowsEngineRefusal(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("n")
	h.typeText("NPS survey") // the name is taken
	for range 15 {
		h.keys("enter")
	}
	h.wantActions("create NPS survey")
	h.wantStatus("not saved")
	h.wantScreen(`a campaign named "NPS survey" already exists`)
	h.form()
	h.wantScreen("Name         > NPS survey")
	h.clearField()
	h.typeText("NPS survey 2")
	for range 15 {
		h.keys("enter")
	}
	h.wantStatus(`created "NPS survey 2"`)
}

func TestFormEditsDraftPrefilled(t *testing.T) {
	h := newHarness(t, Options{})
	h.selectCampaign("Demo renewals")
	h.keys("e")
	h.wantScreen(`edit "Demo renewals"`)
	h.form()
	h.wantScreen("Name         > Demo renewals")
	h.keys("enter", "enter", "enter")
	h.clearField()
	h.typeText("9")
	for range 9 {
		h.keys("enter")
	}
	h.wantScreen("maxAttempts: want a whole number, at least 1") // stored as 0
	h.clearField()
	h.typeText("2")
	for range 3 {
		h.keys("enter")
	}
	h.wantActions("edit 2")
	h.wantStatus(`saved "Demo renewals"`)
	if s := h.f.specs[0]; s.MaxConcurrent != 9 || s.RetryPolicy.MaxAttempts != 2 || s.Schedule.Timezone != "UTC" || len(s.Schedule.Weekdays) != 7 {
		t.Errorf("edit sent %+v", s)
	}
}

func TestFormEditRefusedByState(t *testing.T) {
	for _, name := range []string{"Q2 Renewals — Mumbai", "NPS survey", "March collections"} {
		h := newHarness(t, Options{})
		h.selectCampaign(name)
		h.keys("e")
		h.wantStatus(`cannot edit campaign "` + name + `"`)
		if h.m.top != nil {
			t.Errorf("%s: form opened", name)
		}
	}
}

func TestFormEscCancels(t *testing.T) {
	h := newHarness(t, Options{})
	h.keys("n")
	h.typeText("qq?") // q and ? are text here, not quit or help
	if h.quit || h.m.showHelp {
		t.Fatal("q or ? escaped the form")
	}
	h.keys("esc")
	h.wantStatus("cancelled: new campaign not saved")
	if h.m.top != nil {
		t.Error("form still open")
	}
	h.wantActions()
}

func TestFormReadOnly(t *testing.T) {
	h := newHarness(t, Options{ReadOnly: true})
	h.keys("n")
	h.wantStatus("read-only")
	h.keys("e")
	h.wantStatus("read-only")
	if h.m.top != nil {
		t.Error("form opened in a read-only session")
	}
}
