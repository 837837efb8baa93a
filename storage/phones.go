package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/dialdeck/dialdeck/engine"
)

// LeadByPhone looks a number (E.164 digits as an integer) up in the index.
func (t *tx) LeadByPhone(cid uint64, phone uint64) (uint64, bool, error) {
	cb, err := t.buckets(cid)
	if err != nil {
		return 0, false, fmt.Errorf("lead by phone: %w", err)
	}
	v := cb.phones.Get(u64(phone))
	if v == nil {
		return 0, false, nil
	}
	lid, ok := parseU64(v)
	if !ok {
		return 0, false, fmt.Errorf("lead by phone %d: campaign %d: %w: value of %d bytes", phone, cid, errCorrupt, len(v))
	}
	return lid, true, nil
}

// ScanPhones calls fn for every index entry in phone order.
func (t *tx) ScanPhones(cid uint64, fn func(phone, lid uint64) bool) error {
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("scan phones: %w", err)
	}
	return t.iterate(cb.phones, nil, func(k, v []byte) (bool, error) {
		p, ok1 := parseU64(k)
		lid, ok2 := parseU64(v)
		if !ok1 || !ok2 {
			return false, fmt.Errorf("scan phones: campaign %d: %w: entry of %d/%d bytes", cid, errCorrupt, len(k), len(v))
		}
		return fn(p, lid), nil
	})
}

// PutPhones writes index entries. Sorted input that lands after the existing
// keys (an import writing its deduplicated numbers) fills pages completely.
func (t *tx) PutPhones(cid uint64, entries []engine.PhoneEntry) error {
	if len(entries) == 0 {
		return nil
	}
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("put phones: %w", err)
	}
	sorted := true
	for i := 1; i < len(entries); i++ {
		if entries[i].Phone <= entries[i-1].Phone {
			sorted = false
			break
		}
	}
	arena := make([]byte, 0, 16*len(entries))
	first := arena[:0]
	first = binary.BigEndian.AppendUint64(first, entries[0].Phone)
	if k, _ := cb.phones.Cursor().Last(); sorted && (k == nil || bytes.Compare(first, k) > 0) {
		cb.phones.FillPercent = 1.0
	}
	for _, e := range entries {
		s := len(arena)
		arena = binary.BigEndian.AppendUint64(arena, e.Phone)
		arena = binary.BigEndian.AppendUint64(arena, e.LeadID)
		if err := cb.phones.Put(arena[s:s+8:s+8], arena[s+8:s+16:s+16]); err != nil {
			return fmt.Errorf("put phones: campaign %d: phone %d: %w", cid, e.Phone, err)
		}
	}
	return nil
}

// ClearPhones empties the campaign's phone index.
func (t *tx) ClearPhones(cid uint64) error {
	cb, err := t.buckets(cid)
	if err != nil {
		return fmt.Errorf("clear phones: %w", err)
	}
	if err := cb.root.DeleteBucket(bktPhones); err != nil {
		return fmt.Errorf("clear phones: campaign %d: %w", cid, err)
	}
	b, err := cb.root.CreateBucket(bktPhones)
	if err != nil {
		return fmt.Errorf("clear phones: campaign %d: %w", cid, err)
	}
	cb.phones = b
	return nil
}

// PhoneDigits is the phone index key of an E.164 number: its digits as an
// integer ("+14155552671" -> 14155552671).
func PhoneDigits(e164 string) (uint64, bool) {
	s := strings.TrimPrefix(e164, "+")
	if s == "" || len(s) > 19 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
