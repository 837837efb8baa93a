package engine

import (
	"fmt"
	"time"
)

// Report is a campaign's progress, read from the counters in O(1).
type Report struct {
	CampaignID    uint64                 `json:"campaignId"`
	Name          string                 `json:"name"`
	State         CampaignState          `json:"state"`
	EndReason     string                 `json:"endReason,omitempty"`
	Leads         uint64                 `json:"leads"`
	ByStatus      map[LeadStatus]uint64  `json:"byStatus"`
	ByDisposition map[Disposition]uint64 `json:"byDisposition"`
	Attempts      uint64                 `json:"attempts"`
	Active        int                    `json:"active"`
	Terminal      uint64                 `json:"terminal"`
	Progress      float64                `json:"progress"` // terminal / leads, 0..1
	MaxConcurrent int                    `json:"maxConcurrent"`
	WindowOpen    bool                   `json:"windowOpen"`
	// WindowChangeAt is when the window next closes (when open) or opens.
	WindowChangeAt *time.Time `json:"windowChangeAt,omitempty"`
	Schedule       string     `json:"schedule"`
	At             time.Time  `json:"at"`
}

// Report returns a campaign's report.
func (e *Engine) Report(ref string) (*Report, error) {
	var r *Report
	err := e.store.View(func(tx Tx) error {
		c, err := findCampaign(tx, ref)
		if err != nil {
			return err
		}
		r, err = e.reportTx(tx, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return r, nil
}

func (e *Engine) reportTx(tx Tx, c *Campaign) (*Report, error) {
	cnt, err := tx.Counters(c.ID)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	r := &Report{CampaignID: c.ID, Name: c.Name, State: c.State, EndReason: c.EndReason, Leads: cnt.Leads,
		ByStatus: map[LeadStatus]uint64{}, ByDisposition: map[Disposition]uint64{},
		Attempts: cnt.Attempts, Active: e.ActiveCount(c.ID), MaxConcurrent: c.MaxConcurrent, At: now}
	for _, s := range LeadStatuses {
		r.ByStatus[s] = cnt.ByStatus[s]
	}
	for _, d := range Dispositions {
		r.ByDisposition[d] = cnt.ByDisposition[d]
	}
	r.Terminal = cnt.ByStatus[LeadDone]
	if cnt.Leads > 0 {
		r.Progress = float64(r.Terminal) / float64(cnt.Leads)
	}
	if cw, err := e.windowsFor(c); err == nil {
		r.Schedule = cw.camp.String()
		r.WindowOpen = cw.camp.Open(now)
		var t time.Time
		if r.WindowOpen {
			t = cw.camp.NextClose(now)
		} else {
			t = cw.camp.NextOpen(now)
		}
		if !t.IsZero() {
			r.WindowChangeAt = &t
		}
	}
	return r, nil
}
