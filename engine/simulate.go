package engine

import (
	"container/heap"
	"context"
	"fmt"
	"sort"
	"time"
)

// Simulator draws a call's result without placing it (the sim carrier).
type Simulator interface {
	Simulate(req CallRequest) CallResult
}

// SimAttempt is one attempt of a dry run.
type SimAttempt struct {
	LeadID      uint64      `json:"leadId"`
	Phone       string      `json:"phone"`
	Attempt     int         `json:"attempt"`
	At          time.Time   `json:"at"`
	Outcome     Outcome     `json:"outcome"`
	Disposition Disposition `json:"disposition"`
}

// Unreachable is a lead whose own window never overlaps the campaign's.
type Unreachable struct {
	LeadID uint64   `json:"leadId"`
	Phone  string   `json:"phone"`
	Zones  []string `json:"zones"`
}

// SimulationResult is what a dry run found.
type SimulationResult struct {
	From           time.Time      `json:"from"`
	Until          time.Time      `json:"until"`
	Finished       bool           `json:"finished"`
	FinishedAt     *time.Time     `json:"finishedAt,omitempty"`
	AttemptsPerDay map[string]int `json:"attemptsPerDay"`
	Report         *Report        `json:"report"`
	Unreachable    []Unreachable  `json:"unreachable"`
	UnreachableN   int            `json:"unreachableCount"`
	Attempts       []SimAttempt   `json:"attempts"`
}

// pendingCall is a simulated call waiting for its end time.
type pendingCall struct {
	end       time.Time
	seq       int
	cid, lid  uint64
	attempt   int
	startedAt time.Time
	res       CallResult
	phone     string
}

type callHeap []*pendingCall

func (h callHeap) Len() int { return len(h) }
func (h callHeap) Less(i, j int) bool {
	if !h[i].end.Equal(h[j].end) {
		return h[i].end.Before(h[j].end)
	}
	return h[i].seq < h[j].seq
}
func (h callHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *callHeap) Push(x any)   { *h = append(*h, x.(*pendingCall)) }
func (h *callHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// simState is an engine's dry-run mode: calls are not placed but queued to
// end at their simulated time.
type simState struct {
	sim   Simulator
	clock *FakeClock
	queue callHeap
	seq   int
}

// CopyCampaign copies a campaign, its leads and the DNC list from src into
// dst (a scratch store), so a dry run never touches the real database. Leads
// that were being dialed are copied as due now. It returns the new ID.
func CopyCampaign(src, dst Store, cid uint64) (uint64, error) {
	var c *Campaign
	var dnc []DNCEntry
	if err := src.View(func(tx Tx) error {
		var err error
		if c, err = tx.Campaign(cid); err != nil {
			return err
		}
		return tx.ScanDNC(func(d DNCEntry) bool { dnc = append(dnc, d); return true })
	}); err != nil {
		return 0, fmt.Errorf("copy campaign: %w", err)
	}
	cp := *c
	cp.ID = 0
	if err := dst.Update(func(tx Tx) error {
		for _, d := range dnc {
			if err := tx.PutDNC(d); err != nil {
				return err
			}
		}
		return tx.PutCampaign(&cp)
	}); err != nil {
		return 0, fmt.Errorf("copy campaign: %w", err)
	}
	after := uint64(0)
	for {
		var batch []*Lead
		if err := src.View(func(tx Tx) error {
			return tx.ScanLeads(cid, after, func(l *Lead) bool {
				batch = append(batch, l)
				return len(batch) < importBatch
			})
		}); err != nil {
			return 0, fmt.Errorf("copy leads: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].ID
		for _, l := range batch {
			if l.Status == LeadDialing {
				l.Status = LeadPending
				if l.Attempts > 0 {
					l.Status = LeadRetry
				}
			}
		}
		if err := dst.Update(func(tx Tx) error { return tx.InsertLeads(cp.ID, batch) }); err != nil {
			return 0, fmt.Errorf("copy leads: %w", err)
		}
	}
	return cp.ID, nil
}

// Simulate runs campaign cid of the engine's store (a scratch copy) on a
// virtual clock from from until it ends or horizon passes. The engine must
// have been made with NewSimulation. Idle stretches (window closed, nothing
// due) are skipped, so a week of campaign time takes seconds.
func (e *Engine) Simulate(cid uint64, from time.Time, horizon time.Duration) (*SimulationResult, error) {
	if e.sim == nil {
		return nil, fmt.Errorf("simulate: engine not in simulation mode")
	}
	c, err := e.Campaign(fmt.Sprint(cid))
	if err != nil {
		return nil, err
	}
	// A dry run shows what a running campaign would do.
	if c.State != StateRunning {
		if err := e.store.Update(func(tx Tx) error {
			cur, err := tx.Campaign(cid)
			if err != nil {
				return err
			}
			cur.State = StateRunning
			return tx.PutCampaign(cur)
		}); err != nil {
			return nil, err
		}
	}
	cw, err := e.windowsFor(c)
	if err != nil {
		return nil, err
	}
	res := &SimulationResult{From: from, AttemptsPerDay: map[string]int{}, Attempts: []SimAttempt{}, Unreachable: []Unreachable{}}
	if err := e.findUnreachable(c, cw, from, res); err != nil {
		return nil, err
	}
	end := from.Add(horizon)
	t := from
	ctx := context.Background()
	loc := cw.camp.Location()
	for !t.After(end) {
		e.sim.clock.Set(t)
		if err := e.Tick(ctx); err != nil {
			return nil, err
		}
		next := t.Add(e.tick)
		for len(e.sim.queue) > 0 && !e.sim.queue[0].end.After(next) {
			pc := heap.Pop(&e.sim.queue).(*pendingCall)
			e.sim.clock.Set(pc.end)
			if err := e.record(pc.cid, pc.lid, pc.attempt, pc.startedAt, pc.res); err != nil {
				return nil, err
			}
			e.mu.Lock()
			delete(e.active, callKey{pc.cid, pc.lid})
			e.perCamp[pc.cid]--
			e.mu.Unlock()
			disp := DispNone
			_ = e.store.View(func(tx Tx) error {
				if l, err := tx.Lead(pc.cid, pc.lid); err == nil {
					disp = l.Disposition
				}
				return nil
			})
			res.Attempts = append(res.Attempts, SimAttempt{LeadID: pc.lid, Phone: pc.phone, Attempt: pc.attempt, At: pc.startedAt, Outcome: pc.res.Outcome, Disposition: disp})
			res.AttemptsPerDay[pc.startedAt.In(loc).Format("2006-01-02")]++
		}
		cur, err := e.Campaign(fmt.Sprint(cid))
		if err != nil {
			return nil, err
		}
		if cur.State != StateRunning && len(e.sim.queue) == 0 {
			res.Finished = cur.State == StateCompleted || cur.State == StateFailed
			if cur.EndedAt != nil {
				at := *cur.EndedAt
				res.FinishedAt = &at
			}
			t = e.sim.clock.Now()
			break
		}
		t = e.skipIdle(cur, cw, next)
	}
	res.Until = e.sim.clock.Now()
	r, err := e.Report(fmt.Sprint(cid))
	if err != nil {
		return nil, err
	}
	res.Report = r
	sort.SliceStable(res.Attempts, func(i, j int) bool { return res.Attempts[i].At.Before(res.Attempts[j].At) })
	return res, nil
}

// skipIdle returns the next tick worth running: next itself while calls are
// live, else the first tick at or after the earliest due lead and an open
// window.
func (e *Engine) skipIdle(c *Campaign, cw *campaignWindows, next time.Time) time.Time {
	if len(e.sim.queue) > 0 {
		return next
	}
	var earliest time.Time
	found := false
	_ = e.store.View(func(tx Tx) error {
		for g := range cw.groups {
			at, ok, err := tx.NextDue(c.ID, uint16(g))
			if err != nil || !ok {
				continue
			}
			if open := cw.groups[g].NextOpen(maxTime(at, next)); !open.IsZero() {
				if !found || open.Before(earliest) {
					earliest, found = open, true
				}
			}
		}
		return nil
	})
	if !found || !earliest.After(next) {
		return next
	}
	// Stay on the tick grid.
	steps := (earliest.Sub(next) + e.tick - 1) / e.tick
	return next.Add(steps * e.tick)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// findUnreachable lists leads (with lead-local time) whose zones' windows
// never overlap the campaign's.
func (e *Engine) findUnreachable(c *Campaign, cw *campaignWindows, from time.Time, res *SimulationResult) error {
	never := map[uint16]bool{}
	for g := range cw.groups {
		if cw.groups[g].NextOpen(from).IsZero() {
			never[uint16(g)] = true
		}
	}
	if len(never) == 0 {
		return nil
	}
	return e.store.View(func(tx Tx) error {
		return tx.ScanLeads(c.ID, 0, func(l *Lead) bool {
			if never[l.TZGroup] && l.Status.Due() {
				res.UnreachableN++
				if len(res.Unreachable) < 100 {
					var zones []string
					if int(l.TZGroup) < len(c.TZGroups) {
						zones = c.TZGroups[l.TZGroup]
					}
					res.Unreachable = append(res.Unreachable, Unreachable{LeadID: l.ID, Phone: l.Phone, Zones: zones})
				}
			}
			return true
		})
	})
}

// NewSimulation makes an engine for dry runs over a scratch store: its clock
// is virtual and calls end at their simulated times instead of being placed.
func NewSimulation(opts Options, sim Simulator, clock *FakeClock) (*Engine, error) {
	opts.Clock = clock
	opts.Placer = noPlacer{}
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	e.sim = &simState{sim: sim, clock: clock}
	return e, nil
}

type noPlacer struct{}

func (noPlacer) Place(context.Context, CallRequest) CallResult {
	return CallResult{Outcome: OutcomeFailed, Reason: "simulation places no calls"}
}

// simulateLaunch queues a claimed call's simulated end instead of placing it.
func (e *Engine) simulateLaunch(req CallRequest, slot time.Time, now time.Time) {
	res := e.sim.sim.Simulate(req)
	e.sim.seq++
	heap.Push(&e.sim.queue, &pendingCall{end: slot.Add(res.RingDuration + res.TalkDuration), seq: e.sim.seq,
		cid: req.CampaignID, lid: req.LeadID, attempt: req.Attempt, startedAt: slot, res: res, phone: req.Phone})
}
