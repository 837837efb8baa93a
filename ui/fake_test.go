package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// fixedNow is the fake clock: Monday 2026-05-04 10:30 UTC, 16:00 in Kolkata.
var fixedNow = time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)

// fakeEngine is a ui.Engine with fixed data, so rendered screens are
// stable. Lifecycle calls follow the spec's table and are recorded.
type fakeEngine struct {
	mu        sync.Mutex
	campaigns []*engine.Campaign
	leads     map[uint64][]*engine.Lead
	calls     []engine.ActiveCall
	actions   []string
	failWith  error // returned by every action when set
	leadReads int
	specs     []engine.CampaignSpec // bodies given to create and edit
	dnc       []engine.DNCEntry
	outbox    []*engine.OutboxEvent
	// testStatus is the HTTP status TestWebhook answers.
	testStatus int
}

func newFakeEngine() *fakeEngine {
	started := fixedNow.Add(-90 * time.Minute)
	f := &fakeEngine{leads: map[uint64][]*engine.Lead{}, outbox: fakeOutbox(), testStatus: 200}
	f.campaigns = []*engine.Campaign{
		{ID: 1, State: engine.StateRunning, StartedAt: &started,
			CampaignSpec: engine.CampaignSpec{Name: "Q2 Renewals — Mumbai", AgentID: "sim-agent", PhoneNumberID: "pn_demo", MaxConcurrent: 5,
				WebhookURL: "http://127.0.0.1:9999/hook",
				Schedule:   engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "10:00", WindowEnd: "18:00", Weekdays: []int{1, 2, 3, 4, 5}}},
			Columns: []string{"phone", "first_name", "company", "policy_type"}, PhoneColumn: 0},
		{ID: 2, State: engine.StateDraft,
			CampaignSpec: engine.CampaignSpec{Name: "Demo renewals", MaxConcurrent: 4, DefaultRegion: "IN",
				Schedule: engine.Schedule{Timezone: "UTC", WindowStart: "00:00", WindowEnd: "00:00", Weekdays: []int{1, 2, 3, 4, 5, 6, 7}}}},
		{ID: 3, State: engine.StatePaused,
			CampaignSpec: engine.CampaignSpec{Name: "NPS survey", MaxConcurrent: 2,
				Schedule: engine.Schedule{Timezone: "America/New_York", WindowStart: "09:00", WindowEnd: "17:00", Weekdays: []int{1, 2, 3, 4, 5}}}},
		{ID: 4, State: engine.StateCompleted,
			CampaignSpec: engine.CampaignSpec{Name: "March collections", MaxConcurrent: 3,
				Schedule: engine.Schedule{Timezone: "Europe/London", WindowStart: "09:00", WindowEnd: "17:00", Weekdays: []int{1, 2, 3, 4, 5}}}},
	}
	names := []string{"Arjun", "Maria", "James", "Priya", "Daniel", "Sofia", "Wei", "Olivia", "Mateo", "Aisha"}
	var ls []*engine.Lead
	for i := 1; i <= 45; i++ {
		l := &engine.Lead{ID: uint64(i), Phone: fmt.Sprintf("+9198765%05d", i), Status: engine.LeadPending,
			Values: []string{fmt.Sprintf("+9198765%05d", i), names[i%len(names)], "Acme", "Health"}}
		switch {
		case i%7 == 0:
			l.Status, l.Disposition, l.Attempts = engine.LeadDone, engine.DispQualified, 1
		case i%5 == 0:
			l.Status, l.Disposition, l.Attempts, l.NextAt = engine.LeadRetry, engine.DispBusy, 1, fixedNow.Add(42*time.Minute)
		case i <= 2:
			l.Status, l.Attempts = engine.LeadDialing, 1
		}
		ls = append(ls, l)
	}
	f.leads[1] = ls
	f.dnc = []engine.DNCEntry{
		{Phone: "+12125550147", AddedAt: fixedNow.Add(-72 * time.Hour), Source: "cli"},
		{Phone: "+14155550123", AddedAt: fixedNow.Add(-26 * time.Hour), Source: "import:optout.csv"},
		{Phone: "+919876500009", AddedAt: fixedNow.Add(-2 * time.Hour), Source: "call: opted out"},
	}
	f.calls = []engine.ActiveCall{
		{CampaignID: 1, LeadID: 1, Attempt: 1, Phone: ls[0].Phone, Name: "Maria", ClaimedAt: fixedNow.Add(-75 * time.Second),
			Progress: engine.CallProgress{State: "talking", LastLine: "agent: Hi Maria, this is Ava calling from Acme about your Health policy renewal."}},
		{CampaignID: 1, LeadID: 2, Attempt: 1, Phone: ls[1].Phone, Name: "James", ClaimedAt: fixedNow.Add(-4 * time.Second),
			Progress: engine.CallProgress{State: "ringing"}},
	}
	return f
}

func (f *fakeEngine) find(ref string) (*engine.Campaign, error) {
	for _, c := range f.campaigns {
		if fmt.Sprint(c.ID) == ref || c.Name == ref {
			return c, nil
		}
	}
	return nil, engine.ErrNotFound
}

func (f *fakeEngine) Campaigns() ([]*engine.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*engine.Campaign, len(f.campaigns))
	for i, c := range f.campaigns {
		cc := *c
		out[i] = &cc
	}
	return out, nil
}

func (f *fakeEngine) Report(ref string) (*engine.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(ref)
	if err != nil {
		return nil, err
	}
	r := &engine.Report{CampaignID: c.ID, Name: c.Name, State: c.State, MaxConcurrent: c.MaxConcurrent,
		ByStatus: map[engine.LeadStatus]uint64{}, ByDisposition: map[engine.Disposition]uint64{}, At: fixedNow}
	w, _ := engine.NewWindow(c.Schedule)
	r.Schedule = w.String()
	r.WindowOpen = w.Open(fixedNow)
	if r.WindowOpen {
		if t := w.NextClose(fixedNow); !t.IsZero() {
			r.WindowChangeAt = &t
		}
	} else if t := w.NextOpen(fixedNow); !t.IsZero() {
		r.WindowChangeAt = &t
	}
	for _, l := range f.leads[c.ID] {
		r.Leads++
		r.ByStatus[l.Status]++
		if l.Disposition != "" {
			r.ByDisposition[l.Disposition]++
		}
		r.Attempts += uint64(l.Attempts)
		if l.Status == engine.LeadDone {
			r.Terminal++
		}
	}
	if c.ID == 4 {
		r.Leads, r.Terminal, r.Attempts = 120, 120, 180
		r.ByDisposition[engine.DispQualified] = 31
	}
	if r.Leads > 0 {
		r.Progress = float64(r.Terminal) / float64(r.Leads)
	}
	for _, a := range f.calls {
		if a.CampaignID == c.ID {
			r.Active++
		}
	}
	return r, nil
}

func (f *fakeEngine) act(name string, ref string, a engine.Action, to engine.CampaignState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, name+" "+ref)
	if f.failWith != nil {
		return f.failWith
	}
	c, err := f.find(ref)
	if err != nil {
		return err
	}
	if !engine.Can(c.State, a) {
		return &engine.RefusalError{Campaign: c.Name, State: c.State, Action: a}
	}
	c.State = to
	return nil
}

func (f *fakeEngine) Start(ref string) error {
	return f.act("start", ref, engine.ActStart, engine.StateRunning)
}
func (f *fakeEngine) Pause(ref string) error {
	return f.act("pause", ref, engine.ActPause, engine.StatePaused)
}
func (f *fakeEngine) Resume(ref string) error {
	return f.act("resume", ref, engine.ActResume, engine.StateRunning)
}
func (f *fakeEngine) Stop(ref string) error {
	return f.act("stop", ref, engine.ActStop, engine.StateCompleted)
}
func (f *fakeEngine) DeleteCampaign(ref string) error {
	if err := f.act("delete", ref, engine.ActDelete, ""); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.campaigns {
		if fmt.Sprint(c.ID) == ref {
			f.campaigns = append(f.campaigns[:i], f.campaigns[i+1:]...)
			break
		}
	}
	return nil
}

func (f *fakeEngine) ActiveCalls(cid uint64) []engine.ActiveCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.ActiveCall
	for _, a := range f.calls {
		if cid == 0 || a.CampaignID == cid {
			out = append(out, a)
		}
	}
	return out
}

func (f *fakeEngine) ActiveCount(cid uint64) int { return len(f.ActiveCalls(cid)) }

func (f *fakeEngine) CallsPerMinute(cid uint64) []int {
	out := make([]int, 30)
	for i := range out {
		out[i] = (i * 7) % 5
	}
	return out
}

func (f *fakeEngine) Leads(cid, after uint64, limit int, match func(*engine.Lead) bool) ([]*engine.Lead, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leadReads++
	var out []*engine.Lead
	for _, l := range f.leads[cid] {
		if l.ID > after && (match == nil || match(l)) && len(out) < limit {
			cp := *l
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (f *fakeEngine) WhyNot(cid, lid uint64) (*engine.WhyNot, error) {
	for _, l := range f.leads[cid] {
		if l.ID == lid {
			w := &engine.WhyNot{LeadID: lid, Phone: l.Phone, Status: l.Status, Attempts: l.Attempts, MaxAttempts: 3,
				Gate: engine.GateCampaignCap, Message: "due, but campaign concurrency full"}
			if l.Attempts > 0 {
				w.LastCall = &engine.LastCall{Attempt: l.Attempts, Outcome: engine.OutcomeBusy, Disposition: engine.DispBusy,
					Reason: "486 Busy Here", SIPCode: 486}
			}
			return w, nil
		}
	}
	return nil, engine.ErrNotFound
}

func (f *fakeEngine) NextTick() time.Time   { return fixedNow.Add(7 * time.Second) }
func (f *fakeEngine) OrgMaxConcurrent() int { return 6 }
func (f *fakeEngine) Now() time.Time        { return fixedNow }
func (f *fakeEngine) lastActions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.actions...)
}

func (f *fakeEngine) Agents() []engine.Agent {
	return []engine.Agent{{ID: "sim-agent"}, {ID: "renewals-agent"}}
}

func (f *fakeEngine) Numbers() []engine.Number {
	return []engine.Number{{ID: "pn_demo", CallerID: "+14155550100"}}
}

// checkSpec is the part of the engine's validation the fake repeats.
func (f *fakeEngine) checkSpec(s engine.CampaignSpec, self uint64) error {
	if _, err := engine.NewWindow(s.Schedule); err != nil {
		return fmt.Errorf("%w campaign:\n  schedule: %v", engine.ErrInvalid, err)
	}
	for _, c := range f.campaigns {
		if c.Name == s.Name && c.ID != self {
			return fmt.Errorf("%w campaign:\n  name: a campaign named %q already exists (id %d)", engine.ErrInvalid, s.Name, c.ID)
		}
	}
	return nil
}

func (f *fakeEngine) CreateCampaign(s engine.CampaignSpec) (*engine.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "create "+s.Name)
	if err := f.checkSpec(s, 0); err != nil {
		return nil, err
	}
	c := &engine.Campaign{ID: uint64(len(f.campaigns) + 10), CampaignSpec: s, State: engine.StateDraft}
	f.campaigns = append(f.campaigns, c)
	f.specs = append(f.specs, s)
	return c, nil
}

func (f *fakeEngine) EditCampaign(ref string, s engine.CampaignSpec) (*engine.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "edit "+ref)
	c, err := f.find(ref)
	if err != nil {
		return nil, err
	}
	if !engine.Can(c.State, engine.ActEdit) {
		return nil, &engine.RefusalError{Campaign: c.Name, State: c.State, Action: engine.ActEdit}
	}
	if err := f.checkSpec(s, c.ID); err != nil {
		return nil, err
	}
	c.CampaignSpec = s
	f.specs = append(f.specs, s)
	return c, nil
}

// ImportLeads reads the CSV for real and fakes the rest: a phone with fewer
// than 8 digits is invalid, a repeat is a duplicate.
func (f *fakeEngine) ImportLeads(ref string, r io.Reader, opts engine.ImportOptions) (*engine.ImportSummary, error) {
	f.mu.Lock()
	c, err := f.find(ref)
	if err == nil {
		f.actions = append(f.actions, "import "+ref+" region="+opts.Region)
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !engine.Can(c.State, engine.ActImport) {
		return nil, &engine.RefusalError{Campaign: c.Name, State: c.State, Action: engine.ActImport}
	}
	if f.failWith != nil {
		return nil, f.failWith
	}
	csv, err := engine.NewCSVReader(r, engine.CSVOptions{})
	if err != nil {
		return nil, err
	}
	head := csv.Header()
	pc, err := engine.FindPhoneColumn(head, "")
	if err != nil {
		return nil, err
	}
	sum := &engine.ImportSummary{PhoneColumn: head[pc], Delimiter: "comma", Seconds: 0.4, Errors: []engine.ImportError{},
		Region: c.DefaultRegion, RegionSource: "campaign defaultRegion", MissingVariables: []string{"renewal_date"}}
	if opts.Region != "" {
		sum.Region, sum.RegionSource = opts.Region, "--region"
	}
	for i, h := range head {
		if i != pc {
			sum.Variables = append(sum.Variables, h)
		}
	}
	seen := map[string]bool{}
	for {
		rec, line, err := csv.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		sum.Rows++
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, rec[pc])
		switch {
		case strings.TrimSpace(rec[pc]) == "":
			sum.Blank++
		case len(rec) != len(head):
			sum.Ragged++
			sum.Errors = append(sum.Errors, engine.ImportError{Line: line, Reason: "ragged row"})
		case len(digits) < 8:
			sum.Invalid++
			sum.Errors = append(sum.Errors, engine.ImportError{Line: line, Reason: fmt.Sprintf("invalid phone %q", rec[pc])})
		case seen[digits]:
			sum.Duplicates++
		default:
			seen[digits] = true
			sum.Imported++
		}
		if opts.Progress != nil {
			opts.Progress(engine.ImportProgress{BytesRead: int64(sum.Rows * 30), Rows: sum.Rows, Imported: sum.Imported})
		}
	}
	return sum, nil
}

func (f *fakeEngine) DNCList(filter string, limit int) ([]engine.DNCEntry, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.DNCEntry
	for _, d := range f.dnc {
		if filter == "" || strings.Contains(d.Phone, filter) || strings.Contains(d.Source, filter) {
			if limit == 0 || len(out) < limit {
				out = append(out, d)
			}
		}
	}
	return out, len(f.dnc), nil
}

// fakeE164 accepts +digits, or digits with region GB (a +44 number).
func fakeE164(raw, region string) (string, bool) {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, raw)
	switch {
	case strings.HasPrefix(strings.TrimSpace(raw), "+") && len(d) >= 8:
		return "+" + d, true
	case region == "GB" && len(d) >= 10:
		return "+44" + strings.TrimPrefix(d, "0"), true
	}
	return "", false
}

func (f *fakeEngine) DNCAdd(raw []string, region, source string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "dnc add "+strings.Join(raw, "|")+" "+region)
	var added []string
	for _, r := range raw {
		p, ok := fakeE164(r, region)
		if !ok {
			return nil, fmt.Errorf("%w: %q is not a valid phone number", engine.ErrInvalid, r)
		}
		f.dnc = append(f.dnc, engine.DNCEntry{Phone: p, AddedAt: fixedNow, Source: source})
		added = append(added, p)
	}
	return added, nil
}

func (f *fakeEngine) DNCRemove(raw []string, region string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "dnc remove "+strings.Join(raw, "|"))
	var removed []string
	for _, r := range raw {
		for i, d := range f.dnc {
			if d.Phone == r {
				f.dnc = append(f.dnc[:i], f.dnc[i+1:]...)
				removed = append(removed, r)
				break
			}
		}
	}
	return removed, nil
}

func (f *fakeEngine) DNCImport(r io.Reader, region, source string) (*engine.DNCImportSummary, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "dnc import "+region)
	sum := &engine.DNCImportSummary{Errors: []engine.ImportError{}}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if p, ok := fakeE164(line, region); ok {
			f.dnc = append(f.dnc, engine.DNCEntry{Phone: p, AddedAt: fixedNow, Source: source})
			sum.Added++
		} else {
			sum.Invalid++
			sum.Errors = append(sum.Errors, engine.ImportError{Line: i + 1, Reason: "invalid number"})
		}
	}
	return sum, nil
}

// fakeOutbox is campaign 1's webhook outbox: one event in each state, and
// a second dead one.
func fakeOutbox() []*engine.OutboxEvent {
	tried := fixedNow.Add(-3 * time.Minute)
	evs := []*engine.OutboxEvent{
		{Seq: 9, Type: engine.EventStatusChanged, CampaignID: 1, State: engine.OutboxDead, Attempts: 8,
			NextTry: fixedNow.Add(-time.Hour), LastTryAt: &tried, LastError: "HTTP 500: upstream exploded"},
		{Seq: 12, Type: engine.EventLeadCompleted, CampaignID: 1, LeadID: 7, State: engine.OutboxDead, Attempts: 8,
			NextTry: fixedNow.Add(-time.Hour), LastTryAt: &tried, LastError: "HTTP 410: gone"},
		{Seq: 15, Type: engine.EventLeadCompleted, CampaignID: 1, LeadID: 14, State: engine.OutboxFailing, Attempts: 3,
			NextTry: fixedNow.Add(2*time.Minute + 5*time.Second), LastTryAt: &tried,
			LastError: "Post \"http://127.0.0.1:9999/hook\": dial tcp 127.0.0.1:9999: connect: connection refused"},
		{Seq: 16, Type: engine.EventLeadCompleted, CampaignID: 1, LeadID: 21, State: engine.OutboxPending, NextTry: fixedNow},
	}
	for _, ev := range evs {
		ev.URL, ev.ID, ev.CreatedAt = "http://127.0.0.1:9999/hook", fmt.Sprintf("msg_%024d", ev.Seq), fixedNow.Add(-2*time.Hour)
	}
	return evs
}

func (f *fakeEngine) Webhooks(ref string) ([]*engine.OutboxEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.find(ref)
	if err != nil {
		return nil, err
	}
	var out []*engine.OutboxEvent
	for _, ev := range f.outbox {
		if ev.CampaignID == c.ID {
			cp := *ev
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (f *fakeEngine) ReplayWebhooks(ref string, seqs []uint64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, fmt.Sprint("replay ", ref, " ", seqs))
	if f.failWith != nil {
		return 0, f.failWith
	}
	c, err := f.find(ref)
	if err != nil {
		return 0, err
	}
	want := map[uint64]bool{}
	for _, s := range seqs {
		want[s] = true
	}
	n := 0
	for _, ev := range f.outbox {
		if ev.CampaignID == c.ID && ((len(want) == 0 && ev.State == engine.OutboxDead) || want[ev.Seq]) {
			ev.State, ev.Attempts, ev.NextTry = engine.OutboxPending, 0, fixedNow
			n++
		}
	}
	return n, nil
}

// TestWebhook answers 200 for campaign 1 (the only one with a URL here).
func (f *fakeEngine) TestWebhook(ctx context.Context, ref string) (int, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, "test webhook "+ref)
	c, err := f.find(ref)
	if err != nil {
		return 0, "", err
	}
	if c.WebhookURL == "" {
		return 0, "", fmt.Errorf("campaign %q has no webhookUrl", c.Name)
	}
	return f.testStatus, "ok\n", nil
}
