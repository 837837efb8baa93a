package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
)

// The outbox bucket holds three sub-buckets:
//
//	events  seq u64 -> JSON of engine.OutboxEvent
//	due     nextTry ms u64 | seq u64 -> ""        (pending and failing only)
//	lead    cid u64 | lid u64 | seq u64 -> ""     (pending and failing; lid 0 for campaign events)
//
// Delivered events are deleted, so the buckets hold only the backlog.
var (
	bktOutEvents = []byte("events")
	bktOutDue    = []byte("due")
	bktOutLead   = []byte("lead")
)

type outboxBuckets struct{ events, due, lead *bolt.Bucket }

// outbox returns the sub-buckets; in a read tx before the first event they
// may not exist yet (nil, nil).
func (t *tx) outbox() (*outboxBuckets, error) {
	top, err := t.topBucket(bktOutbox)
	if err != nil {
		return nil, err
	}
	ob := &outboxBuckets{top.Bucket(bktOutEvents), top.Bucket(bktOutDue), top.Bucket(bktOutLead)}
	if ob.events != nil && ob.due != nil && ob.lead != nil {
		return ob, nil
	}
	if !t.writable() {
		return nil, nil
	}
	for _, p := range []struct {
		dst  **bolt.Bucket
		name []byte
	}{{&ob.events, bktOutEvents}, {&ob.due, bktOutDue}, {&ob.lead, bktOutLead}} {
		b, err := top.CreateBucketIfNotExists(p.name)
		if err != nil {
			return nil, fmt.Errorf("create outbox bucket %s: %w", p.name, err)
		}
		*p.dst = b
	}
	return ob, nil
}

func outDueKey(ev *engine.OutboxEvent) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, msOf(ev.NextTry))
	binary.BigEndian.PutUint64(k[8:], ev.Seq)
	return k
}

func outLeadKey(cid, lid, seq uint64) []byte {
	k := make([]byte, 24)
	binary.BigEndian.PutUint64(k, cid)
	binary.BigEndian.PutUint64(k[8:], lid)
	binary.BigEndian.PutUint64(k[16:], seq)
	return k
}

func msOf(t time.Time) uint64 {
	if t.IsZero() || t.UnixMilli() < 0 {
		return 0
	}
	return uint64(t.UnixMilli())
}

// PutOutbox stores an event and keeps its indexes in step with its state.
func (t *tx) PutOutbox(ev *engine.OutboxEvent) error {
	ob, err := t.outbox()
	if err != nil {
		return err
	}
	if ev.Seq == 0 {
		seq, err := ob.events.NextSequence()
		if err != nil {
			return fmt.Errorf("put outbox event: %w", err)
		}
		ev.Seq = seq
	} else if old, err := t.Outbox(ev.Seq); err == nil {
		if err := unindexOutbox(ob, old); err != nil {
			return err
		}
	} else if !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	v, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("put outbox event %d: %w", ev.Seq, err)
	}
	if err := ob.events.Put(u64(ev.Seq), v); err != nil {
		return fmt.Errorf("put outbox event %d: %w", ev.Seq, err)
	}
	if ev.State.Undelivered() {
		if err := ob.due.Put(outDueKey(ev), []byte{}); err != nil {
			return err
		}
		if err := ob.lead.Put(outLeadKey(ev.CampaignID, ev.LeadID, ev.Seq), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

func unindexOutbox(ob *outboxBuckets, ev *engine.OutboxEvent) error {
	if !ev.State.Undelivered() {
		return nil
	}
	if err := ob.due.Delete(outDueKey(ev)); err != nil {
		return err
	}
	return ob.lead.Delete(outLeadKey(ev.CampaignID, ev.LeadID, ev.Seq))
}

// Outbox reads one event.
func (t *tx) Outbox(seq uint64) (*engine.OutboxEvent, error) {
	ob, err := t.outbox()
	if err != nil {
		return nil, err
	}
	if ob == nil {
		return nil, fmt.Errorf("outbox event %d: %w", seq, engine.ErrNotFound)
	}
	v := ob.events.Get(u64(seq))
	if v == nil {
		return nil, fmt.Errorf("outbox event %d: %w", seq, engine.ErrNotFound)
	}
	return decodeOutbox(v)
}

func decodeOutbox(v []byte) (*engine.OutboxEvent, error) {
	var ev engine.OutboxEvent
	if err := json.Unmarshal(v, &ev); err != nil {
		return nil, fmt.Errorf("decode outbox event: %w", err)
	}
	return &ev, nil
}

// DeleteOutbox removes a (delivered) event and its index entries.
func (t *tx) DeleteOutbox(seq uint64) error {
	ob, err := t.outbox()
	if err != nil {
		return err
	}
	old, err := t.Outbox(seq)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := unindexOutbox(ob, old); err != nil {
		return err
	}
	return ob.events.Delete(u64(seq))
}

// OutboxDue walks due events earliest first, stopping at the first not yet due.
func (t *tx) OutboxDue(now time.Time, fn func(*engine.OutboxEvent) bool) error {
	ob, err := t.outbox()
	if err != nil || ob == nil {
		return err
	}
	limit := msOf(now)
	c := ob.due.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 16 {
			return fmt.Errorf("corrupt outbox due key (%d bytes)", len(k))
		}
		if binary.BigEndian.Uint64(k) > limit {
			return nil
		}
		v := ob.events.Get(k[8:])
		if v == nil {
			return fmt.Errorf("outbox due entry for missing event %d", binary.BigEndian.Uint64(k[8:]))
		}
		ev, err := decodeOutbox(v)
		if err != nil {
			return err
		}
		if !fn(ev) {
			return nil
		}
	}
	return nil
}

// OutboxFirstForLead is the oldest undelivered event of a lead.
func (t *tx) OutboxFirstForLead(cid, lid uint64) (uint64, bool, error) {
	ob, err := t.outbox()
	if err != nil || ob == nil {
		return 0, false, err
	}
	prefix := outLeadKey(cid, lid, 0)[:16]
	k, _ := ob.lead.Cursor().Seek(prefix)
	if k == nil || len(k) != 24 || string(k[:16]) != string(prefix) {
		return 0, false, nil
	}
	return binary.BigEndian.Uint64(k[16:]), true, nil
}

// ScanOutbox walks every stored event after seq.
func (t *tx) ScanOutbox(after uint64, fn func(*engine.OutboxEvent) bool) error {
	ob, err := t.outbox()
	if err != nil || ob == nil {
		return err
	}
	c := ob.events.Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
		ev, err := decodeOutbox(v)
		if err != nil {
			return err
		}
		if !fn(ev) {
			return nil
		}
	}
	return nil
}

// NextOutboxTry is the earliest retry time of an undelivered event.
func (t *tx) NextOutboxTry() (time.Time, bool, error) {
	ob, err := t.outbox()
	if err != nil || ob == nil {
		return time.Time{}, false, err
	}
	k, _ := ob.due.Cursor().First()
	if k == nil || len(k) != 16 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(k))).UTC(), true, nil
}
