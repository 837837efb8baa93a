package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ActiveCall is a live call as the UI shows it.
type ActiveCall struct {
	CampaignID uint64
	LeadID     uint64
	Attempt    int
	Phone      string // E.164; mask it before logging
	Name       string // a name variable of the lead, if it has one
	ClaimedAt  time.Time
	Progress   CallProgress

	cancel context.CancelFunc
	out    bool // the placer reported the call out at the carrier (KillAtEnv)
}

// ActiveCalls lists live calls (of one campaign, or all when cid is 0),
// oldest first.
func (e *Engine) ActiveCalls(cid uint64) []ActiveCall {
	e.mu.Lock()
	out := make([]ActiveCall, 0, len(e.active))
	for k, ac := range e.active {
		if cid == 0 || k.campaign == cid {
			c := *ac
			c.cancel = nil
			out = append(out, c)
		}
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ClaimedAt.Equal(out[j].ClaimedAt) {
			return out[i].ClaimedAt.Before(out[j].ClaimedAt)
		}
		return out[i].LeadID < out[j].LeadID
	})
	return out
}

// ActiveCount is the number of live calls of a campaign (0: all campaigns).
func (e *Engine) ActiveCount(cid uint64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cid == 0 {
		return len(e.active)
	}
	return e.perCamp[cid]
}

// nameKeys are variables that hold a lead's name, in order of preference.
var nameKeys = []string{"name", "first_name", "firstname", "full_name", "contact", "customer"}

// leadColumns is a lead's row by column name (phone column excluded).
func leadColumns(c *Campaign, l *Lead) map[string]string {
	vars := make(map[string]string, len(c.Columns)+3)
	for i, col := range c.Columns {
		if i < len(l.Values) && i != c.PhoneColumn {
			vars[col] = l.Values[i]
		}
	}
	return vars
}

// leadVariables is a lead's row as template variables, plus the built-ins.
func leadVariables(c *Campaign, l *Lead) map[string]string {
	vars := leadColumns(c, l)
	vars[VarPhone] = l.Phone
	vars[VarCampaignName] = c.Name
	vars[VarAttempt] = strconv.Itoa(l.Attempts)
	return vars
}

func leadName(vars map[string]string) string {
	for _, k := range nameKeys {
		for col, v := range vars {
			if v != "" && equalFoldASCII(col, k) {
				return v
			}
		}
	}
	return ""
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// launch registers a claimed lead as a live call and places it in its own
// goroutine, at the number's next calls-per-second slot.
func (e *Engine) launch(c *Campaign, l *Lead, now time.Time) {
	vars := leadVariables(c, l)
	agent := e.agents[c.AgentID]
	prompt, _ := Render(agent.Prompt, vars)
	welcome, _ := Render(agent.WelcomeMessage, vars)
	num := e.numbers[c.PhoneNumberID]
	ctx, cancel := context.WithCancel(e.callCtx)
	key := callKey{c.ID, l.ID}
	ac := &ActiveCall{CampaignID: c.ID, LeadID: l.ID, Attempt: l.Attempts, Phone: l.Phone,
		Name: leadName(vars), ClaimedAt: now, Progress: CallProgress{State: "queued"}, cancel: cancel}
	e.mu.Lock()
	e.active[key] = ac
	e.perCamp[c.ID]++
	e.mu.Unlock()
	req := CallRequest{
		CampaignID: c.ID, CampaignName: c.Name, LeadID: l.ID, Attempt: l.Attempts, Phone: l.Phone,
		CallerID: num.CallerID, NumberID: num.ID, AgentID: c.AgentID, Variables: vars,
		Prompt: prompt, WelcomeMessage: welcome,
		OnProgress: func(p CallProgress) { e.progress(key, p) },
	}
	slot := e.pacer.slot(num.ID, num.CallsPerSecond, now)
	if e.sim != nil {
		e.simulateLaunch(req, slot, now)
		return
	}
	// The slot timer is armed here, not in the goroutine, so a fake clock
	// advanced right after Tick returns cannot miss it.
	var slotTimer <-chan time.Time
	if wait := slot.Sub(now); wait > 0 {
		slotTimer = e.clock.After(wait)
	}
	e.calls.Add(1)
	go func() {
		defer e.calls.Done()
		defer cancel()
		if slotTimer != nil {
			select {
			case <-slotTimer:
			case <-ctx.Done():
			}
		}
		// A call that waited for its calls-per-second slot is checked again:
		// the campaign may have been paused or stopped, the window may have
		// closed, or the number may have joined the DNC list meanwhile.
		why := ""
		if ctx.Err() != nil {
			why = "hung up before dialing"
		} else if slotTimer != nil {
			why = e.undialable(c.ID, l)
		}
		var err error
		if why != "" {
			// Never dialed: give the lead its attempt back.
			e.log.Info("queued call not placed", "campaign", c.ID, "lead", l.ID, "why", why)
			err = e.release(c.ID, l.ID, l.Attempts)
		} else {
			e.progress(key, CallProgress{State: "dialing"})
			res := e.place(ctx, req)
			err = e.record(c.ID, l.ID, l.Attempts, now, res)
		}
		e.mu.Lock()
		delete(e.active, key)
		e.perCamp[c.ID]--
		e.mu.Unlock()
		if err != nil {
			e.log.Error("record call outcome", "campaign", c.ID, "lead", l.ID, "err", err)
			e.events.publish(Event{Kind: EventError, CampaignID: c.ID, Message: err.Error(), At: e.clock.Now()})
		}
		e.events.publish(Event{Kind: EventCall, CampaignID: c.ID, At: e.clock.Now()})
		e.changed(c.ID)
	}()
}

// place runs the placer for one call. A panic in a placer (a carrier or
// agent bug hit by one call) is recovered here and recorded as that
// attempt's failure: it must not take down the engine and every other
// live call with it. The panic value and stack go to the log only (they may
// hold anything, the callee's number included): the attempt, and the
// webhook built from it, get a fixed reason with an id to find the log line.
func (e *Engine) place(ctx context.Context, req CallRequest) (res CallResult) {
	defer func() {
		if v := recover(); v != nil {
			id := ErrorID()
			e.log.Error("call placer panicked", "id", id, "campaign", req.CampaignID, "lead", req.LeadID, "attempt", req.Attempt,
				"phone", MaskPhone(req.Phone), "panic", maskNumber(fmt.Sprint(v), req.Phone), "stack", string(debug.Stack()))
			res = CallResult{Outcome: OutcomeFailed, Reason: fmt.Sprintf("internal error placing the call (see log, id %s)", id)}
		}
	}()
	return e.placer.Place(ctx, req)
}

// ErrorID is a short random id tying a stored reason ("internal error ...
// (see log, id 7f3a09c2)") to the log line holding the details, which may
// not be stored or sent in webhooks.
func ErrorID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "00000000" // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

// maskNumber masks e164, with or without its '+', wherever it appears in s.
func maskNumber(s, e164 string) string {
	if len(e164) < 2 {
		return s
	}
	m := MaskPhone(e164)
	s = strings.ReplaceAll(s, e164, m)
	return strings.ReplaceAll(s, e164[1:], m[1:])
}

// undialable says why a claimed lead must not be dialed now ("" if it may).
func (e *Engine) undialable(cid uint64, l *Lead) string {
	var why string
	err := e.store.View(func(tx Tx) error {
		c, err := tx.Campaign(cid)
		if err != nil {
			return err
		}
		if c.State != StateRunning {
			why = "campaign is " + string(c.State)
			return nil
		}
		if on, err := tx.DNCHas(l.Phone); err != nil || on {
			why = "number joined the DNC list"
			return err
		}
		cw, err := e.windowsFor(c)
		if err != nil {
			return err
		}
		if !cw.group(l.TZGroup).Open(e.clock.Now()) {
			why = "calling window closed"
		}
		return nil
	})
	if err != nil {
		return "cannot check the lead: " + err.Error()
	}
	return why
}

func (e *Engine) progress(key callKey, p CallProgress) {
	e.mu.Lock()
	ac := e.active[key]
	out := false
	if ac != nil {
		if p.LastLine == "" {
			p.LastLine = ac.Progress.LastLine
		}
		ac.Progress = p
		if !ac.out && p.State != "queued" && p.State != "dialing" {
			ac.out, out = true, true
		}
	}
	e.mu.Unlock()
	if out {
		e.testKill.at("placed", nil)
	}
	if ac != nil {
		e.events.publish(Event{Kind: EventCall, CampaignID: key.campaign})
	}
}

// hangUpCampaign cancels every live call of a campaign.
func (e *Engine) hangUpCampaign(cid uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, ac := range e.active {
		if k.campaign == cid && ac.cancel != nil {
			ac.cancel()
		}
	}
}

// dialingLead loads a lead that is still being dialed for this attempt; nil
// (and no error) when it is gone or was already settled (reconciled).
func dialingLead(tx Tx, cid, lid uint64, attempt int) (*Lead, error) {
	l, err := tx.Lead(cid, lid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if l.Status != LeadDialing || l.Attempts != attempt {
		return nil, nil
	}
	return l, nil
}

// release undoes a claim whose call was never placed.
func (e *Engine) release(cid, lid uint64, attempt int) error {
	return e.store.Update(func(tx Tx) error {
		l, err := dialingLead(tx, cid, lid, attempt)
		if l == nil {
			return err
		}
		l.Attempts--
		l.Status, l.NextAt = LeadPending, time.Time{}
		if l.Attempts > 0 {
			l.Status, l.NextAt = LeadRetry, e.clock.Now()
		}
		return tx.PutLead(cid, l)
	})
}

// record stores a finished call: the attempt, the lead's disposition and
// next attempt, DNC additions, and the campaign's completion, in one
// transaction. A result for a lead that is no longer dialing this attempt
// (already reconciled) is ignored.
func (e *Engine) record(cid, lid uint64, attempt int, startedAt time.Time, res CallResult) error {
	now := e.clock.Now()
	var ended bool
	err := e.store.Update(func(tx Tx) error {
		c, err := tx.Campaign(cid)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		l, err := dialingLead(tx, cid, lid, attempt)
		if l == nil {
			if err == nil {
				e.log.Warn("stale call outcome ignored", "campaign", cid, "lead", lid, "attempt", attempt)
			}
			return err
		}
		agent := e.agents[c.AgentID]
		disp := Dispose(res, agent.Analysis)
		if disp == DispDNC {
			if err := tx.PutDNC(DNCEntry{Phone: l.Phone, AddedAt: now, Source: fmt.Sprintf("agent end_call do_not_call (campaign %q)", c.Name)}); err != nil {
				return err
			}
		}
		cw, err := e.windowsFor(c)
		if err != nil {
			return err
		}
		next, retry := nextAttempt(c, cw.group(l.TZGroup), l.Attempts, disp, res, now)
		l.Disposition = disp
		if retry {
			l.Status, l.NextAt = LeadRetry, next
		} else {
			l.Status, l.NextAt = LeadDone, time.Time{}
		}
		if err := tx.PutLead(cid, l); err != nil {
			return err
		}
		a := &Attempt{CampaignID: cid, LeadID: lid, Phone: l.Phone, Attempt: attempt, StartedAt: startedAt, EndedAt: now,
			Outcome: res.Outcome, Disposition: disp, Reason: res.Reason, SIPCode: res.SIPCode, Permanent: res.Permanent,
			RingSeconds: res.RingDuration.Seconds(), TalkSeconds: res.TalkDuration.Seconds(),
			PacketsToAgent: res.PacketsToAgent, PacketsFromAgent: res.PacketsFromAgent,
			Transcript: res.Transcript, Analysis: res.Analysis}
		if retry {
			t := next
			a.NextAttemptAt = &t
		}
		if err := tx.PutAttempt(a); err != nil {
			return err
		}
		data := LeadCompletedData{CampaignID: cid, CampaignName: c.Name, LeadID: lid, Phone: l.Phone,
			Variables: leadColumns(c, l), Attempt: attempt, Status: l.Status, Disposition: disp, Outcome: res.Outcome,
			Reason: res.Reason, SIPCode: res.SIPCode, Analysis: res.Analysis, StartedAt: startedAt, EndedAt: now, NextAttemptAt: a.NextAttemptAt}
		if res.Analysis != nil {
			data.Summary = res.Analysis.Summary
		}
		if err := e.emit(tx, c, EventLeadCompleted, lid, data); err != nil {
			return err
		}
		ended, err = e.maybeComplete(tx, cid)
		return err
	})
	e.wakeWebhooks()
	if err != nil {
		return fmt.Errorf("record attempt %d of lead %d: %w", attempt, lid, err)
	}
	e.stats.add(cid, now)
	if ended {
		e.events.publish(Event{Kind: EventLog, CampaignID: cid, Message: "campaign ended", At: now})
	}
	return nil
}
