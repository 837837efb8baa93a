package engine

import (
	"context"
	"fmt"
	"time"
)

// campaignWindows caches a campaign's parsed windows: the campaign's own and,
// per lead time-zone group, the set that must all be open to dial it.
type campaignWindows struct {
	version time.Time
	camp    *Window
	groups  []WindowSet
}

func (e *Engine) windowsFor(c *Campaign) (*campaignWindows, error) {
	e.mu.Lock()
	cw := e.windows[c.ID]
	e.mu.Unlock()
	if cw != nil && cw.version.Equal(c.UpdatedAt) {
		return cw, nil
	}
	camp, err := NewWindow(c.Schedule)
	if err != nil {
		return nil, fmt.Errorf("campaign %d schedule: %w", c.ID, err)
	}
	cw = &campaignWindows{version: c.UpdatedAt, camp: camp}
	n := len(c.TZGroups)
	if n == 0 {
		n = 1
	}
	cw.groups = make([]WindowSet, n)
	for g := range cw.groups {
		set := WindowSet{camp}
		if c.Schedule.LeadLocalTime && g < len(c.TZGroups) {
			for _, z := range c.TZGroups[g] {
				s := c.Schedule
				s.Timezone = z
				w, err := NewWindow(s)
				if err != nil {
					// Fail closed: a zone this host cannot load (tzdata
					// missing or older than the one that imported the
					// leads) must not widen the window to the campaign's.
					e.warnZone(c.ID, z, err)
					w = neverOpen(z)
				}
				set = append(set, w)
			}
		}
		cw.groups[g] = set
	}
	e.mu.Lock()
	e.windows[c.ID] = cw
	e.mu.Unlock()
	return cw, nil
}

// warnZone logs, once per zone for the engine's life, that a lead zone
// cannot be loaded and its leads are held.
func (e *Engine) warnZone(cid uint64, zone string, err error) {
	e.mu.Lock()
	seen := e.badZones[zone]
	if e.badZones == nil {
		e.badZones = map[string]bool{}
	}
	e.badZones[zone] = true
	e.mu.Unlock()
	if !seen {
		e.log.Warn("lead time zone cannot be loaded: its leads are not dialed until it can", "campaign", cid, "zone", zone, "err", err)
	}
}

// group returns the window set of a lead's group (group 0 if out of range).
func (cw *campaignWindows) group(g uint16) WindowSet {
	if int(g) < len(cw.groups) {
		return cw.groups[g]
	}
	return cw.groups[0]
}

// Tick runs one dialer pass: auto-starts scheduled campaigns that are due,
// then for every running campaign inside its window claims up to
// min(maxConcurrent - active, org capacity left, number's calls-per-second
// budget) due leads (pending first, then retries) in one transaction, blocks
// DNC matches, and places the rest.
func (e *Engine) Tick(ctx context.Context) error {
	e.claimMu.Lock()
	defer e.claimMu.Unlock()
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil
	}
	now := e.clock.Now()
	e.mu.Lock()
	e.lastTick = now
	e.mu.Unlock()
	camps, err := e.Campaigns()
	if err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	var firstErr error
	for _, c := range camps {
		if c.State == StateScheduled && c.ScheduledStartAt != nil && !c.ScheduledStartAt.After(now) {
			if err := e.autoStart(c); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	for _, c := range camps {
		if c.State != StateRunning {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil
		}
		if err := e.tickCampaign(c, now); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("tick campaign %q: %w", c.Name, err)
		}
	}
	return firstErr
}

func (e *Engine) autoStart(c *Campaign) error {
	err := e.store.Update(func(tx Tx) error {
		cur, err := tx.Campaign(c.ID)
		if err != nil {
			return err
		}
		if cur.State != StateScheduled {
			return nil
		}
		from := cur.State
		if err := e.startLocked(tx, cur, "scheduled start"); err != nil {
			return err
		}
		cur.UpdatedAt = e.clock.Now()
		*c = *cur
		if err := tx.PutCampaign(cur); err != nil {
			return err
		}
		return e.emitStatus(tx, cur, from, "scheduled start at scheduledStartAt")
	})
	e.wakeWebhooks()
	if err != nil {
		return fmt.Errorf("auto-start campaign %q: %w", c.Name, err)
	}
	e.changed(c.ID)
	return nil
}

// capacity is how many calls campaign c may start now, and which gate limits it.
func (e *Engine) capacity(c *Campaign, now time.Time) (n int, gate string) {
	e.mu.Lock()
	campFree := c.MaxConcurrent - e.perCamp[c.ID]
	orgFree := e.orgMax - len(e.active)
	e.mu.Unlock()
	num := e.numbers[c.PhoneNumberID]
	// Only slots before the window closes count: a call queued for a later
	// slot would be released unplaced.
	horizon := now.Add(e.tick)
	if cw, err := e.windowsFor(c); err == nil {
		if closes := cw.camp.NextClose(now); !closes.IsZero() && closes.Before(horizon) {
			horizon = closes
		}
	}
	rate := e.pacer.budget(num.ID, num.CallsPerSecond, now, horizon)
	n, gate = campFree, "campaign concurrency full"
	if orgFree < n {
		n, gate = orgFree, "org concurrency full"
	}
	if rate < n {
		n, gate = rate, "number calls-per-second budget used"
	}
	return n, gate
}

func (e *Engine) tickCampaign(c *Campaign, now time.Time) error {
	cw, err := e.windowsFor(c)
	if err != nil {
		return err
	}
	if !cw.camp.Open(now) {
		return nil
	}
	want, _ := e.capacity(c, now)
	if want <= 0 {
		return nil
	}
	claimed, blocked, err := e.claim(c, cw, now, want)
	if err != nil {
		return err
	}
	if len(claimed) > 0 {
		e.testKill.at("claim", nil)
	}
	for _, l := range claimed {
		e.launch(c, l, now)
	}
	if len(claimed) > 0 || blocked > 0 {
		e.log.Info("tick", "campaign", c.ID, "claimed", len(claimed), "dncBlocked", blocked)
		e.changed(c.ID)
	}
	return nil
}

// claim takes up to want due leads in one transaction: pending leads before
// retries, only from time-zone groups whose windows are open. DNC matches are
// closed as dnc without dialing and do not use capacity.
func (e *Engine) claim(c *Campaign, cw *campaignWindows, now time.Time, want int) (claimed []*Lead, blocked int, err error) {
	var ended bool
	err = e.store.Update(func(tx Tx) error {
		claimed, blocked = claimed[:0], 0
		var open []uint16
		for g := range cw.groups {
			if cw.groups[g].Open(now) {
				open = append(open, uint16(g))
			}
		}
		if len(open) == 0 {
			return nil
		}
		capped := false
		for _, limit := range []time.Time{time.UnixMilli(0), now} {
			for len(claimed) < want && !capped {
				ids, err := dueIDs(tx, c.ID, open, limit, want-len(claimed))
				if err != nil {
					return err
				}
				if len(ids) == 0 {
					break
				}
				for _, lid := range ids {
					l, err := tx.Lead(c.ID, lid)
					if err != nil {
						return fmt.Errorf("claim lead %d: %w", lid, err)
					}
					onDNC, err := tx.DNCHas(l.Phone)
					if err != nil {
						return err
					}
					if onDNC {
						if blocked >= maxDNCPerClaim {
							capped = true // the rest next tick: keep this transaction short
							break
						}
						l.Status, l.Disposition, l.NextAt = LeadDone, DispDNC, time.Time{}
						if err := tx.PutLead(c.ID, l); err != nil {
							return err
						}
						if err := e.emit(tx, c, EventLeadCompleted, l.ID, LeadCompletedData{CampaignID: c.ID, CampaignName: c.Name,
							LeadID: l.ID, Phone: l.Phone, Variables: leadColumns(c, l), Attempt: l.Attempts, Status: l.Status,
							Disposition: DispDNC, Reason: "on the DNC list: not dialed", StartedAt: now, EndedAt: now}); err != nil {
							return err
						}
						blocked++
						continue
					}
					l.Status = LeadDialing
					l.Attempts++
					l.LastAt = now
					l.NextAt = time.Time{}
					if err := tx.PutLead(c.ID, l); err != nil {
						return err
					}
					claimed = append(claimed, l)
				}
			}
		}
		if blocked > 0 {
			ended, err = e.maybeComplete(tx, c.ID)
		}
		if err == nil && len(claimed) > 0 {
			e.testKill.at("precommit", func() bool { return e.callsOut(c.ID, claimed) })
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("claim: %w", err)
	}
	if blocked > 0 {
		e.wakeWebhooks()
	}
	if ended {
		e.hangUpCampaign(c.ID)
	}
	return claimed, blocked, nil
}

// maxDNCPerClaim bounds how many DNC matches one claim closes, so a list
// full of DNC numbers never turns a tick into one huge transaction.
const maxDNCPerClaim = 1000

// dueIDs collects up to n due lead IDs across the open groups.
func dueIDs(tx Tx, cid uint64, groups []uint16, limit time.Time, n int) ([]uint64, error) {
	var ids []uint64
	for _, g := range groups {
		if len(ids) >= n {
			break
		}
		err := tx.Due(cid, g, limit, func(lid uint64, _ time.Time) bool {
			ids = append(ids, lid)
			return len(ids) < n
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// maybeComplete ends a running or paused campaign once every lead is
// terminal: failed when every lead ended failed, completed otherwise.
func (e *Engine) maybeComplete(tx Tx, cid uint64) (bool, error) {
	c, err := tx.Campaign(cid)
	if err != nil {
		return false, err
	}
	if c.State != StateRunning && c.State != StatePaused {
		return false, nil
	}
	cnt, err := tx.Counters(cid)
	if err != nil {
		return false, err
	}
	if cnt.Leads == 0 || cnt.ByStatus[LeadDone] != cnt.Leads {
		return false, nil
	}
	now := e.clock.Now()
	from := c.State
	c.State, c.EndReason = StateCompleted, "every lead reached a final disposition"
	if cnt.ByDisposition[DispFailed] == cnt.Leads {
		c.State, c.EndReason = StateFailed, "every lead ended failed"
	}
	c.EndedAt = &now
	c.UpdatedAt = now
	e.log.Info("campaign ended", "campaign", cid, "state", c.State, "why", c.EndReason)
	if err := tx.PutCampaign(c); err != nil {
		return false, err
	}
	return true, e.emitStatus(tx, c, from, c.EndReason)
}
