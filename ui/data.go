package ui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// Everything here runs inside tea.Cmds: reads may touch the database, so
// they never run in Update or View. Each result carries the sequence number
// of its request; a screen keeps only the answer to its latest request.

// campaignRow is one campaign with its report, read together.
type campaignRow struct {
	c   *engine.Campaign
	r   *engine.Report
	loc *time.Location // the campaign's zone, loaded here and not in View
}

type campaignsLoadedMsg struct {
	seq  int
	rows []campaignRow
	err  error
}

func loadLocation(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

func fetchCampaigns(eng Engine, seq int) tea.Cmd {
	return func() tea.Msg {
		cs, err := eng.Campaigns()
		if err != nil {
			return campaignsLoadedMsg{seq: seq, err: err}
		}
		rows := make([]campaignRow, 0, len(cs))
		for _, c := range cs {
			r, err := eng.Report(ref(c.ID))
			if err != nil {
				// A campaign deleted between the two reads: skip it.
				continue
			}
			rows = append(rows, campaignRow{c: c, r: r, loc: loadLocation(c.Schedule.Timezone)})
		}
		return campaignsLoadedMsg{seq: seq, rows: rows}
	}
}

// monitorData is what the live monitor header, counters and calls show.
type monitorData struct {
	campaignRow
	calls    []engine.ActiveCall
	cpm      []int
	nextTick time.Time
	orgUsed  int
	orgMax   int
}

type monitorLoadedMsg struct {
	seq int
	cid uint64
	d   *monitorData
	err error
}

func fetchMonitor(eng Engine, cid uint64, seq int) tea.Cmd {
	return func() tea.Msg {
		r, err := eng.Report(ref(cid))
		if err != nil {
			return monitorLoadedMsg{seq: seq, cid: cid, err: err}
		}
		cs, err := eng.Campaigns()
		if err != nil {
			return monitorLoadedMsg{seq: seq, cid: cid, err: err}
		}
		var c *engine.Campaign
		for _, x := range cs {
			if x.ID == cid {
				c = x
			}
		}
		if c == nil {
			return monitorLoadedMsg{seq: seq, cid: cid, err: engine.ErrNotFound}
		}
		return monitorLoadedMsg{seq: seq, cid: cid, d: &monitorData{
			campaignRow: campaignRow{c: c, r: r, loc: loadLocation(c.Schedule.Timezone)},
			calls:       eng.ActiveCalls(cid),
			cpm:         eng.CallsPerMinute(cid),
			nextTick:    eng.NextTick(),
			orgUsed:     eng.ActiveCount(0),
			orgMax:      eng.OrgMaxConcurrent(),
		}}
	}
}

// leadsLoadedMsg is one window of the lead table.
type leadsLoadedMsg struct {
	seq   int
	cid   uint64
	after uint64
	// hist is set when the fetch itself chose the window (G with a
	// filter): the starts of the windows before it, for pgup.
	hist  []uint64
	atEnd bool // put the cursor on the last row
	leads []*engine.Lead
	err   error
}

func fetchLeads(eng Engine, cid, after uint64, limit int, filter string, atEnd bool, seq int) tea.Cmd {
	match := leadMatcher(filter)
	return func() tea.Msg {
		ls, err := eng.Leads(cid, after, limit, match)
		return leadsLoadedMsg{seq: seq, cid: cid, after: after, atEnd: atEnd, leads: ls, err: err}
	}
}

// fetchLastLeads finds the last window of a filtered lead list by reading
// forward window by window (the engine reads leads by ascending ID only).
// It runs in the background; memory stays one window plus a start per window.
func fetchLastLeads(eng Engine, cid uint64, limit int, filter string, seq int) tea.Cmd {
	match := leadMatcher(filter)
	return func() tea.Msg {
		var hist []uint64 // starts of the windows before cur
		var start, after uint64
		var cur []*engine.Lead
		for {
			ls, err := eng.Leads(cid, after, limit, match)
			if err != nil {
				return leadsLoadedMsg{seq: seq, cid: cid, err: err}
			}
			if len(ls) == 0 {
				break
			}
			if cur != nil {
				hist = append(hist, start)
			}
			start, cur = after, ls
			if len(ls) < limit {
				break
			}
			after = ls[len(ls)-1].ID
		}
		return leadsLoadedMsg{seq: seq, cid: cid, after: start, hist: hist, atEnd: true, leads: cur}
	}
}

// leadMatcher builds the lead filter: every word must match, either as a
// status or disposition name (exactly) or as text in the phone number or
// any column value. Empty: every lead.
func leadMatcher(filter string) func(*engine.Lead) bool {
	words := strings.Fields(strings.ToLower(filter))
	if len(words) == 0 {
		return nil
	}
	return func(l *engine.Lead) bool {
		for _, w := range words {
			if !leadHas(l, w) {
				return false
			}
		}
		return true
	}
}

func leadHas(l *engine.Lead, w string) bool {
	if w == string(l.Status) || (l.Disposition != engine.DispNone && w == string(l.Disposition)) {
		return true
	}
	if isStatusOrDisposition(w) {
		return false
	}
	if strings.Contains(l.Phone, w) {
		return true
	}
	for _, v := range l.Values {
		if strings.Contains(strings.ToLower(v), w) {
			return true
		}
	}
	return false
}

func isStatusOrDisposition(w string) bool {
	for _, s := range engine.LeadStatuses {
		if w == string(s) {
			return true
		}
	}
	for _, d := range engine.Dispositions {
		if w == string(d) {
			return true
		}
	}
	return false
}

type whyMsg struct {
	cid, lid uint64
	w        *engine.WhyNot
	err      error
}

func fetchWhy(eng Engine, cid, lid uint64) tea.Cmd {
	return func() tea.Msg {
		w, err := eng.WhyNot(cid, lid)
		return whyMsg{cid: cid, lid: lid, w: w, err: err}
	}
}
