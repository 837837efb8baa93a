package engine_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/nyaruka/phonenumbers"
)

// leadLocalNumbers are leads whose numbers map to different zones, several
// to more than one (a US area code spanning two zones, toll-free +1 800
// spanning the continent), on both sides of the US and EU DST rules.
var leadLocalNumbers = []string{
	"+12125551234",   // New York
	"+18125551234",   // New York (Indiana area code)
	"+13125551234",   // Chicago
	"+14155552671",   // Los Angeles
	"+16025551234",   // Phoenix (no DST)
	"+12085551234",   // Boise + Los Angeles
	"+17015551234",   // Denver + North Dakota/Center
	"+19075551234",   // Adak + Anchorage
	"+17095551234",   // Puerto Rico (no DST) + St Johns (-3:30, DST)
	"+18003569377",   // toll-free: ~40 zones
	"+447911123456",  // London, Guernsey, Isle of Man
	"+4930901820",    // Berlin
	"+919876543210",  // Kolkata
	"+9779841234567", // Kathmandu (+5:45)
	"+64211234567",   // Auckland (southern DST)
	"+61412345678",   // Sydney (southern DST)
}

// candidateZones is the test's own reading of a number's zones, straight
// from phonenumbers (unknown and unloadable zones dropped, as the importer
// does); the engine is checked against every one of them.
func candidateZones(t *testing.T, e164 string) []*time.Location {
	t.Helper()
	names, err := phonenumbers.GetTimezonesForPrefix(e164)
	if err != nil {
		t.Fatal(err)
	}
	var locs []*time.Location
	for _, n := range names {
		if n == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if loc, err := time.LoadLocation(n); err == nil {
			locs = append(locs, loc)
		}
	}
	if len(locs) == 0 {
		t.Fatalf("%s: no zone", e164)
	}
	return locs
}

// openAt is the test's own window check, not the engine's: the wall clock
// and weekday of t in loc against [start, end) minutes, a window crossing
// midnight belonging to the day it starts on, start == end meaning all day.
// days is indexed by ISO weekday (1 Mon .. 7 Sun).
func openAt(t time.Time, loc *time.Location, start, end int, days [8]bool) bool {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	iso := int(lt.Weekday())
	if iso == 0 {
		iso = 7
	}
	yesterday := iso - 1
	if yesterday == 0 {
		yesterday = 7
	}
	switch {
	case start == end:
		return days[iso]
	case start < end:
		return days[iso] && start <= m && m < end
	default:
		return (m >= start && days[iso]) || (m < end && days[yesterday])
	}
}

// dstChanges are the 2026 US and EU (and southern-hemisphere) DST changes
// the trials start around.
var dstChanges = []time.Time{
	time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),   // US spring forward (2:00 EST)
	time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC),  // EU spring forward
	time.Date(2026, 4, 4, 16, 0, 0, 0, time.UTC),  // Sydney falls back (Apr 5 3:00 AEDT)
	time.Date(2026, 9, 26, 14, 0, 0, 0, time.UTC), // Auckland springs forward (Sep 27 2:00 NZST)
	time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), // EU fall back
	time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC),  // US fall back (2:00 EDT)
	time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), // mid-summer north: NY at UTC-4
}

// TestNoCallOutsideLeadLocalWindowProperty drives random campaigns with
// Schedule.LeadLocalTime on leads across zones (some numbers in several) at
// random instants around DST changes, and checks every placed call against
// the campaign window AND the window in every candidate zone of the lead's
// number, with the test's own clock arithmetic. Half the trials pace the
// number at 0.2 calls/s and tick a few seconds before window edges, so calls
// queued for a later slot must be re-checked against the lead's window.
func TestNoCallOutsideLeadLocalWindowProperty(t *testing.T) {
	campZones := []string{"UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Kolkata"}
	zonesOf := map[string][]*time.Location{}
	for _, n := range leadLocalNumbers {
		zonesOf[n] = candidateZones(t, n)
	}
	r := rand.New(rand.NewPCG(17, 23))
	var checked, multiZone, paced, requeued int
	for trial := 0; trial < 12; trial++ {
		cps := 0.0
		if trial%2 == 1 {
			cps = 0.2 // one start per 5 s: a 15 s tick queues calls up to 15 s ahead
		}
		h := newHarness(t, 20, func(o *engine.Options) { o.Numbers[0].CallsPerSecond = cps })
		h.placer.result = func(engine.CallRequest) engine.CallResult {
			return engine.CallResult{Outcome: engine.OutcomeNoAnswer}
		}
		start, end := r.IntN(24)*60+r.IntN(4)*15, r.IntN(24)*60+r.IntN(4)*15
		if trial%4 == 0 {
			start, end = 0, 0 // campaign window always open: only the leads' windows limit
		}
		endStr := fmt.Sprintf("%02d:%02d", end/60, end%60)
		if end == 0 && start != 0 {
			endStr = "24:00"
		}
		spec := specBody(fmt.Sprint("ll", trial))
		spec.Schedule = engine.Schedule{
			Timezone:      campZones[r.IntN(len(campZones))],
			WindowStart:   fmt.Sprintf("%02d:%02d", start/60, start%60),
			WindowEnd:     endStr,
			LeadLocalTime: true,
		}
		var days [8]bool
		for d := 1; d <= 7; d++ {
			if trial%4 == 0 || r.IntN(3) > 0 {
				spec.Schedule.Weekdays = append(spec.Schedule.Weekdays, d)
				days[d] = true
			}
		}
		if len(spec.Schedule.Weekdays) == 0 {
			d := r.IntN(7) + 1
			spec.Schedule.Weekdays, days[d] = []int{d}, true
		}
		spec.RetryPolicy = engine.RetryPolicy{MaxAttempts: 10, BackoffMinutes: r.IntN(90), RetryOn: []string{"no_answer"}}
		spec.MaxConcurrent = 2 + r.IntN(6)
		c, err := h.e.CreateCampaign(spec)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("phone,first_name,company\n")
		for i, n := range leadLocalNumbers {
			fmt.Fprintf(&b, "%s,L%d,Acme\n", n, i)
		}
		if sum, err := h.e.ImportLeads(fmt.Sprint(c.ID), strings.NewReader(b.String()), engine.ImportOptions{}); err != nil || sum.Imported != len(leadLocalNumbers) {
			t.Fatalf("import: %v %+v", err, sum)
		}
		if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
			t.Fatal(err)
		}
		campLoc, err := time.LoadLocation(spec.Schedule.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		// A random instant within 6 days before a DST change.
		at := dstChanges[r.IntN(len(dstChanges))].Add(-time.Duration(r.IntN(6*24*60)) * time.Minute)
		if cps > 0 {
			// Every zone's offset is a multiple of 15 min and so is every
			// window edge: ticking 7 s before a quarter hour puts the
			// queued slots (+5 s, +10 s) on both sides of any edge.
			at = at.Truncate(15 * time.Minute).Add(15*time.Minute - 7*time.Second)
		}
		h.clock.Set(at)
		for step := 0; step < 400; step++ {
			h.tick()
			if cps > 0 {
				requeued += h.drainQueued()
				next := h.clock.Now().Add(time.Duration(1+r.IntN(8)) * 15 * time.Minute)
				if r.IntN(4) > 0 {
					// Mostly: 7 s before a random lead zone's window closes,
					// with the test's own arithmetic.
					zs := zonesOf[leadLocalNumbers[r.IntN(len(leadLocalNumbers))]]
					if q := nextClose(h.clock.Now(), zs[r.IntN(len(zs))], start, end, days); !q.IsZero() {
						next = q.Add(-7 * time.Second)
					}
				}
				h.clock.Set(next)
			} else {
				h.settle()
				h.clock.Advance(time.Duration(1+r.IntN(20)) * time.Minute)
			}
		}
		for _, p := range h.placer.placedCalls() {
			where := []*time.Location{campLoc}
			where = append(where, zonesOf[p.req.Phone]...)
			for _, loc := range where {
				if !openAt(p.at, loc, start, end, days) {
					t.Fatalf("trial %d (%s %s-%s days %v, cps %v): call to %s at %s is outside the window in %s (%s)",
						trial, spec.Schedule.Timezone, spec.Schedule.WindowStart, spec.Schedule.WindowEnd, spec.Schedule.Weekdays, cps,
						p.req.Phone, p.at.UTC().Format(time.RFC3339), loc, p.at.In(loc).Format("Mon 15:04 MST"))
				}
			}
			checked++
			if len(zonesOf[p.req.Phone]) > 1 {
				multiZone++
			}
			if cps > 0 {
				paced++
			}
		}
		h.check(c)
	}
	t.Logf("%d calls checked against campaign + every candidate zone (%d to multi-zone numbers, %d paced at 0.2/s); %d queued calls re-checked out at their slot",
		checked, multiZone, paced, requeued)
	// The property is only tested if calls were placed, to multi-zone
	// numbers, and paced calls met a closing lead window.
	if checked < 500 || multiZone < 50 || paced < 100 || requeued < 5 {
		t.Fatalf("too little exercised: %d calls, %d multi-zone, %d paced, %d re-checked out", checked, multiZone, paced, requeued)
	}
}

// drainQueued lets every call queued for a calls-per-second slot reach it:
// it moves the fake clock to each pending slot in turn, once every call not
// waiting for a slot has finished. It returns how many queued calls were
// not placed (released at their slot).
func (h *harness) drainQueued() int {
	h.t.Helper()
	before := len(h.placer.placedCalls())
	tickAt := h.clock.Now()
	queued := h.clock.Waiters()
	for {
		deadline := time.Now().Add(10 * time.Second)
		for h.e.ActiveCount(0) > h.clock.Waiters() {
			if time.Now().After(deadline) {
				h.t.Fatalf("%d calls active, %d waiting for a slot", h.e.ActiveCount(0), h.clock.Waiters())
			}
			runtime.Gosched()
		}
		next, ok := h.clock.NextWaiter()
		if !ok {
			break
		}
		h.clock.Set(next)
	}
	h.settle()
	placedLater := 0
	for _, p := range h.placer.placedCalls()[before:] {
		if p.at.After(tickAt) {
			placedLater++
		}
	}
	return queued - placedLater
}

// nextClose is the first quarter hour after now (within 8 days) at which
// the window in loc goes from open to closed; zero if none.
func nextClose(now time.Time, loc *time.Location, start, end int, days [8]bool) time.Time {
	q := now.Truncate(15 * time.Minute).Add(15 * time.Minute)
	for i := 0; i < 8*24*4; i++ {
		if q.Sub(now) > 10*time.Second && openAt(q.Add(-time.Minute), loc, start, end, days) && !openAt(q, loc, start, end, days) {
			return q
		}
		q = q.Add(15 * time.Minute)
	}
	return time.Time{}
}
