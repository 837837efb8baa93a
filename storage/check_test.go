package storage

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
)

// checkFixture builds a closed database with one campaign (ID 1) whose leads
// cover every status, with phones and attempts, and which Check finds clean.
//
//	1 pending g0 | 2 dialing (attempt 1) | 3 retry no_answer (1 attempt)
//	4 done qualified (2 attempts) | 5 pending g1
func checkFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cid := newCampaign(t, s, "fixture")
	leads := []*engine.Lead{
		{Phone: "+14155550001", Status: engine.LeadPending},
		{Phone: "+14155550002", Status: engine.LeadDialing, Attempts: 1, LastAt: t0},
		{Phone: "+14155550003", Status: engine.LeadRetry, Disposition: engine.DispNoAnswer, Attempts: 1, LastAt: t0, NextAt: t0.Add(time.Hour)},
		{Phone: "+14155550004", Status: engine.LeadDone, Disposition: engine.DispQualified, Attempts: 2, LastAt: t0},
		{Phone: "+14155550005", Status: engine.LeadPending, TZGroup: 1},
	}
	update(t, s, func(tx engine.Tx) error {
		if err := tx.InsertLeads(cid, leads); err != nil {
			return err
		}
		var entries []engine.PhoneEntry
		for _, l := range leads {
			d, _ := PhoneDigits(l.Phone)
			entries = append(entries, engine.PhoneEntry{Phone: d, LeadID: l.ID})
		}
		if err := tx.PutPhones(cid, entries); err != nil {
			return err
		}
		for _, a := range []*engine.Attempt{{LeadID: 3, Attempt: 1}, {LeadID: 4, Attempt: 1}, {LeadID: 4, Attempt: 2}} {
			a.CampaignID = cid
			if err := tx.PutAttempt(a); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx engine.Tx) error {
		probs, err := tx.Check(cid)
		if len(probs) > 0 {
			t.Fatalf("fixture not clean: %v", probs)
		}
		return err
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func sub(btx *bolt.Tx, name []byte) *bolt.Bucket {
	return btx.Bucket(bktCampaigns).Bucket(u64(1)).Bucket(name)
}

func readLeadRaw(t *testing.T, btx *bolt.Tx, lid uint64) *engine.Lead {
	l, err := decodeLead(lid, sub(btx, bktLeads).Get(u64(lid)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCheckDetectsCorruption(t *testing.T) {
	phone5, _ := PhoneDigits("+14155550005")
	cases := []struct {
		name    string
		corrupt func(t *testing.T, btx *bolt.Tx) error
		want    []string
	}{
		{"missing due entry", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktDue).Delete(dueKey(readLeadRaw(t, btx, 1)))
		}, []string{"lead 1: status pending but no due entry (group 0, due 0)"}},
		{"due entry for a done lead", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktDue).Put(appendDueKey(nil, 0, 5, 4), nil)
		}, []string{"lead 4: status done but in the due index"}},
		{"stale due time", func(t *testing.T, btx *bolt.Tx) error {
			l := readLeadRaw(t, btx, 3)
			if err := sub(btx, bktDue).Delete(dueKey(l)); err != nil {
				return err
			}
			return sub(btx, bktDue).Put(appendDueKey(nil, 0, 1000, 3), nil)
		}, []string{"lead 3: status retry but no due entry", "lead 3: stale due entry (group 0, due 1970-01-01T00:00:01Z)"}},
		{"due entry for missing lead", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktDue).Put(appendDueKey(nil, 2, 0, 99), nil)
		}, []string{"due index: entry (group 2, due 0) for missing lead 99"}},
		{"missing in-flight record", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktInflight).Delete(u64(2))
		}, []string{"lead 2: status dialing but no in-flight record"}},
		{"in-flight record of a pending lead", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktInflight).Put(u64(1), inflightValue(&engine.Lead{Attempts: 1}))
		}, []string{"lead 1: status pending but has an in-flight record"}},
		{"in-flight record of the wrong attempt", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktInflight).Put(u64(2), inflightValue(&engine.Lead{Attempts: 5, LastAt: t0}))
		}, []string{"lead 2: in-flight record is attempt 5"}},
		{"status counter off", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktCounters).Put([]byte("s:pending"), u64(7))
		}, []string{"counter s:pending is 7, recount is 2"}},
		{"attempts counter off", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktCounters).Put([]byte("attempts"), u64(3))
		}, []string{"counter attempts is 3, recount is 4"}},
		{"spurious disposition counter", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktCounters).Put([]byte("d:busy"), u64(1))
		}, []string{"counter d:busy is 1, recount is 0"}},
		{"leads counter missing", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktCounters).Delete([]byte("leads"))
		}, []string{"counter leads is 0, recount is 5"}},
		{"phone missing from index", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktPhones).Delete(u64(phone5))
		}, []string{"lead 5: phone +14155550005 missing from the phone index"}},
		{"phone indexed to the wrong lead", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktPhones).Put(u64(phone5), u64(4))
		}, []string{"lead 5: phone +14155550005 is indexed to lead 4", "phone index: +14155550005 points to lead 4 whose phone is +14155550004"}},
		{"extra phone entry", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktPhones).Put(u64(14155559999), u64(1))
		}, []string{"phone index: +14155559999 points to lead 1 whose phone is +14155550001"}},
		{"phone entry for missing lead", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktPhones).Put(u64(14155559999), u64(42))
		}, []string{"phone index: +14155559999 points to missing lead 42"}},
		{"attempt beyond the lead's attempts", func(t *testing.T, btx *bolt.Tx) error {
			v, _ := json.Marshal(engine.Attempt{CampaignID: 1, LeadID: 3, Attempt: 3})
			return sub(btx, bktAttempts).Put(attemptKey(3, 3), v)
		}, []string{"lead 3: attempt record 3 but the lead has 1 attempts"}},
		{"attempt of missing lead", func(t *testing.T, btx *bolt.Tx) error {
			v, _ := json.Marshal(engine.Attempt{CampaignID: 1, LeadID: 50, Attempt: 1})
			return sub(btx, bktAttempts).Put(attemptKey(50, 1), v)
		}, []string{"attempt 1 of missing lead 50"}},
		{"corrupt attempt record", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktAttempts).Put(attemptKey(4, 1), []byte("{"))
		}, []string{"lead 4: attempt 1: attempt 1 of lead 4: corrupt record"}},
		{"corrupt lead record", func(t *testing.T, btx *bolt.Tx) error {
			return sub(btx, bktLeads).Put(u64(3), []byte{1, 3, 5, 1, 0xff})
		}, []string{"lead 3: cannot decode: lead 3: corrupt record", "counters not compared: 1 lead records do not decode"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := checkFixture(t)
			rawUpdate(t, path, func(btx *bolt.Tx) error { return c.corrupt(t, btx) })
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var probs []string
			view(t, s, func(tx engine.Tx) error {
				probs, err = tx.Check(1)
				return err
			})
			joined := strings.Join(probs, "\n")
			for _, w := range c.want {
				if !strings.Contains(joined, w) {
					t.Errorf("Check() = %q\nmissing %q", probs, w)
				}
			}
			if len(probs) > len(c.want) {
				t.Errorf("Check() reported extra problems: %q", probs)
			}
		})
	}
}

func TestCorruptLeadIsAnErrorNotAPanic(t *testing.T) {
	path := checkFixture(t)
	rawUpdate(t, path, func(btx *bolt.Tx) error {
		return sub(btx, bktLeads).Put(u64(3), []byte{1, 3, 5, 1, 0xff, 0xff})
	})
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	view(t, s, func(tx engine.Tx) error {
		if _, err := tx.Lead(1, 3); !errors.Is(err, errCorrupt) {
			t.Errorf("Lead: %v", err)
		}
		if err := tx.ScanLeads(1, 0, func(*engine.Lead) bool { return true }); err == nil {
			t.Error("ScanLeads over a corrupt lead succeeded")
		}
		return nil
	})
	err = s.Update(func(tx engine.Tx) error {
		return tx.PutLead(1, &engine.Lead{ID: 3, Status: engine.LeadDone})
	})
	if err == nil || !strings.Contains(err.Error(), "put lead 3") {
		t.Fatalf("PutLead over a corrupt record: %v", err)
	}
}

func TestCheckSkipsDirtyPhoneIndex(t *testing.T) {
	path := checkFixture(t)
	rawUpdate(t, path, func(btx *bolt.Tx) error {
		root := btx.Bucket(bktCampaigns).Bucket(u64(1))
		var c engine.Campaign
		if err := json.Unmarshal(root.Get(keyCampMeta), &c); err != nil {
			return err
		}
		c.PhoneIndexDirty = true
		v, _ := json.Marshal(c)
		if err := root.Put(keyCampMeta, v); err != nil {
			return err
		}
		return sub(btx, bktPhones).Delete(u64(14155550005))
	})
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkClean(t, s, 1, false)
}

func TestRepair(t *testing.T) {
	path := checkFixture(t)
	rawUpdate(t, path, func(btx *bolt.Tx) error {
		_ = sub(btx, bktDue).Put(appendDueKey(nil, 0, 5, 4), nil)
		_ = sub(btx, bktInflight).Delete(u64(2))
		_ = sub(btx, bktCounters).Put([]byte("s:pending"), u64(7))
		return btx.Bucket(bktDNC).SetSequence(12)
	})
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Repair(1); err != nil {
		t.Fatal(err)
	}
	checkClean(t, s, 1, false)
	view(t, s, func(tx engine.Tx) error {
		if n, _ := tx.DNCCount(); n != 0 {
			t.Errorf("DNC count after repair %d", n)
		}
		return nil
	})
}
