package engine

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// retryable are the dispositions retryOn may name.
var retryable = map[Disposition]bool{DispNoAnswer: true, DispBusy: true, DispFailed: true, DispVoicemail: true}

// ValidateSpec checks a campaign body against the configuration. Every
// problem is reported, one per line, each naming its field.
func (e *Engine) ValidateSpec(s *CampaignSpec) error {
	var probs []string
	bad := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		bad("name: required")
	} else if len(s.Name) > 200 {
		bad("name: longer than 200 characters")
	}
	if _, ok := e.agents[s.AgentID]; !ok {
		bad("agentId: unknown agent %q (configured: %s)", s.AgentID, strings.Join(e.agentIDs(), ", "))
	}
	if _, ok := e.numbers[s.PhoneNumberID]; !ok {
		bad("phoneNumberId: unknown number %q (configured: %s)", s.PhoneNumberID, strings.Join(e.numberIDs(), ", "))
	}
	if s.MaxConcurrent < 1 {
		bad("maxConcurrent: must be at least 1, got %d", s.MaxConcurrent)
	}
	if _, err := NewWindow(s.Schedule); err != nil {
		bad("schedule: %v", err)
	}
	if s.RetryPolicy.MaxAttempts < 1 {
		bad("retryPolicy.maxAttempts: must be at least 1, got %d", s.RetryPolicy.MaxAttempts)
	}
	if s.RetryPolicy.BackoffMinutes < 0 {
		bad("retryPolicy.backoffMinutes: must not be negative, got %d", s.RetryPolicy.BackoffMinutes)
	}
	for _, r := range s.RetryPolicy.RetryOn {
		d, ok := ParseDisposition(r)
		if !ok || !retryable[d] {
			bad("retryPolicy.retryOn: %q is not retryable (use no_answer, busy, failed, voicemail)", r)
		}
	}
	if s.WebhookURL != "" {
		u, err := url.Parse(s.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("webhookUrl: %q is not an http(s) URL", s.WebhookURL)
		}
	}
	if s.DefaultRegion != "" {
		if r, err := ValidRegion(s.DefaultRegion); err != nil {
			bad("defaultRegion: %v", err)
		} else {
			s.DefaultRegion = r
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w campaign:\n  %s", ErrInvalid, strings.Join(probs, "\n  "))
	}
	return nil
}

func (e *Engine) agentIDs() []string {
	ids := make([]string, 0, len(e.agents))
	for id := range e.agents {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (e *Engine) numberIDs() []string {
	ids := make([]string, 0, len(e.numbers))
	for id := range e.numbers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// CreateCampaign validates the body and stores a new draft campaign.
func (e *Engine) CreateCampaign(s CampaignSpec) (*Campaign, error) {
	if err := e.ValidateSpec(&s); err != nil {
		return nil, err
	}
	now := e.clock.Now()
	c := &Campaign{CampaignSpec: s, State: StateDraft, CreatedAt: now, UpdatedAt: now}
	err := e.store.Update(func(tx Tx) error {
		if err := uniqueName(tx, s.Name, 0); err != nil {
			return err
		}
		return tx.PutCampaign(c)
	})
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	e.log.Info("campaign created", "campaign", c.ID, "name", c.Name)
	e.changed(c.ID)
	return c, nil
}

func uniqueName(tx Tx, name string, self uint64) error {
	all, err := tx.Campaigns()
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Name == name && o.ID != self {
			return fmt.Errorf("%w: a campaign named %q already exists (id %d)", ErrInvalid, name, o.ID)
		}
	}
	return nil
}

// EditCampaign replaces a campaign's settings (draft or scheduled only).
// Clearing scheduledStartAt on a scheduled campaign returns it to draft.
func (e *Engine) EditCampaign(ref string, s CampaignSpec) (*Campaign, error) {
	if err := e.ValidateSpec(&s); err != nil {
		return nil, err
	}
	var out *Campaign
	err := e.mutate(ref, ActEdit, func(tx Tx, c *Campaign) error {
		if err := uniqueName(tx, s.Name, c.ID); err != nil {
			return err
		}
		c.CampaignSpec = s
		if c.State == StateScheduled && s.ScheduledStartAt == nil {
			c.State = StateDraft
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteCampaign removes a campaign with its leads and attempts.
func (e *Engine) DeleteCampaign(ref string) error {
	var id uint64
	err := e.mutate(ref, ActDelete, func(tx Tx, c *Campaign) error {
		id = c.ID
		return tx.DeleteCampaign(c.ID)
	})
	if err == nil {
		e.mu.Lock()
		delete(e.windows, id)
		e.mu.Unlock()
	}
	return err
}

// mutate loads a campaign by reference, checks the action is allowed in its
// state, runs fn and stores the campaign, all in one transaction.
func (e *Engine) mutate(ref string, a Action, fn func(Tx, *Campaign) error) error {
	e.claimMu.Lock()
	defer e.claimMu.Unlock()
	var cid uint64
	deleted := a == ActDelete
	err := e.store.Update(func(tx Tx) error {
		c, err := findCampaign(tx, ref)
		if err != nil {
			return err
		}
		cid = c.ID
		if err := checkAction(c, a); err != nil {
			return err
		}
		from := c.State
		if err := fn(tx, c); err != nil {
			return err
		}
		if deleted {
			return nil
		}
		c.UpdatedAt = e.clock.Now()
		if err := tx.PutCampaign(c); err != nil {
			return err
		}
		why := "operator: " + string(a)
		if c.EndReason != "" && c.State == StateCompleted {
			why = c.EndReason
		}
		return e.emitStatus(tx, c, from, why)
	})
	if err != nil {
		return fmt.Errorf("%s campaign %s: %w", a, ref, err)
	}
	e.mu.Lock()
	delete(e.windows, cid)
	e.mu.Unlock()
	e.log.Info("campaign "+string(a), "campaign", cid)
	e.wakeWebhooks()
	e.changed(cid)
	return nil
}

// findCampaign resolves an ID or an exact name.
func findCampaign(tx Tx, ref string) (*Campaign, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseUint(ref, 10, 64); err == nil {
		c, err := tx.Campaign(id)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	all, err := tx.Campaigns()
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.Name == ref {
			return c, nil
		}
	}
	return nil, fmt.Errorf("campaign %q: %w (give an id or the exact name; `dialdeck campaign list` shows them)", ref, ErrNotFound)
}

// Campaign returns a campaign by ID or exact name.
func (e *Engine) Campaign(ref string) (*Campaign, error) {
	var c *Campaign
	err := e.store.View(func(tx Tx) error {
		var err error
		c, err = findCampaign(tx, ref)
		return err
	})
	return c, err
}

// Campaigns lists every campaign in ID order.
func (e *Engine) Campaigns() ([]*Campaign, error) {
	var out []*Campaign
	err := e.store.View(func(tx Tx) error {
		var err error
		out, err = tx.Campaigns()
		return err
	})
	return out, err
}

// EnsureCampaign creates a draft from the config unless one with that name
// exists; created reports which happened.
func (e *Engine) EnsureCampaign(s CampaignSpec) (c *Campaign, created bool, err error) {
	existing, err := e.Campaign(s.Name)
	if err == nil {
		return existing, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	c, err = e.CreateCampaign(s)
	return c, err == nil, err
}

// Start moves a draft or scheduled campaign to running; the next tick dials.
func (e *Engine) Start(ref string) error {
	return e.mutate(ref, ActStart, func(tx Tx, c *Campaign) error {
		return e.startLocked(tx, c, "started by operator")
	})
}

func (e *Engine) startLocked(tx Tx, c *Campaign, why string) error {
	cnt, err := tx.Counters(c.ID)
	if err != nil {
		return err
	}
	if cnt.Leads == 0 {
		return &RefusalError{Campaign: c.Name, State: c.State, Action: ActStart, Reason: "it has no leads; import leads first"}
	}
	now := e.clock.Now()
	c.State = StateRunning
	c.StartedAt = &now
	e.log.Info("campaign running", "campaign", c.ID, "why", why)
	return nil
}

// Schedule sets scheduledStartAt (when at is non-nil) and moves a draft to
// scheduled; it starts by itself at that time.
func (e *Engine) Schedule(ref string, at *time.Time) error {
	return e.mutate(ref, ActSchedule, func(tx Tx, c *Campaign) error {
		if at != nil {
			t := *at
			c.ScheduledStartAt = &t
		}
		if c.ScheduledStartAt == nil {
			return &RefusalError{Campaign: c.Name, State: c.State, Action: ActSchedule, Reason: "no start time: give one (RFC 3339) or set scheduledStartAt"}
		}
		cnt, err := tx.Counters(c.ID)
		if err != nil {
			return err
		}
		if cnt.Leads == 0 {
			return &RefusalError{Campaign: c.Name, State: c.State, Action: ActSchedule, Reason: "it has no leads; import leads first"}
		}
		c.State = StateScheduled
		return nil
	})
}

// Pause stops new calls; calls in progress finish normally.
func (e *Engine) Pause(ref string) error {
	return e.mutate(ref, ActPause, func(tx Tx, c *Campaign) error {
		c.State = StatePaused
		return nil
	})
}

// Resume lets a paused campaign dial again from the next tick.
func (e *Engine) Resume(ref string) error {
	return e.mutate(ref, ActResume, func(tx Tx, c *Campaign) error {
		c.State = StateRunning
		return nil
	})
}

// Stop ends a running or paused campaign for good (state completed); live
// calls are hung up and recorded, remaining leads are not dialed.
func (e *Engine) Stop(ref string) error {
	var cid uint64
	err := e.mutate(ref, ActStop, func(tx Tx, c *Campaign) error {
		now := e.clock.Now()
		c.State = StateCompleted
		c.EndedAt = &now
		c.EndReason = "stopped by operator"
		cid = c.ID
		return nil
	})
	if err == nil {
		e.hangUpCampaign(cid)
	}
	return err
}
