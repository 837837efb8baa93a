package storage

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dialdeck/dialdeck/engine"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Campaigns lists every campaign in ID order.
func (t *tx) Campaigns() ([]*engine.Campaign, error) {
	cs, err := t.topBucket(bktCampaigns)
	if err != nil {
		return nil, err
	}
	var out []*engine.Campaign
	err = cs.ForEachBucket(func(k []byte) error {
		cid, ok := parseU64(k)
		if !ok {
			return fmt.Errorf("campaigns: %w: key of %d bytes", errCorrupt, len(k))
		}
		c, err := readCampaign(cs.Bucket(k), cid)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// Campaign reads one campaign's meta.
func (t *tx) Campaign(id uint64) (*engine.Campaign, error) {
	cb, err := t.buckets(id)
	if err != nil {
		return nil, err
	}
	return readCampaign(cb.root, id)
}

func readCampaign(root *bolt.Bucket, id uint64) (*engine.Campaign, error) {
	v := root.Get(keyCampMeta)
	if v == nil {
		return nil, fmt.Errorf("campaign %d: missing meta", id)
	}
	c := new(engine.Campaign)
	if err := json.Unmarshal(v, c); err != nil { // Unmarshal copies: nothing aliases the mmap
		return nil, fmt.Errorf("campaign %d: meta: %w: %v", id, errCorrupt, err)
	}
	c.ID = id // the key is authoritative
	return c, nil
}

// PutCampaign writes c's meta. An ID of 0 creates the campaign (and its
// buckets) with the next ID, set on c; any other ID must exist.
func (t *tx) PutCampaign(c *engine.Campaign) error {
	cs, err := t.topBucket(bktCampaigns)
	if err != nil {
		return err
	}
	var root *bolt.Bucket
	if c.ID == 0 {
		id, err := cs.NextSequence()
		if err != nil {
			return fmt.Errorf("put campaign: %w", err)
		}
		root, err = cs.CreateBucket(u64(id))
		if err != nil {
			return fmt.Errorf("put campaign %d: %w", id, err)
		}
		for _, name := range campaignSubBuckets {
			if _, err := root.CreateBucket(name); err != nil {
				return fmt.Errorf("put campaign %d: bucket %s: %w", id, name, err)
			}
		}
		c.ID = id
	} else {
		root = cs.Bucket(u64(c.ID))
		if root == nil {
			return fmt.Errorf("put campaign %d: %w", c.ID, engine.ErrNotFound)
		}
	}
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("put campaign %d: %w", c.ID, err)
	}
	if err := root.Put(keyCampMeta, v); err != nil {
		return fmt.Errorf("put campaign %d: %w", c.ID, err)
	}
	return nil
}

// DeleteCampaign removes the campaign and everything under it.
func (t *tx) DeleteCampaign(id uint64) error {
	cs, err := t.topBucket(bktCampaigns)
	if err != nil {
		return err
	}
	t.forget()
	if err := cs.DeleteBucket(u64(id)); err != nil {
		if errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("delete campaign %d: %w", id, engine.ErrNotFound)
		}
		return fmt.Errorf("delete campaign %d: %w", id, err)
	}
	return nil
}
