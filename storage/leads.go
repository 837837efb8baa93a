package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
)

// Lead reads one lead.
func (t *tx) Lead(cid, lid uint64) (*engine.Lead, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return nil, err
	}
	v := cb.leads.Get(u64(lid))
	if v == nil {
		return nil, fmt.Errorf("campaign %d: lead %d: %w", cid, lid, engine.ErrNotFound)
	}
	l, err := decodeLead(lid, v)
	if err != nil {
		return nil, fmt.Errorf("campaign %d: %w", cid, err)
	}
	return l, nil
}

// PutLead replaces an existing lead and keeps its due entry, in-flight record
// and counters in step.
func (t *tx) PutLead(cid uint64, l *engine.Lead) error {
	if err := validateLead(l); err != nil {
		return fmt.Errorf("put lead %d: %w", l.ID, err)
	}
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("put lead %d: %w", l.ID, err)
	}
	key := u64(l.ID)
	ov := cb.leads.Get(key)
	if ov == nil {
		return fmt.Errorf("put lead %d: campaign %d: %w", l.ID, cid, engine.ErrNotFound)
	}
	old, err := decodeLead(l.ID, ov)
	if err != nil {
		return fmt.Errorf("put lead %d: campaign %d: old record: %w", l.ID, cid, err)
	}
	if err := cb.leads.Put(key, appendLead(make([]byte, 0, leadSize(l)), l)); err != nil {
		return fmt.Errorf("put lead %d: %w", l.ID, err)
	}

	// Due index.
	var oldDue, newDue []byte
	if old.Status.Due() {
		oldDue = dueKey(old)
	}
	if l.Status.Due() {
		newDue = dueKey(l)
	}
	if !bytes.Equal(oldDue, newDue) {
		if oldDue != nil {
			if err := cb.due.Delete(oldDue); err != nil {
				return fmt.Errorf("put lead %d: due index: %w", l.ID, err)
			}
		}
		if newDue != nil {
			if err := cb.due.Put(newDue, nil); err != nil {
				return fmt.Errorf("put lead %d: due index: %w", l.ID, err)
			}
		}
	}

	// In-flight record: present exactly while dialing.
	if l.Status == engine.LeadDialing {
		if old.Status != engine.LeadDialing || old.Attempts != l.Attempts || !old.LastAt.Equal(l.LastAt) {
			if err := cb.inflight.Put(key, inflightValue(l)); err != nil {
				return fmt.Errorf("put lead %d: in-flight: %w", l.ID, err)
			}
		}
	} else if old.Status == engine.LeadDialing {
		if err := cb.inflight.Delete(key); err != nil {
			return fmt.Errorf("put lead %d: in-flight: %w", l.ID, err)
		}
	}

	// Counters.
	c := counterDeltas{}
	if old.Status != l.Status {
		c.add(statusCounter(old.Status), -1)
		c.add(statusCounter(l.Status), 1)
	}
	if old.Disposition != l.Disposition {
		if old.Disposition != engine.DispNone {
			c.add(dispositionCounter(old.Disposition), -1)
		}
		if l.Disposition != engine.DispNone {
			c.add(dispositionCounter(l.Disposition), 1)
		}
	}
	c.add(ctrAttempts, int64(l.Attempts)-int64(old.Attempts))
	if err := c.apply(cb.counters); err != nil {
		return fmt.Errorf("put lead %d: %w", l.ID, err)
	}
	return nil
}

// InsertLeads appends leads with the next sequential IDs (set on each lead),
// their due entries, in-flight records (for any inserted as dialing) and
// counters. The phone index is the caller's (PutPhones).
func (t *tx) InsertLeads(cid uint64, leads []*engine.Lead) error {
	if len(leads) == 0 {
		return nil
	}
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("insert leads: %w", err)
	}
	size := 0
	for i, l := range leads {
		if err := validateLead(l); err != nil {
			return fmt.Errorf("insert leads: row %d: %w", i, err)
		}
		size += 8 + leadSize(l) + dueKeyLen
	}
	seq := cb.leads.Sequence()
	// Never overwrite: if the sequence lags the keys (it cannot, unless the
	// file was edited), continue after the last key.
	if k, _ := cb.leads.Cursor().Last(); k != nil {
		if last, ok := parseU64(k); ok && last > seq {
			seq = last
		}
	}
	if seq > math.MaxUint64-uint64(len(leads)) {
		return fmt.Errorf("insert leads: campaign %d: lead IDs exhausted", cid)
	}
	// Keys are appended: fill pages completely instead of splitting at half.
	cb.leads.FillPercent = 1.0

	// One arena per call: slices handed to Put are never written again, so
	// bbolt may keep referencing them until commit.
	arena := make([]byte, 0, size)
	var dueKeys [][]byte
	var status [len(statusCodes)]uint64
	var disp [len(dispositionCodes)]uint64
	var attempts uint64
	for _, l := range leads {
		seq++
		l.ID = seq
		start := len(arena)
		arena = binary.BigEndian.AppendUint64(arena, seq)
		key := arena[start:len(arena):len(arena)]
		start = len(arena)
		arena = appendLead(arena, l)
		if err := cb.leads.Put(key, arena[start:len(arena):len(arena)]); err != nil {
			return fmt.Errorf("insert leads: lead %d: %w", seq, err)
		}
		if l.Status.Due() {
			start = len(arena)
			arena = appendDueKey(arena, l.TZGroup, dueAtMs(l), seq)
			dueKeys = append(dueKeys, arena[start:len(arena):len(arena)])
		}
		if l.Status == engine.LeadDialing {
			if err := cb.inflight.Put(key, inflightValue(l)); err != nil {
				return fmt.Errorf("insert leads: lead %d: in-flight: %w", seq, err)
			}
		}
		sc, _ := statusCode(l.Status)
		dc, _ := dispositionCode(l.Disposition)
		status[sc]++
		disp[dc]++
		attempts += uint64(l.Attempts)
	}
	cb.leads.SetSequence(seq)

	if len(dueKeys) > 0 {
		// Sorted puts are cheapest, and when they all land after the last
		// existing key the due bucket is being appended to as well.
		if !slices.IsSortedFunc(dueKeys, bytes.Compare) {
			slices.SortFunc(dueKeys, bytes.Compare)
		}
		if k, _ := cb.due.Cursor().Last(); k == nil || bytes.Compare(dueKeys[0], k) > 0 {
			cb.due.FillPercent = 1.0
		}
		for _, k := range dueKeys {
			if err := cb.due.Put(k, nil); err != nil {
				return fmt.Errorf("insert leads: due index: %w", err)
			}
		}
	}

	c := counterDeltas{}
	c.add(ctrLeads, int64(len(leads)))
	c.add(ctrAttempts, int64(attempts))
	for i, n := range status {
		if n > 0 {
			c.add(statusCounter(statusCodes[i]), int64(n))
		}
	}
	for i, n := range disp {
		if n > 0 && i != 0 {
			c.add(dispositionCounter(dispositionCodes[i]), int64(n))
		}
	}
	if err := c.apply(cb.counters); err != nil {
		return fmt.Errorf("insert leads: %w", err)
	}
	return nil
}

// ScanLeads calls fn for leads with ID > after, in ID order.
func (t *tx) ScanLeads(cid uint64, after uint64, fn func(*engine.Lead) bool) error {
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("scan leads: %w", err)
	}
	if after == math.MaxUint64 {
		return nil
	}
	return t.iterate(cb.leads, u64(after+1), func(k, v []byte) (bool, error) {
		lid, ok := parseU64(k)
		if !ok {
			return false, fmt.Errorf("scan leads: campaign %d: %w: key of %d bytes", cid, errCorrupt, len(k))
		}
		l, err := decodeLead(lid, v)
		if err != nil {
			return false, fmt.Errorf("scan leads: campaign %d: %w", cid, err)
		}
		return fn(l), nil
	})
}

// Due calls fn for the group's leads due at or before now, earliest first. It
// seeks to the group and stops at the first key not yet due, so its cost
// follows the number of due leads, not the campaign's size. fn may change
// leads (claim them) in a writable transaction.
func (t *tx) Due(cid uint64, group uint16, now time.Time, fn func(lid uint64, dueAt time.Time) bool) error {
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("due leads: %w", err)
	}
	limit := timeMs(now)
	if limit < 0 {
		limit = 0
	}
	return t.iterate(cb.due, appendDueKey(nil, group, 0, 0), func(k, _ []byte) (bool, error) {
		g, at, lid, ok := parseDueKey(k)
		if !ok {
			return false, fmt.Errorf("due leads: campaign %d: %w: due key of %d bytes", cid, errCorrupt, len(k))
		}
		if g != group || at > uint64(limit) {
			return false, nil
		}
		return fn(lid, dueTime(at)), nil
	})
}

// NextDue is the earliest due time in the group. A lead due "since always"
// (pending with no NextAt) reports the zero time with ok true.
func (t *tx) NextDue(cid uint64, group uint16) (time.Time, bool, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	k, _ := cb.due.Cursor().Seek(appendDueKey(nil, group, 0, 0))
	if k == nil {
		return time.Time{}, false, nil
	}
	g, at, _, ok := parseDueKey(k)
	if !ok {
		return time.Time{}, false, fmt.Errorf("next due: campaign %d: %w: due key of %d bytes", cid, errCorrupt, len(k))
	}
	if g != group {
		return time.Time{}, false, nil
	}
	return dueTime(at), true, nil
}

// Inflight lists the in-flight records in lead ID order.
func (t *tx) Inflight(cid uint64) ([]engine.InflightRecord, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return nil, fmt.Errorf("in-flight: %w", err)
	}
	var out []engine.InflightRecord
	err = cb.inflight.ForEach(func(k, v []byte) error {
		r, err := parseInflight(k, v)
		if err != nil {
			return fmt.Errorf("in-flight: campaign %d: %w", cid, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// Counters returns the campaign's counters. The maps are never nil and hold
// only non-zero counts (a zero counter is deleted). Leads without a
// disposition are not counted under DispNone: that is Leads minus the sum.
func (t *tx) Counters(cid uint64) (engine.Counters, error) {
	out := engine.Counters{
		ByStatus:      make(map[engine.LeadStatus]uint64, len(statusCodes)),
		ByDisposition: make(map[engine.Disposition]uint64, len(dispositionCodes)),
	}
	cb, err := t.buckets(cid)
	if err != nil {
		return out, fmt.Errorf("counters: %w", err)
	}
	err = cb.counters.ForEach(func(k, v []byte) error {
		n, ok := parseU64(v)
		if !ok {
			return fmt.Errorf("counters: campaign %d: %w: counter %q of %d bytes", cid, errCorrupt, k, len(v))
		}
		switch s := string(k); {
		case s == ctrLeads:
			out.Leads = n
		case s == ctrAttempts:
			out.Attempts = n
		case len(s) > 2 && s[:2] == "s:":
			out.ByStatus[engine.LeadStatus(s[2:])] = n
		case len(s) > 2 && s[:2] == "d:":
			out.ByDisposition[engine.Disposition(s[2:])] = n
		}
		return nil
	})
	return out, err
}

// counterDeltas batches counter changes so each counter is written once.
type counterDeltas struct {
	names  [8]string
	deltas [8]int64
	n      int
	more   map[string]int64
}

func (c *counterDeltas) add(name string, d int64) {
	if d == 0 {
		return
	}
	for i := 0; i < c.n; i++ {
		if c.names[i] == name {
			c.deltas[i] += d
			return
		}
	}
	if c.n < len(c.names) {
		c.names[c.n], c.deltas[c.n] = name, d
		c.n++
		return
	}
	if c.more == nil {
		c.more = map[string]int64{}
	}
	c.more[name] += d
}

func (c *counterDeltas) apply(b *bolt.Bucket) error {
	for i := 0; i < c.n; i++ {
		if err := addCounter(b, c.names[i], c.deltas[i]); err != nil {
			return err
		}
	}
	for name, d := range c.more {
		if err := addCounter(b, name, d); err != nil {
			return err
		}
	}
	return nil
}

// addCounter adds d to a counter, deleting it when it reaches zero. Going
// below zero means the counters no longer match the leads: it is reported
// rather than hidden (Check and Repair deal with it).
func addCounter(b *bolt.Bucket, name string, d int64) error {
	if d == 0 {
		return nil
	}
	key := []byte(name)
	var cur uint64
	if v := b.Get(key); v != nil {
		n, ok := parseU64(v)
		if !ok {
			return fmt.Errorf("counter %s: %w: %d bytes", name, errCorrupt, len(v))
		}
		cur = n
	}
	var next uint64
	if d < 0 {
		if uint64(-d) > cur {
			return fmt.Errorf("counter %s: %d%+d goes below zero: %w (counters disagree with leads)", name, cur, d, errCorrupt)
		}
		next = cur - uint64(-d)
	} else {
		next = cur + uint64(d)
	}
	if next == 0 {
		return b.Delete(key)
	}
	return b.Put(key, u64(next))
}
