package storage

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func TestPhones(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	entries := []engine.PhoneEntry{{Phone: 14155550000, LeadID: 1}, {Phone: 14155550001, LeadID: 2}, {Phone: 919876543210, LeadID: 3}}
	update(t, s, func(tx engine.Tx) error {
		if err := tx.PutPhones(cid, entries[1:]); err != nil {
			return err
		}
		return tx.PutPhones(cid, entries[:1]) // not appended: still fine
	})
	view(t, s, func(tx engine.Tx) error {
		lid, ok, err := tx.LeadByPhone(cid, 919876543210)
		if err != nil || !ok || lid != 3 {
			t.Errorf("LeadByPhone = %d %v %v", lid, ok, err)
		}
		if _, ok, _ := tx.LeadByPhone(cid, 1); ok {
			t.Error("LeadByPhone of unknown number found something")
		}
		var got []engine.PhoneEntry
		err = tx.ScanPhones(cid, func(p, l uint64) bool { got = append(got, engine.PhoneEntry{Phone: p, LeadID: l}); return true })
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, entries) {
			t.Errorf("ScanPhones = %v", got)
		}
		return nil
	})
	update(t, s, func(tx engine.Tx) error {
		if err := tx.ClearPhones(cid); err != nil {
			return err
		}
		// The cached bucket must follow the recreated one within the same tx.
		return tx.PutPhones(cid, []engine.PhoneEntry{{Phone: 5, LeadID: 9}})
	})
	view(t, s, func(tx engine.Tx) error {
		n := 0
		err := tx.ScanPhones(cid, func(p, l uint64) bool { n++; return true })
		if n != 1 {
			t.Errorf("%d entries after ClearPhones+PutPhones", n)
		}
		return err
	})
	if d, ok := PhoneDigits("+14155552671"); !ok || d != 14155552671 {
		t.Fatalf("PhoneDigits = %d %v", d, ok)
	}
	for _, bad := range []string{"", "+", "+1-415", "+99999999999999999999"} {
		if _, ok := PhoneDigits(bad); ok {
			t.Errorf("PhoneDigits(%q) accepted", bad)
		}
	}
}

func TestAttempts(t *testing.T) {
	s := openTemp(t)
	cid := newCampaign(t, s, "c")
	cb := t0.Add(time.Hour)
	mk := func(lid uint64, n int) *engine.Attempt {
		return &engine.Attempt{CampaignID: cid, LeadID: lid, Attempt: n, Phone: "+1", StartedAt: t0, EndedAt: t0.Add(time.Minute),
			Outcome: engine.OutcomeAnswered, Disposition: engine.DispCallback, TalkSeconds: 12.5,
			Transcript: []engine.TranscriptLine{{At: time.Second, Speaker: "agent", Text: "hi"}},
			Analysis:   &engine.Analysis{NextAction: "callback", CallbackAt: &cb, Fields: map[string]string{"k": "v"}}}
	}
	update(t, s, func(tx engine.Tx) error {
		for _, a := range []*engine.Attempt{mk(1, 1), mk(1, 2), mk(2, 1), mk(1, 3), mk(3, 1)} {
			if err := tx.PutAttempt(a); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx engine.Tx) error {
		as, err := tx.Attempts(cid, 1)
		if err != nil {
			return err
		}
		if len(as) != 3 || as[0].Attempt != 1 || as[2].Attempt != 3 {
			t.Errorf("Attempts(1) = %v", as)
		}
		if !reflect.DeepEqual(as[0], mk(1, 1)) {
			t.Errorf("attempt round trip: %+v\nwant %+v", as[0], mk(1, 1))
		}
		last, err := tx.LastAttempt(cid, 1)
		if err != nil || last.Attempt != 3 {
			t.Errorf("LastAttempt(1) = %v %v", last, err)
		}
		last, err = tx.LastAttempt(cid, 3) // the bucket's last key
		if err != nil || last.LeadID != 3 {
			t.Errorf("LastAttempt(3) = %v %v", last, err)
		}
		for _, lid := range []uint64{0, 4, ^uint64(0)} {
			if _, err := tx.LastAttempt(cid, lid); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("LastAttempt(%d): %v", lid, err)
			}
		}
		if as, _ := tx.Attempts(cid, 4); len(as) != 0 {
			t.Errorf("Attempts(4) = %v", as)
		}
		var keys [][2]int
		err = tx.ScanAttempts(cid, func(a *engine.Attempt) bool { keys = append(keys, [2]int{int(a.LeadID), a.Attempt}); return true })
		if want := [][2]int{{1, 1}, {1, 2}, {1, 3}, {2, 1}, {3, 1}}; !reflect.DeepEqual(keys, want) {
			t.Errorf("ScanAttempts = %v", keys)
		}
		return err
	})
	if err := s.Update(func(tx engine.Tx) error { return tx.PutAttempt(mk(1, 0)) }); !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("attempt 0: %v", err)
	}
}

func TestDNC(t *testing.T) {
	s := openTemp(t)
	update(t, s, func(tx engine.Tx) error {
		for _, p := range []string{"+2", "+1", "+3"} {
			if err := tx.PutDNC(engine.DNCEntry{Phone: p, AddedAt: t0, Source: "import"}); err != nil {
				return err
			}
		}
		// Replacing does not count twice.
		return tx.PutDNC(engine.DNCEntry{Phone: "+2", AddedAt: t0.Add(time.Hour), Source: "agent"})
	})
	view(t, s, func(tx engine.Tx) error {
		if n, err := tx.DNCCount(); err != nil || n != 3 {
			t.Errorf("DNCCount = %d %v", n, err)
		}
		if ok, _ := tx.DNCHas("+2"); !ok {
			t.Error("DNCHas(+2) false")
		}
		if ok, _ := tx.DNCHas("+9"); ok {
			t.Error("DNCHas(+9) true")
		}
		var got []engine.DNCEntry
		err := tx.ScanDNC(func(e engine.DNCEntry) bool { got = append(got, e); return true })
		want := []engine.DNCEntry{{Phone: "+1", AddedAt: t0, Source: "import"}, {Phone: "+2", AddedAt: t0.Add(time.Hour), Source: "agent"},
			{Phone: "+3", AddedAt: t0, Source: "import"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ScanDNC = %v", got)
		}
		return err
	})
	update(t, s, func(tx engine.Tx) error {
		if ok, err := tx.DeleteDNC("+1"); !ok || err != nil {
			t.Errorf("DeleteDNC(+1) = %v %v", ok, err)
		}
		if ok, err := tx.DeleteDNC("+1"); ok || err != nil {
			t.Errorf("DeleteDNC(+1) again = %v %v", ok, err)
		}
		if err := tx.PutDNC(engine.DNCEntry{}); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("empty DNC number: %v", err)
		}
		return nil
	})
	view(t, s, func(tx engine.Tx) error {
		if n, _ := tx.DNCCount(); n != 2 {
			t.Errorf("DNCCount after delete = %d", n)
		}
		return nil
	})
}
