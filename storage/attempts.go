package storage

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
)

// PutAttempt writes (or replaces) the record of attempt a.Attempt of a lead.
func (t *tx) PutAttempt(a *engine.Attempt) error {
	if a.Attempt < 1 || a.Attempt > math.MaxUint32 {
		return fmt.Errorf("put attempt %d of lead %d: %w", a.Attempt, a.LeadID, engine.ErrInvalid)
	}
	cb, err := t.buckets(a.CampaignID)
	if err != nil {
		return fmt.Errorf("put attempt %d of lead %d: %w", a.Attempt, a.LeadID, err)
	}
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put attempt %d of lead %d: %w", a.Attempt, a.LeadID, err)
	}
	if err := cb.attempts.Put(attemptKey(a.LeadID, uint32(a.Attempt)), v); err != nil {
		return fmt.Errorf("put attempt %d of lead %d: %w", a.Attempt, a.LeadID, err)
	}
	return nil
}

// Attempts lists a lead's attempts in attempt order.
func (t *tx) Attempts(cid, lid uint64) ([]*engine.Attempt, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return nil, fmt.Errorf("attempts of lead %d: %w", lid, err)
	}
	var out []*engine.Attempt
	c := cb.attempts.Cursor()
	prefix := u64(lid)
	for k, v := c.Seek(prefix); k != nil && len(k) == 12 && string(k[:8]) == string(prefix); k, v = c.Next() {
		a, err := decodeAttempt(k, v)
		if err != nil {
			return nil, fmt.Errorf("attempts of lead %d: campaign %d: %w", lid, cid, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// LastAttempt is the lead's highest-numbered attempt, or ErrNotFound.
func (t *tx) LastAttempt(cid, lid uint64) (*engine.Attempt, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return nil, fmt.Errorf("last attempt of lead %d: %w", lid, err)
	}
	k, v := lastWithPrefix(cb.attempts.Cursor(), attemptKey(lid, math.MaxUint32))
	if k == nil || len(k) != 12 || string(k[:8]) != string(u64(lid)) {
		return nil, fmt.Errorf("last attempt of lead %d: campaign %d: %w", lid, cid, engine.ErrNotFound)
	}
	a, err := decodeAttempt(k, v)
	if err != nil {
		return nil, fmt.Errorf("last attempt of lead %d: campaign %d: %w", lid, cid, err)
	}
	return a, nil
}

// lastWithPrefix positions c on the greatest key <= max.
func lastWithPrefix(c *bolt.Cursor, max []byte) ([]byte, []byte) {
	k, v := c.Seek(max)
	if k != nil && string(k) == string(max) {
		return k, v
	}
	if k == nil {
		return c.Last()
	}
	return c.Prev()
}

// ScanAttempts calls fn for every attempt of the campaign in (lead, attempt)
// order until fn returns false.
func (t *tx) ScanAttempts(cid uint64, fn func(*engine.Attempt) bool) error {
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("scan attempts: %w", err)
	}
	return t.iterate(cb.attempts, nil, func(k, v []byte) (bool, error) {
		a, err := decodeAttempt(k, v)
		if err != nil {
			return false, fmt.Errorf("scan attempts: campaign %d: %w", cid, err)
		}
		return fn(a), nil
	})
}

func decodeAttempt(k, v []byte) (*engine.Attempt, error) {
	lid, n, ok := parseAttemptKey(k)
	if !ok {
		return nil, fmt.Errorf("%w: attempt key of %d bytes", errCorrupt, len(k))
	}
	a := new(engine.Attempt)
	if err := json.Unmarshal(v, a); err != nil {
		return nil, fmt.Errorf("attempt %d of lead %d: %w: %v", n, lid, errCorrupt, err)
	}
	return a, nil
}
