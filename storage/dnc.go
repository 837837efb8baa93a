package storage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
)

// dncValue is what a DNC key (the E.164 number) maps to.
type dncValue struct {
	AddedAt time.Time `json:"addedAt"`
	Source  string    `json:"source"`
}

// The dnc bucket's sequence is its entry count, so DNCCount is O(1) instead
// of a walk over every page.

// DNCHas reports whether the number is on the do-not-call list.
func (t *tx) DNCHas(phone string) (bool, error) {
	b, err := t.topBucket(bktDNC)
	if err != nil {
		return false, err
	}
	if phone == "" {
		return false, nil
	}
	return b.Get([]byte(phone)) != nil, nil
}

// PutDNC adds or replaces an entry.
func (t *tx) PutDNC(e engine.DNCEntry) error {
	b, err := t.topBucket(bktDNC)
	if err != nil {
		return err
	}
	if e.Phone == "" {
		return fmt.Errorf("put dnc: empty number: %w", engine.ErrInvalid)
	}
	v, err := json.Marshal(dncValue{AddedAt: e.AddedAt, Source: e.Source})
	if err != nil {
		return fmt.Errorf("put dnc %s: %w", e.Phone, err)
	}
	key := []byte(e.Phone)
	existed := b.Get(key) != nil
	if err := b.Put(key, v); err != nil {
		return fmt.Errorf("put dnc %s: %w", e.Phone, err)
	}
	if !existed {
		if err := b.SetSequence(b.Sequence() + 1); err != nil {
			return fmt.Errorf("put dnc %s: %w", e.Phone, err)
		}
	}
	return nil
}

// DeleteDNC removes a number, reporting whether it was listed.
func (t *tx) DeleteDNC(phone string) (bool, error) {
	b, err := t.topBucket(bktDNC)
	if err != nil {
		return false, err
	}
	key := []byte(phone)
	if phone == "" || b.Get(key) == nil {
		return false, nil
	}
	if err := b.Delete(key); err != nil {
		return false, fmt.Errorf("delete dnc %s: %w", phone, err)
	}
	if n := b.Sequence(); n > 0 {
		if err := b.SetSequence(n - 1); err != nil {
			return false, fmt.Errorf("delete dnc %s: %w", phone, err)
		}
	}
	return true, nil
}

// ScanDNC calls fn for every entry in number order until fn returns false.
func (t *tx) ScanDNC(fn func(engine.DNCEntry) bool) error {
	b, err := t.topBucket(bktDNC)
	if err != nil {
		return err
	}
	return t.iterate(b, nil, func(k, v []byte) (bool, error) {
		e, err := decodeDNC(k, v)
		if err != nil {
			return false, err
		}
		return fn(e), nil
	})
}

// DNCCount is the number of entries on the list.
func (t *tx) DNCCount() (int, error) {
	b, err := t.topBucket(bktDNC)
	if err != nil {
		return 0, err
	}
	return int(b.Sequence()), nil
}

func decodeDNC(k, v []byte) (engine.DNCEntry, error) {
	var dv dncValue
	if err := json.Unmarshal(v, &dv); err != nil {
		return engine.DNCEntry{}, fmt.Errorf("dnc %s: %w: %v", k, errCorrupt, err)
	}
	return engine.DNCEntry{Phone: string(k), AddedAt: dv.AddedAt, Source: dv.Source}, nil
}

// countDNC walks the list; Repair uses it to reset the count.
func countDNC(b *bolt.Bucket) uint64 {
	var n uint64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
