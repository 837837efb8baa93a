package storage

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func pendingLeads(n int, group uint16) []*engine.Lead {
	out := make([]*engine.Lead, n)
	for i := range out {
		phone := fmt.Sprintf("+1415555%04d", i)
		out[i] = &engine.Lead{Phone: phone, Status: engine.LeadPending, TZGroup: group,
			Values: []string{phone, fmt.Sprintf("name%d", i)}}
	}
	return out
}

func TestCampaignRoundTrip(t *testing.T) {
	s := openTemp(t)
	start := t0.Add(time.Hour)
	c := &engine.Campaign{
		CampaignSpec: engine.CampaignSpec{Name: "Q2", AgentID: "a", MaxConcurrent: 5, ScheduledStartAt: &start,
			Schedule:    engine.Schedule{Timezone: "Asia/Kolkata", WindowStart: "10:00", WindowEnd: "18:00", Weekdays: []int{1, 2}},
			RetryPolicy: engine.RetryPolicy{MaxAttempts: 3, BackoffMinutes: 60, RetryOn: []string{"busy"}}},
		State: engine.StateDraft, CreatedAt: t0, UpdatedAt: t0,
		Columns: []string{"phone", "name"}, TZGroups: [][]string{{"Asia/Kolkata"}},
	}
	update(t, s, func(tx engine.Tx) error { return tx.PutCampaign(c) })
	if c.ID != 1 {
		t.Fatalf("first campaign ID %d", c.ID)
	}
	id2 := newCampaign(t, s, "second")
	if id2 != 2 {
		t.Fatalf("second campaign ID %d", id2)
	}
	view(t, s, func(tx engine.Tx) error {
		got, err := tx.Campaign(c.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("Campaign = %+v\nwant %+v", got, c)
		}
		all, err := tx.Campaigns()
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].ID != 1 || all[1].ID != 2 || all[1].Name != "second" {
			t.Errorf("Campaigns = %+v", all)
		}
		return nil
	})
	c.State = engine.StateRunning
	update(t, s, func(tx engine.Tx) error { return tx.PutCampaign(c) })
	view(t, s, func(tx engine.Tx) error {
		got, err := tx.Campaign(c.ID)
		if err == nil && got.State != engine.StateRunning {
			t.Errorf("state %s", got.State)
		}
		return err
	})
	err := s.Update(func(tx engine.Tx) error { return tx.PutCampaign(&engine.Campaign{ID: 77}) })
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("put unknown campaign: %v", err)
	}
	update(t, s, func(tx engine.Tx) error {
		if err := tx.InsertLeads(c.ID, pendingLeads(3, 0)); err != nil {
			return err
		}
		return tx.DeleteCampaign(c.ID)
	})
	view(t, s, func(tx engine.Tx) error {
		if _, err := tx.Campaign(c.ID); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("deleted campaign: %v", err)
		}
		if _, err := tx.Lead(c.ID, 1); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("lead of deleted campaign: %v", err)
		}
		return nil
	})
	if err := s.Update(func(tx engine.Tx) error { return tx.DeleteCampaign(c.ID) }); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// IDs are never reused.
	if id := newCampaign(t, s, "third"); id != 3 {
		t.Fatalf("third campaign ID %d", id)
	}
}

func TestLeadRoundTrip(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	in := []*engine.Lead{
		{Phone: "+14155550000", Status: engine.LeadPending, Values: []string{"+14155550000", "Arjun", "", "₹12,450"}},
		{Phone: "+14155550001", Status: engine.LeadRetry, Disposition: engine.DispBusy, Attempts: 2,
			NextAt: t0.Add(90 * time.Minute), LastAt: t0, TZGroup: 3},
		{Phone: "+14155550002", Status: engine.LeadDone, Disposition: engine.DispQualified, Attempts: 1, LastAt: t0},
		{Phone: "+14155550003", Status: engine.LeadDialing, Attempts: 1, LastAt: t0.Add(time.Second), TZGroup: 65535},
	}
	update(t, s, func(tx engine.Tx) error { return tx.InsertLeads(cid, in) })
	more := pendingLeads(2, 0)
	update(t, s, func(tx engine.Tx) error { return tx.InsertLeads(cid, more) })
	for i, l := range append(append([]*engine.Lead{}, in...), more...) {
		if l.ID != uint64(i+1) {
			t.Fatalf("lead %d got ID %d", i, l.ID)
		}
	}
	view(t, s, func(tx engine.Tx) error {
		for _, want := range in {
			got, err := tx.Lead(cid, want.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Lead(%d) = %+v\nwant %+v", want.ID, got, want)
			}
		}
		var ids []uint64
		if err := tx.ScanLeads(cid, 2, func(l *engine.Lead) bool { ids = append(ids, l.ID); return len(ids) < 3 }); err != nil {
			return err
		}
		if !reflect.DeepEqual(ids, []uint64{3, 4, 5}) {
			t.Errorf("ScanLeads after 2 = %v", ids)
		}
		if _, err := tx.Lead(cid, 99); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("missing lead: %v", err)
		}
		inf, err := tx.Inflight(cid)
		if err != nil {
			return err
		}
		if want := []engine.InflightRecord{{LeadID: 4, Attempt: 1, StartedAt: t0.Add(time.Second)}}; !reflect.DeepEqual(inf, want) {
			t.Errorf("Inflight = %+v", inf)
		}
		cnt, err := tx.Counters(cid)
		if err != nil {
			return err
		}
		want := engine.Counters{Leads: 6, Attempts: 4,
			ByStatus:      map[engine.LeadStatus]uint64{engine.LeadPending: 3, engine.LeadRetry: 1, engine.LeadDone: 1, engine.LeadDialing: 1},
			ByDisposition: map[engine.Disposition]uint64{engine.DispBusy: 1, engine.DispQualified: 1}}
		if !reflect.DeepEqual(cnt, want) {
			t.Errorf("Counters = %+v\nwant %+v", cnt, want)
		}
		return nil
	})
	err := s.Update(func(tx engine.Tx) error {
		return tx.PutLead(cid, &engine.Lead{ID: 99, Status: engine.LeadDone})
	})
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("PutLead of missing lead: %v", err)
	}
	err = s.Update(func(tx engine.Tx) error {
		return tx.PutLead(cid, &engine.Lead{ID: 1, Status: "weird"})
	})
	if !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("PutLead with bad status: %v", err)
	}
	if err := s.View(func(tx engine.Tx) error { return tx.InsertLeads(cid, pendingLeads(1, 0)) }); err == nil {
		t.Fatal("InsertLeads in a read-only tx succeeded")
	}
	if err := s.Update(func(tx engine.Tx) error { return tx.InsertLeads(42, pendingLeads(1, 0)) }); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("InsertLeads into a missing campaign: %v", err)
	}
	checkClean(t, s, cid, true)
}

// checkClean asserts Check reports nothing (phone index checked only when
// phones is true; otherwise the campaign is marked PhoneIndexDirty first).
func checkClean(t *testing.T, s *Store, cid uint64, noPhones bool) {
	t.Helper()
	if noPhones {
		update(t, s, func(tx engine.Tx) error {
			c, err := tx.Campaign(cid)
			if err != nil {
				return err
			}
			c.PhoneIndexDirty = true
			return tx.PutCampaign(c)
		})
	}
	view(t, s, func(tx engine.Tx) error {
		probs, err := tx.Check(cid)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			t.Errorf("Check found problems:\n%v", probs)
		}
		return nil
	})
}

type dueHit struct {
	lid uint64
	at  time.Time
}

func collectDue(t *testing.T, s *Store, cid uint64, group uint16, now time.Time, max int) []dueHit {
	t.Helper()
	var out []dueHit
	view(t, s, func(tx engine.Tx) error {
		return tx.Due(cid, group, now, func(lid uint64, at time.Time) bool {
			out = append(out, dueHit{lid, at})
			return max == 0 || len(out) < max
		})
	})
	return out
}

func TestDueOrderingAcrossGroupsAndTimes(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	leads := []*engine.Lead{
		{Phone: "+1", Status: engine.LeadRetry, NextAt: at(30), TZGroup: 1},  // 1
		{Phone: "+2", Status: engine.LeadPending, TZGroup: 1},                // 2: due since always
		{Phone: "+3", Status: engine.LeadRetry, NextAt: at(10), TZGroup: 1},  // 3
		{Phone: "+4", Status: engine.LeadRetry, NextAt: at(-5), TZGroup: 0},  // 4: other group
		{Phone: "+5", Status: engine.LeadRetry, NextAt: at(120), TZGroup: 1}, // 5: not yet due
		{Phone: "+6", Status: engine.LeadRetry, NextAt: at(1), TZGroup: 2},   // 6: other group
		{Phone: "+7", Status: engine.LeadDone, NextAt: at(1), TZGroup: 1},    // 7: not in index
		{Phone: "+8", Status: engine.LeadRetry, NextAt: at(10), TZGroup: 1},  // 8: same time as 3
		{Phone: "+9", Status: engine.LeadPending, NextAt: at(5), TZGroup: 1}, // 9: pending with a time
	}
	update(t, s, func(tx engine.Tx) error { return tx.InsertLeads(cid, leads) })

	got := collectDue(t, s, cid, 1, at(60), 0)
	want := []dueHit{{2, time.Time{}}, {9, at(5)}, {3, at(10)}, {8, at(10)}, {1, at(30)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Due(group 1, +60m) = %v\nwant %v", got, want)
	}
	// Inclusive bound: due exactly now.
	if got := collectDue(t, s, cid, 1, at(10), 0); len(got) != 4 {
		t.Fatalf("Due(group 1, +10m) = %v", got)
	}
	// fn returning false stops.
	if got := collectDue(t, s, cid, 1, at(60), 2); len(got) != 2 || got[1].lid != 9 {
		t.Fatalf("Due stopping after 2 = %v", got)
	}
	// Stops at the group's first non-due key: group 2's due lead is not seen.
	if got := collectDue(t, s, cid, 1, at(100), 0); len(got) != 5 {
		t.Fatalf("Due(group 1, +100m) = %v", got)
	}
	if got := collectDue(t, s, cid, 0, at(0), 0); !reflect.DeepEqual(got, []dueHit{{4, at(-5)}}) {
		t.Fatalf("Due(group 0) = %v", got)
	}
	if got := collectDue(t, s, cid, 7, at(1000), 0); len(got) != 0 {
		t.Fatalf("Due(empty group) = %v", got)
	}
	view(t, s, func(tx engine.Tx) error {
		for _, c := range []struct {
			g    uint16
			at   time.Time
			ok   bool
			name string
		}{{1, time.Time{}, true, "group 1"}, {0, at(-5), true, "group 0"}, {2, at(1), true, "group 2"}, {3, time.Time{}, false, "group 3"}} {
			got, ok, err := tx.NextDue(cid, c.g)
			if err != nil {
				return err
			}
			if ok != c.ok || !got.Equal(c.at) {
				t.Errorf("NextDue(%s) = %v %v, want %v %v", c.name, got, ok, c.at, c.ok)
			}
		}
		return nil
	})
	checkClean(t, s, cid, true)
}

func TestPutLeadTransitions(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	leads := pendingLeads(3, 2)
	update(t, s, func(tx engine.Tx) error {
		if err := tx.InsertLeads(cid, leads); err != nil {
			return err
		}
		entries := make([]engine.PhoneEntry, len(leads))
		for i, l := range leads {
			d, _ := PhoneDigits(l.Phone)
			entries[i] = engine.PhoneEntry{Phone: d, LeadID: l.ID}
		}
		return tx.PutPhones(cid, entries)
	})
	l := *leads[1]
	step := func(name string, mutate func(*engine.Lead), wantDue []uint64, wantInflight int, wantStatus map[engine.LeadStatus]uint64,
		wantDisp map[engine.Disposition]uint64, wantAttempts uint64) {
		t.Helper()
		mutate(&l)
		update(t, s, func(tx engine.Tx) error { return tx.PutLead(cid, &l) })
		var due []uint64
		for _, h := range collectDue(t, s, cid, 2, t0.Add(24*time.Hour), 0) {
			due = append(due, h.lid)
		}
		if !reflect.DeepEqual(due, wantDue) {
			t.Errorf("%s: due %v, want %v", name, due, wantDue)
		}
		view(t, s, func(tx engine.Tx) error {
			inf, err := tx.Inflight(cid)
			if err != nil {
				return err
			}
			if len(inf) != wantInflight {
				t.Errorf("%s: in-flight %+v", name, inf)
			}
			if wantInflight == 1 && (inf[0].LeadID != l.ID || inf[0].Attempt != l.Attempts || !inf[0].StartedAt.Equal(l.LastAt)) {
				t.Errorf("%s: in-flight %+v for lead %+v", name, inf[0], l)
			}
			c, err := tx.Counters(cid)
			if err != nil {
				return err
			}
			if c.Leads != 3 || c.Attempts != wantAttempts || !reflect.DeepEqual(c.ByStatus, wantStatus) || !reflect.DeepEqual(c.ByDisposition, wantDisp) {
				t.Errorf("%s: counters %+v", name, c)
			}
			got, err := tx.Lead(cid, l.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(*got, l) {
				t.Errorf("%s: lead %+v, want %+v", name, got, l)
			}
			probs, err := tx.Check(cid)
			if err != nil {
				return err
			}
			if len(probs) > 0 {
				t.Errorf("%s: Check: %v", name, probs)
			}
			return nil
		})
	}
	none := map[engine.Disposition]uint64{}
	step("pending->dialing", func(l *engine.Lead) {
		l.Status, l.Attempts, l.LastAt = engine.LeadDialing, 1, t0
	}, []uint64{1, 3}, 1, map[engine.LeadStatus]uint64{engine.LeadPending: 2, engine.LeadDialing: 1}, none, 1)
	step("dialing->retry", func(l *engine.Lead) {
		l.Status, l.Disposition, l.NextAt = engine.LeadRetry, engine.DispNoAnswer, t0.Add(time.Hour)
	}, []uint64{1, 3, 2}, 0, map[engine.LeadStatus]uint64{engine.LeadPending: 2, engine.LeadRetry: 1},
		map[engine.Disposition]uint64{engine.DispNoAnswer: 1}, 1)
	step("retry rescheduled", func(l *engine.Lead) { l.NextAt = t0.Add(-time.Hour) },
		[]uint64{1, 3, 2}, 0, map[engine.LeadStatus]uint64{engine.LeadPending: 2, engine.LeadRetry: 1},
		map[engine.Disposition]uint64{engine.DispNoAnswer: 1}, 1)
	step("retry->dialing", func(l *engine.Lead) {
		l.Status, l.Attempts, l.LastAt, l.NextAt = engine.LeadDialing, 2, t0.Add(2*time.Hour), time.Time{}
	}, []uint64{1, 3}, 1, map[engine.LeadStatus]uint64{engine.LeadPending: 2, engine.LeadDialing: 1},
		map[engine.Disposition]uint64{engine.DispNoAnswer: 1}, 2)
	step("dialing->done", func(l *engine.Lead) {
		l.Status, l.Disposition = engine.LeadDone, engine.DispQualified
	}, []uint64{1, 3}, 0, map[engine.LeadStatus]uint64{engine.LeadPending: 2, engine.LeadDone: 1},
		map[engine.Disposition]uint64{engine.DispQualified: 1}, 2)
	step("done->pending (reset)", func(l *engine.Lead) {
		l.Status, l.Disposition = engine.LeadPending, engine.DispNone
	}, []uint64{1, 2, 3}, 0, map[engine.LeadStatus]uint64{engine.LeadPending: 3}, none, 2)
}

// The engine may claim leads from inside the Due callback: each due lead must
// be visited exactly once even though the index changes under the cursor.
func TestClaimInsideDue(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	leads := pendingLeads(500, 0)
	for i, l := range leads {
		if i%3 == 0 {
			l.Status, l.NextAt = engine.LeadRetry, t0.Add(time.Duration(i)*time.Second)
		}
	}
	update(t, s, func(tx engine.Tx) error { return tx.InsertLeads(cid, leads) })
	seen := map[uint64]int{}
	update(t, s, func(tx engine.Tx) error {
		var inner error
		err := tx.Due(cid, 0, t0.Add(time.Hour), func(lid uint64, _ time.Time) bool {
			seen[lid]++
			l, err := tx.Lead(cid, lid)
			if err == nil {
				l.Status, l.Attempts, l.LastAt = engine.LeadDialing, l.Attempts+1, t0
				err = tx.PutLead(cid, l)
			}
			inner = err
			return err == nil
		})
		if err != nil {
			return err
		}
		return inner
	})
	if len(seen) != 500 {
		t.Fatalf("claimed %d leads, want 500", len(seen))
	}
	for lid, n := range seen {
		if n != 1 {
			t.Fatalf("lead %d visited %d times", lid, n)
		}
	}
	view(t, s, func(tx engine.Tx) error {
		c, err := tx.Counters(cid)
		if err == nil && (c.ByStatus[engine.LeadDialing] != 500 || len(c.ByStatus) != 1 || c.Attempts != 500) {
			t.Errorf("counters %+v", c)
		}
		return err
	})
	checkClean(t, s, cid, true)
}

func TestCountersOnlyNonZero(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	view(t, s, func(tx engine.Tx) error {
		c, err := tx.Counters(cid)
		if err == nil && (c.Leads != 0 || c.ByStatus == nil || c.ByDisposition == nil || len(c.ByStatus) != 0) {
			t.Errorf("empty counters %+v", c)
		}
		return err
	})
}
