package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialdeck/dialdeck/engine"
)

// formScreen is the campaign form (n new, e edit): every field of the
// spec's create body over three pages, built with huh. Fields are bound by
// key and read with GetString/Get (never through pointers into a model).
// Each key is checked at once: the focused field's problem shows under the
// form as you type; huh refuses to leave a field that is still wrong.
type formScreen struct {
	sh      *shared
	edit    *engine.Campaign // nil: a new campaign
	spec    engine.CampaignSpec
	agents  []string
	numbers []string
	form    *huh.Form
	live    string   // the focused field's problem, checked on each key
	refused []string // the engine's refusal of the last submit, one problem a line
	busy    bool     // a create/edit call is running
	seq     int
	w, h    int
}

// Form field keys.
const (
	fName       = "name"
	fAgent      = "agentId"
	fNumber     = "phoneNumberId"
	fMaxConc    = "maxConcurrent"
	fWebhook    = "webhookUrl"
	fRegion     = "defaultRegion"
	fZone       = "timezone"
	fStart      = "windowStart"
	fEnd        = "windowEnd"
	fDays       = "weekdays"
	fLeadLocal  = "leadLocalTime"
	fStartAt    = "scheduledStartAt"
	fAttempts   = "maxAttempts"
	fBackoff    = "backoffMinutes"
	fRetryOn    = "retryOn"
	formChrome  = 4 // title line, blank, the live problem line and one spare
	formNewName = "new campaign"
)

var weekdayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

var retryDispositions = []string{string(engine.DispNoAnswer), string(engine.DispBusy), string(engine.DispFailed), string(engine.DispVoicemail)}

// defaultSpec is what a new campaign starts from: the spec's example values.
func defaultSpec(agents, numbers []string) engine.CampaignSpec {
	s := engine.CampaignSpec{MaxConcurrent: 5,
		Schedule:    engine.Schedule{Timezone: "UTC", WindowStart: "09:00", WindowEnd: "17:00", Weekdays: []int{1, 2, 3, 4, 5}},
		RetryPolicy: engine.RetryPolicy{MaxAttempts: 3, BackoffMinutes: 60, RetryOn: []string{"no_answer", "busy"}}}
	if len(agents) > 0 {
		s.AgentID = agents[0]
	}
	if len(numbers) > 0 {
		s.PhoneNumberID = numbers[0]
	}
	return s
}

// openForm opens the form for a new campaign (c nil) or to edit c, if its
// state allows editing.
func (s *shared) openForm(c *engine.Campaign) tea.Cmd {
	if c != nil && !engine.Can(c.State, engine.ActEdit) {
		s.fail((&engine.RefusalError{Campaign: c.Name, State: c.State, Action: engine.ActEdit}).Error())
		return nil
	}
	f := &formScreen{sh: s, edit: c}
	for _, a := range s.eng.Agents() {
		f.agents = append(f.agents, a.ID)
	}
	for _, n := range s.eng.Numbers() {
		f.numbers = append(f.numbers, n.ID)
	}
	slices.Sort(f.agents)
	slices.Sort(f.numbers)
	if c != nil {
		f.spec = c.CampaignSpec
	} else {
		f.spec = defaultSpec(f.agents, f.numbers)
	}
	f.build()
	s.info("")
	return func() tea.Msg { return openMsg{scr: f} }
}

func (f *formScreen) title() string {
	if f.edit != nil {
		return "edit " + strconv.Quote(f.edit.Name)
	}
	return formNewName
}

// build makes the huh form, prefilled from f.spec.
func (f *formScreen) build() {
	s := f.spec
	str := func(v string) *string { return &v }
	itoa := func(v int) *string { return str(strconv.Itoa(v)) }
	input := func(k, title string, v *string) *huh.Input {
		return huh.NewInput().Key(k).Title(title).Inline(true).Value(v).Validate(fieldCheck(k))
	}
	pick := func(k, title string, opts []string, v string) huh.Field {
		if len(opts) == 0 {
			return input(k, title, str(v)).Placeholder("none configured: add one to the config")
		}
		if !slices.Contains(opts, v) {
			v = opts[0]
		}
		return huh.NewSelect[string]().Key(k).Title(title).Inline(true).Options(huh.NewOptions(opts...)...).Value(&v)
	}
	startAt := ""
	if s.ScheduledStartAt != nil {
		startAt = s.ScheduledStartAt.Format(time.RFC3339)
	}
	days := append([]int(nil), s.Schedule.Weekdays...)
	var dayOpts []huh.Option[int]
	for i, n := range weekdayNames {
		dayOpts = append(dayOpts, huh.NewOption(n, i+1))
	}
	retryOn := append([]string(nil), s.RetryPolicy.RetryOn...)
	leadLocal := s.Schedule.LeadLocalTime
	zone := huh.NewInput().Key(fZone).Title("Time zone    ").Inline(true).Value(str(s.Schedule.Timezone)).
		Suggestions(engine.CommonZones()).Validate(fieldCheck(fZone))

	f.form = huh.NewForm(
		huh.NewGroup(
			input(fName, "Name         ", str(s.Name)),
			pick(fAgent, "Agent        ", f.agents, s.AgentID),
			pick(fNumber, "Number       ", f.numbers, s.PhoneNumberID),
			input(fMaxConc, "Max calls    ", itoa(s.MaxConcurrent)),
			input(fWebhook, "Webhook URL  ", str(s.WebhookURL)).Placeholder("optional https://…"),
			input(fRegion, "Region       ", str(s.DefaultRegion)).Placeholder("optional, e.g. IN (numbers without +country)"),
		).Title("1/3 Campaign"),
		huh.NewGroup(
			zone,
			input(fStart, "Window start ", str(s.Schedule.WindowStart)).Placeholder("HH:MM"),
			input(fEnd, "Window end   ", str(s.Schedule.WindowEnd)).Placeholder("HH:MM (24:00 = end of day)"),
			huh.NewMultiSelect[int]().Key(fDays).Title("Weekdays").Options(dayOpts...).Height(9).Value(&days).
				Validate(func(d []int) error {
					if len(d) == 0 {
						return fmt.Errorf("pick at least one weekday")
					}
					return nil
				}),
			huh.NewConfirm().Key(fLeadLocal).Title("Also in each lead's own zone?").Inline(true).Value(&leadLocal),
		).Title("2/3 Schedule"),
		huh.NewGroup(
			input(fStartAt, "Start at        ", str(startAt)).Placeholder("optional RFC 3339, e.g. 2026-06-01T09:00:00Z"),
			input(fAttempts, "Max attempts    ", itoa(s.RetryPolicy.MaxAttempts)),
			input(fBackoff, "Backoff minutes ", itoa(s.RetryPolicy.BackoffMinutes)),
			huh.NewMultiSelect[string]().Key(fRetryOn).Title("Retry on").Options(huh.NewOptions(retryDispositions...)...).Height(6).Value(&retryOn),
		).Title("3/3 Start and retries"),
	).WithShowHelp(false).WithShowErrors(true).WithTheme(formTheme(f.sh.st.mono))
	f.size()
}

func formTheme(mono bool) huh.Theme {
	if mono {
		return huh.ThemeFunc(huh.ThemeBase)
	}
	return huh.ThemeFunc(huh.ThemeBase16)
}

func (f *formScreen) size() {
	if f.form != nil && f.w > 0 {
		f.form.WithWidth(f.w).WithHeight(max(f.h-formChrome-len(f.refused), 5))
	}
}

// fieldCheck is the validator of a text field, shared by huh (on enter)
// and the live check (on every key).
func fieldCheck(k string) func(string) error {
	return func(v string) error { return checkField(k, v) }
}

func checkField(k, v string) error {
	v = strings.TrimSpace(v)
	switch k {
	case fName:
		if v == "" {
			return fmt.Errorf("name: required")
		}
		if len(v) > 200 {
			return fmt.Errorf("name: longer than 200 characters")
		}
	case fAgent, fNumber:
		if v == "" {
			return fmt.Errorf("%s: required", k)
		}
	case fMaxConc, fAttempts:
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("%s: want a whole number, at least 1", k)
		}
	case fBackoff:
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return fmt.Errorf("%s: want a whole number of minutes, 0 or more", k)
		}
	case fZone:
		if _, err := engine.NewWindow(engine.Schedule{Timezone: v, WindowStart: "00:00", WindowEnd: "00:00", Weekdays: []int{1}}); err != nil {
			return err
		}
	case fStart:
		if _, err := engine.ParseClock(v); err != nil {
			return fmt.Errorf("windowStart: %v", err)
		}
	case fEnd:
		if v != "24:00" {
			if _, err := engine.ParseClock(v); err != nil {
				return fmt.Errorf("windowEnd: %v (or 24:00)", err)
			}
		}
	case fWebhook:
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("webhookUrl: want an http(s) URL")
			}
		}
	case fRegion:
		if v != "" {
			if _, err := engine.ValidRegion(v); err != nil {
				return fmt.Errorf("defaultRegion: %v", err)
			}
		}
	case fStartAt:
		if v != "" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("scheduledStartAt: want RFC 3339, e.g. 2026-06-01T09:00:00+05:30")
			}
		}
	}
	return nil
}

// specFromForm reads every field back (by key) into a spec.
func (f *formScreen) specFromForm() (engine.CampaignSpec, error) {
	g := f.form.GetString
	s := f.spec // keeps what the form does not show (webhookSecret)
	s.Name = strings.TrimSpace(g(fName))
	s.AgentID = strings.TrimSpace(g(fAgent))
	s.PhoneNumberID = strings.TrimSpace(g(fNumber))
	s.WebhookURL = strings.TrimSpace(g(fWebhook))
	s.DefaultRegion = strings.ToUpper(strings.TrimSpace(g(fRegion)))
	s.Schedule.Timezone = strings.TrimSpace(g(fZone))
	s.Schedule.WindowStart = strings.TrimSpace(g(fStart))
	s.Schedule.WindowEnd = strings.TrimSpace(g(fEnd))
	s.Schedule.Weekdays, _ = f.form.Get(fDays).([]int)
	slices.Sort(s.Schedule.Weekdays)
	s.Schedule.LeadLocalTime = f.form.GetBool(fLeadLocal)
	s.RetryPolicy.RetryOn, _ = f.form.Get(fRetryOn).([]string)
	if s.RetryPolicy.RetryOn == nil {
		s.RetryPolicy.RetryOn = []string{}
	}
	var probs []string
	atoi := func(k string) int {
		n, err := strconv.Atoi(strings.TrimSpace(g(k)))
		if err != nil {
			probs = append(probs, k+": want a whole number")
		}
		return n
	}
	s.MaxConcurrent = atoi(fMaxConc)
	s.RetryPolicy.MaxAttempts = atoi(fAttempts)
	s.RetryPolicy.BackoffMinutes = atoi(fBackoff)
	s.ScheduledStartAt = nil
	if v := strings.TrimSpace(g(fStartAt)); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			probs = append(probs, "scheduledStartAt: want RFC 3339")
		} else {
			s.ScheduledStartAt = &t
		}
	}
	if len(probs) > 0 {
		return s, fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return s, nil
}

// formSavedMsg is the engine's answer to a submitted form.
type formSavedMsg struct {
	seq int
	c   *engine.Campaign
	err error
}

func (f *formScreen) Init() tea.Cmd { return f.form.Init() }

func (f *formScreen) SetSize(w, h int) { f.w, f.h = w, h; f.size() }

// Editing: the form owns the keyboard (esc cancels it).
func (f *formScreen) Editing() bool { return true }

func (f *formScreen) Refresh() tea.Cmd { return nil }

func (f *formScreen) KeyGroups() []keyGroup {
	k := f.sh.keys
	return []keyGroup{
		{"Form", f.form.KeyBinds()},
		{"General", []key.Binding{k.Cancel, k.ForceQuit}},
	}
}

func (f *formScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case formSavedMsg:
		if msg.seq != f.seq {
			return nil
		}
		f.busy = false
		if msg.err != nil {
			// Show every problem and give the form back, values kept.
			f.refused = strings.Split(strings.TrimSpace(msg.err.Error()), "\n")
			if len(f.refused) > 6 {
				f.refused = append(f.refused[:5], fmt.Sprintf("…and %d more", len(f.refused)-5))
			}
			f.sh.fail("not saved: " + strings.TrimSpace(f.refused[len(f.refused)-1]))
			f.build()
			return f.form.Init()
		}
		verb := "created"
		if f.edit != nil {
			verb = "saved"
		}
		f.sh.info(fmt.Sprintf("%s %q", verb, msg.c.Name))
		return func() tea.Msg { return closeMsg{} }
	case tea.KeyPressMsg:
		if f.busy {
			return nil
		}
		if key.Matches(msg, f.sh.keys.Cancel) {
			f.sh.info("cancelled: " + f.title() + " not saved")
			return func() tea.Msg { return closeMsg{} }
		}
	}
	if f.busy {
		return nil
	}
	m, cmd := f.form.Update(msg)
	if ff, ok := m.(*huh.Form); ok {
		f.form = ff
	}
	f.checkLive()
	switch f.form.State {
	case huh.StateCompleted:
		return tea.Batch(cmd, f.submit())
	case huh.StateAborted:
		f.sh.info("cancelled: " + f.title() + " not saved")
		return func() tea.Msg { return closeMsg{} }
	}
	return cmd
}

// checkLive validates the focused text field as it is now.
func (f *formScreen) checkLive() {
	f.live = ""
	fld := f.form.GetFocusedField()
	if fld == nil {
		return
	}
	if v, ok := fld.GetValue().(string); ok {
		if err := checkField(fld.GetKey(), v); err != nil {
			f.live = err.Error()
		}
	}
}

func (f *formScreen) submit() tea.Cmd {
	spec, err := f.specFromForm()
	f.spec = spec
	if err != nil {
		f.refused = []string{err.Error()}
		f.sh.fail("not saved: " + err.Error())
		f.build()
		return f.form.Init()
	}
	f.busy = true
	f.seq++
	seq, eng, edit := f.seq, f.sh.eng, f.edit
	f.sh.info("saving " + strconv.Quote(spec.Name) + "…")
	return func() tea.Msg {
		if edit != nil {
			c, err := eng.EditCampaign(ref(edit.ID), spec)
			return formSavedMsg{seq: seq, c: c, err: err}
		}
		c, err := eng.CreateCampaign(spec)
		return formSavedMsg{seq: seq, c: c, err: err}
	}
}

func (f *formScreen) View() string {
	st := f.sh.st
	lines := []string{st.title.Render("dialdeck") + " › " + f.title() + st.dim.Render("  (esc cancels)")}
	lines = append(lines, strings.Split(strings.TrimRight(f.form.View(), "\n"), "\n")...)
	lines = lines[:min(len(lines), max(f.h-1-len(f.refused), 1))]
	for len(lines) < f.h-1-len(f.refused) {
		lines = append(lines, "")
	}
	if f.live != "" {
		// The problem takes the last two lines (zone suggestions are long).
		wrapped := strings.Split(ansi.Wrap("✗ "+f.live, f.w, " "), "\n")
		wrapped = wrapped[:min(len(wrapped), 2, len(lines))]
		for i, l := range wrapped {
			lines[len(lines)-len(wrapped)+i] = st.err.Render(l)
		}
	}
	for _, r := range f.refused {
		lines = append(lines, st.err.Render(strings.TrimSpace(r)))
	}
	return fit(lines, f.w, f.h)
}
