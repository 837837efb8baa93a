package storage

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
)

// maxProblems bounds Check's report: past it, the rest are only counted.
const maxProblems = 1000

type report struct {
	list []string
	more int
}

func (r *report) add(format string, args ...any) {
	if len(r.list) >= maxProblems {
		r.more++
		return
	}
	r.list = append(r.list, fmt.Sprintf(format, args...))
}

func (r *report) result() []string {
	if r.more > 0 {
		r.list = append(r.list, fmt.Sprintf("... and %d more problems", r.more))
	}
	return r.list
}

// hasKey reports whether k exists. (Get cannot tell an empty value, which the
// due index stores, from a missing key inside a writable transaction.)
func hasKey(b *bolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return got != nil && bytes.Equal(got, k)
}

func fmtMs(ms uint64) string {
	if ms == 0 {
		return "0"
	}
	return dueTime(ms).Format(time.RFC3339Nano)
}

// Check recounts the campaign's derived data from its leads and returns one
// human-readable line per broken invariant (nil when all is well):
// counters equal a recount; a lead has a due entry (at its group and NextAt)
// iff it is pending or retry; an in-flight record iff it is dialing; the
// phone index holds exactly its number (unless meta.PhoneIndexDirty); no
// attempt record is numbered above the lead's attempts. Lead records that do
// not decode are reported too.
func (t *tx) Check(cid uint64) ([]string, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	meta, err := readCampaign(cb.root, cid)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var r report
	checkPhones := !meta.PhoneIndexDirty

	// lookup decodes a lead referenced from an index; nil when it is missing
	// or corrupt (corrupt records are reported by the leads pass).
	lookup := func(lid uint64) (l *engine.Lead, missing bool) {
		v := cb.leads.Get(u64(lid))
		if v == nil {
			return nil, true
		}
		l, _ = decodeLead(lid, v)
		return l, false
	}

	want := map[string]uint64{}
	var nLeads, nAttempts, undecodable uint64
	c := cb.leads.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		lid, ok := parseU64(k)
		if !ok {
			r.add("leads: key %x is not a lead ID", k)
			continue
		}
		l, err := decodeLead(lid, v)
		if err != nil {
			r.add("lead %d: cannot decode: %v", lid, err)
			undecodable++
			continue
		}
		nLeads++
		nAttempts += uint64(l.Attempts)
		want[statusCounter(l.Status)]++
		if l.Disposition != engine.DispNone {
			want[dispositionCounter(l.Disposition)]++
		}
		if l.Status.Due() && !hasKey(cb.due, dueKey(l)) {
			r.add("lead %d: status %s but no due entry (group %d, due %s)", lid, l.Status, l.TZGroup, fmtMs(dueAtMs(l)))
		}
		if l.Status == engine.LeadDialing {
			iv := cb.inflight.Get(k)
			if iv == nil {
				r.add("lead %d: status dialing but no in-flight record", lid)
			} else if rec, err := parseInflight(k, iv); err != nil {
				r.add("lead %d: in-flight record: %v", lid, err)
			} else if rec.Attempt != l.Attempts || !rec.StartedAt.Equal(msTime(timeMs(l.LastAt))) {
				r.add("lead %d: in-flight record is attempt %d started %s, lead has attempt %d started %s",
					lid, rec.Attempt, rec.StartedAt.Format(time.RFC3339Nano), l.Attempts, l.LastAt.Format(time.RFC3339Nano))
			}
		}
		if checkPhones {
			digits, ok := PhoneDigits(l.Phone)
			if !ok {
				r.add("lead %d: phone %q is not an E.164 number", lid, l.Phone)
			} else if pv := cb.phones.Get(u64(digits)); pv == nil {
				r.add("lead %d: phone %s missing from the phone index", lid, l.Phone)
			} else if got, ok := parseU64(pv); !ok || got != lid {
				r.add("lead %d: phone %s is indexed to lead %d", lid, l.Phone, got)
			}
		}
	}
	want[ctrLeads] = nLeads
	want[ctrAttempts] = nAttempts

	// Due index: every entry belongs to a due lead, at that lead's key.
	c = cb.due.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		g, at, lid, ok := parseDueKey(k)
		if !ok {
			r.add("due index: malformed key %x", k)
			continue
		}
		l, missing := lookup(lid)
		switch {
		case missing:
			r.add("due index: entry (group %d, due %s) for missing lead %d", g, fmtMs(at), lid)
		case l == nil:
		case !l.Status.Due():
			r.add("lead %d: status %s but in the due index (group %d, due %s)", lid, l.Status, g, fmtMs(at))
		case !bytes.Equal(k, dueKey(l)):
			r.add("lead %d: stale due entry (group %d, due %s); lead is group %d, due %s",
				lid, g, fmtMs(at), l.TZGroup, fmtMs(dueAtMs(l)))
		}
	}

	// In-flight: only dialing leads.
	c = cb.inflight.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		rec, err := parseInflight(k, v)
		if err != nil {
			r.add("in-flight: %v", err)
			continue
		}
		l, missing := lookup(rec.LeadID)
		switch {
		case missing:
			r.add("in-flight record for missing lead %d", rec.LeadID)
		case l == nil:
		case l.Status != engine.LeadDialing:
			r.add("lead %d: status %s but has an in-flight record", rec.LeadID, l.Status)
		}
	}

	// Phone index: every entry points at a lead with that number (with the
	// per-lead pass this makes it exactly one entry per lead).
	if checkPhones {
		c = cb.phones.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			phone, ok1 := parseU64(k)
			lid, ok2 := parseU64(v)
			if !ok1 || !ok2 {
				r.add("phone index: malformed entry %x -> %x", k, v)
				continue
			}
			l, missing := lookup(lid)
			switch {
			case missing:
				r.add("phone index: +%d points to missing lead %d", phone, lid)
			case l == nil:
			default:
				if d, ok := PhoneDigits(l.Phone); !ok || d != phone {
					r.add("phone index: +%d points to lead %d whose phone is %s", phone, lid, l.Phone)
				}
			}
		}
	}

	// Counters equal the recount (zero counters are absent).
	have := map[string]uint64{}
	c = cb.counters.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n, ok := parseU64(v)
		if !ok {
			r.add("counter %s: malformed value %x", k, v)
			continue
		}
		have[string(k)] = n
	}
	names := make([]string, 0, len(want)+len(have))
	for name := range want {
		names = append(names, name)
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if undecodable > 0 {
		// A recount without those leads would only add noise.
		r.add("counters not compared: %d lead records do not decode", undecodable)
		names = nil
	}
	for _, name := range names {
		if have[name] != want[name] {
			r.add("counter %s is %d, recount is %d", name, have[name], want[name])
		}
	}

	// Attempt records: numbered 1..lead.Attempts.
	c = cb.attempts.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		lid, n, ok := parseAttemptKey(k)
		if !ok {
			r.add("attempts: malformed key %x", k)
			continue
		}
		a, err := decodeAttempt(k, v)
		if err != nil {
			r.add("lead %d: attempt %d: %v", lid, n, err)
		} else if a.LeadID != lid || a.Attempt != int(n) || a.CampaignID != cid {
			r.add("lead %d: attempt %d: record says campaign %d lead %d attempt %d", lid, n, a.CampaignID, a.LeadID, a.Attempt)
		}
		l, missing := lookup(lid)
		switch {
		case missing:
			r.add("attempt %d of missing lead %d", n, lid)
		case l == nil:
		case n == 0 || int(n) > l.Attempts:
			r.add("lead %d: attempt record %d but the lead has %d attempts", lid, n, l.Attempts)
		}
	}
	return r.result(), nil
}

// Repair rebuilds a campaign's due index, in-flight records and counters from
// its leads (the leads are the truth), and resets the DNC count. It fails if
// a lead record does not decode. The phone index is the engine's to rebuild
// (ClearPhones + PutPhones).
func (s *Store) Repair(cid uint64) error {
	return s.db.Update(func(btx *bolt.Tx) error {
		t := &tx{btx: btx}
		cb, err := t.buckets(cid)
		if err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		for _, name := range [][]byte{bktDue, bktInflight, bktCounters} {
			if err := cb.root.DeleteBucket(name); err != nil {
				return fmt.Errorf("repair campaign %d: %s: %w", cid, name, err)
			}
			if _, err := cb.root.CreateBucket(name); err != nil {
				return fmt.Errorf("repair campaign %d: %s: %w", cid, name, err)
			}
		}
		t.forget()
		if cb, err = t.buckets(cid); err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		counts := map[string]uint64{}
		c := cb.leads.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			lid, ok := parseU64(k)
			if !ok {
				return fmt.Errorf("repair campaign %d: %w: lead key %x", cid, errCorrupt, k)
			}
			l, err := decodeLead(lid, v)
			if err != nil {
				return fmt.Errorf("repair campaign %d: %w", cid, err)
			}
			counts[ctrLeads]++
			counts[ctrAttempts] += uint64(l.Attempts)
			counts[statusCounter(l.Status)]++
			if l.Disposition != engine.DispNone {
				counts[dispositionCounter(l.Disposition)]++
			}
			if l.Status.Due() {
				if err := cb.due.Put(dueKey(l), nil); err != nil {
					return fmt.Errorf("repair campaign %d: %w", cid, err)
				}
			}
			if l.Status == engine.LeadDialing {
				if err := cb.inflight.Put(u64(lid), inflightValue(l)); err != nil {
					return fmt.Errorf("repair campaign %d: %w", cid, err)
				}
			}
		}
		for name, n := range counts {
			if n == 0 {
				continue
			}
			if err := cb.counters.Put([]byte(name), u64(n)); err != nil {
				return fmt.Errorf("repair campaign %d: %w", cid, err)
			}
		}
		if b := btx.Bucket(bktDNC); b != nil {
			if err := b.SetSequence(countDNC(b)); err != nil {
				return fmt.Errorf("repair: dnc count: %w", err)
			}
		}
		return nil
	})
}
