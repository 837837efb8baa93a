package engine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Gate names what holds a lead.
type Gate string

const (
	GateDue         Gate = "due"
	GateDialing     Gate = "dialing"
	GateNotRunning  Gate = "campaign_not_running"
	GateWindow      Gate = "outside_window"
	GateBackoff     Gate = "backoff"
	GateDNC         Gate = "dnc"
	GateCampaignCap Gate = "campaign_concurrency_full"
	GateOrgCap      Gate = "org_concurrency_full"
	GateRate        Gate = "calls_per_second"
	GateDone        Gate = "done"
	GateAttempts    Gate = "attempts_used_up"
)

// WhyNot explains whether a lead is being dialed, and if not, what holds it.
type WhyNot struct {
	LeadID      uint64      `json:"leadId"`
	Phone       string      `json:"phone"`
	Status      LeadStatus  `json:"status"`
	Disposition Disposition `json:"disposition,omitempty"`
	Attempts    int         `json:"attempts"`
	MaxAttempts int         `json:"maxAttempts"`
	Gate        Gate        `json:"gate"`
	Until       *time.Time  `json:"until,omitempty"`
	Message     string      `json:"message"`
	// LastCall is how the lead's latest attempt ended (nil before the first).
	LastCall *LastCall `json:"lastCall,omitempty"`
}

// LastCall summarises a lead's latest attempt for why-not.
type LastCall struct {
	Attempt     int         `json:"attempt"`
	EndedAt     time.Time   `json:"endedAt"`
	Outcome     Outcome     `json:"outcome"`
	Disposition Disposition `json:"disposition"`
	Reason      string      `json:"reason,omitempty"`
	SIPCode     int         `json:"sipCode,omitempty"`
	Permanent   bool        `json:"permanent,omitempty"`
}

// String is one line: "attempt 2 failed (SIP 404): number not reachable".
func (lc *LastCall) String() string {
	s := fmt.Sprintf("attempt %d %s", lc.Attempt, lc.Outcome)
	if lc.Disposition != "" && string(lc.Disposition) != string(lc.Outcome) {
		s += " → " + string(lc.Disposition)
	}
	if lc.SIPCode != 0 {
		s += fmt.Sprintf(" (SIP %d)", lc.SIPCode)
	}
	if lc.Reason != "" {
		s += ": " + lc.Reason
	}
	return s
}

// WhyNotPhone explains a lead found by phone number (normalised with the
// campaign's region) or by lead ID ("#42" or "id:42").
func (e *Engine) WhyNotPhone(ref, phone string) (*WhyNot, error) {
	c, err := e.Campaign(ref)
	if err != nil {
		return nil, err
	}
	var lid uint64
	if id, ok := parseLeadRef(phone); ok {
		lid = id
	} else {
		p, d, err := NormalizePhone(phone, c.DefaultRegion)
		if err != nil {
			return nil, fmt.Errorf("why: %q: %w", phone, err)
		}
		var found bool
		if err := e.store.View(func(tx Tx) error {
			lid, found, err = tx.LeadByPhone(c.ID, d)
			return err
		}); err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("why: %s is not a lead of campaign %q: %w", p, c.Name, ErrNotFound)
		}
	}
	return e.WhyNot(c.ID, lid)
}

func parseLeadRef(s string) (uint64, bool) {
	for _, p := range []string{"#", "id:"} {
		if len(s) > len(p) && s[:len(p)] == p {
			id, err := strconv.ParseUint(s[len(p):], 10, 64)
			return id, err == nil
		}
	}
	return 0, false
}

// WhyNot explains one lead by ID.
func (e *Engine) WhyNot(cid, lid uint64) (*WhyNot, error) {
	now := e.clock.Now()
	var c *Campaign
	var l *Lead
	var onDNC bool
	var last *Attempt
	err := e.store.View(func(tx Tx) error {
		var err error
		if c, err = tx.Campaign(cid); err != nil {
			return err
		}
		if l, err = tx.Lead(cid, lid); err != nil {
			return err
		}
		if l.Attempts > 0 {
			if last, err = tx.LastAttempt(cid, lid); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		onDNC, err = tx.DNCHas(l.Phone)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("why: lead %d of campaign %d: %w", lid, cid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("why: %w", err)
	}
	w := &WhyNot{LeadID: l.ID, Phone: l.Phone, Status: l.Status, Disposition: l.Disposition,
		Attempts: l.Attempts, MaxAttempts: c.RetryPolicy.MaxAttempts}
	if last != nil {
		w.LastCall = &LastCall{Attempt: last.Attempt, EndedAt: last.EndedAt, Outcome: last.Outcome, Disposition: last.Disposition,
			Reason: last.Reason, SIPCode: last.SIPCode, Permanent: last.Permanent}
	}
	set := func(g Gate, until time.Time, format string, a ...any) *WhyNot {
		w.Gate, w.Message = g, fmt.Sprintf(format, a...)
		if !until.IsZero() {
			u := until
			w.Until = &u
		}
		return w
	}
	switch l.Status {
	case LeadDialing:
		return set(GateDialing, time.Time{}, "being dialed now (attempt %d)", l.Attempts), nil
	case LeadDone:
		if l.Disposition == DispDNC {
			if l.Attempts == 0 {
				return set(GateDNC, time.Time{}, "never dialed: the number was on the DNC list when it came up"), nil
			}
			return set(GateDNC, time.Time{}, "finished: the number is on the DNC list (after %d attempts)", l.Attempts), nil
		}
		if l.Attempts >= c.RetryPolicy.MaxAttempts {
			return set(GateAttempts, time.Time{}, "finished: %s after %d of %d attempts", l.Disposition, l.Attempts, c.RetryPolicy.MaxAttempts), nil
		}
		if w.LastCall != nil && w.LastCall.Permanent {
			return set(GateDone, time.Time{}, "finished: %s, not retried: %s (a failure no retry can fix)", l.Disposition, w.LastCall.Reason), nil
		}
		if slices.Contains(c.RetryPolicy.RetryOn, string(l.Disposition)) {
			return set(GateDone, time.Time{}, "finished: %s", l.Disposition), nil
		}
		return set(GateDone, time.Time{}, "finished: %s (not retried: %s is not in retryOn)", l.Disposition, l.Disposition), nil
	}
	if onDNC {
		return set(GateDNC, time.Time{}, "on the DNC list: it will be closed as dnc without dialing"), nil
	}
	if c.State != StateRunning {
		msg := fmt.Sprintf("campaign is %s", c.State)
		if c.State == StateScheduled && c.ScheduledStartAt != nil {
			return set(GateNotRunning, *c.ScheduledStartAt, "%s; it starts at %s", msg, c.ScheduledStartAt.Format(time.RFC3339)), nil
		}
		if c.State == StateCompleted || c.State == StateFailed {
			// An ended campaign never dials again; say so rather than
			// suggest it might resume.
			return set(GateNotRunning, time.Time{}, "%s: it ended before this lead was finished and will not dial it again", msg), nil
		}
		return set(GateNotRunning, time.Time{}, "%s: nothing is dialed until it runs", msg), nil
	}
	cw, err := e.windowsFor(c)
	if err != nil {
		return nil, err
	}
	win := cw.group(l.TZGroup)
	retryAt := time.Time{}
	if l.Status == LeadRetry && l.NextAt.After(now) {
		retryAt = l.NextAt
	}
	if !win.Open(now) && (retryAt.IsZero() || !win.Open(retryAt)) {
		// Closed now, and still closed at its retry time (if any): the
		// window is what holds it, until it opens after both.
		at := win.NextOpen(maxTime(now, retryAt))
		if bad := win.unloadable(); len(bad) > 0 {
			return set(GateWindow, time.Time{}, "never: the lead's time zone %s cannot be loaded on this host (tzdata missing or too old): held, not dialed", strings.Join(bad, ", ")), nil
		}
		if at.IsZero() {
			return set(GateWindow, time.Time{}, "never: the lead's local window (%s) never overlaps the campaign's", zonesOf(c, l.TZGroup)), nil
		}
		where := "campaign"
		if len(win) > 1 && cw.camp.Open(now) {
			where = "lead's local"
		}
		return set(GateWindow, at, "outside the %s calling window until %s", where, at.In(cw.camp.Location()).Format("Mon 2006-01-02 15:04 MST")), nil
	}
	if l.Status == LeadRetry && l.NextAt.After(now) {
		return set(GateBackoff, l.NextAt, "waiting for its next attempt (%d of %d) at %s", l.Attempts+1, c.RetryPolicy.MaxAttempts,
			l.NextAt.In(cw.camp.Location()).Format("Mon 2006-01-02 15:04 MST")), nil
	}
	if n, gate := e.capacity(c, now); n <= 0 {
		g := GateCampaignCap
		switch gate {
		case "org concurrency full":
			g = GateOrgCap
		case "number calls-per-second budget used":
			g = GateRate
		}
		return set(g, time.Time{}, "due, but %s", gate), nil
	}
	next := e.NextTick()
	if next.IsZero() || next.Before(now) {
		next = now
	}
	return set(GateDue, next, "due: it will be dialed at a coming tick (leads ahead of it go first)"), nil
}

func zonesOf(c *Campaign, g uint16) string {
	if int(g) < len(c.TZGroups) && len(c.TZGroups[g]) > 0 {
		return strings.Join(c.TZGroups[g], ", ")
	}
	return c.Schedule.Timezone
}
