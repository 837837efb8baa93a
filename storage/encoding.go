package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// Lead record, version 1:
//
//	version byte (1) | status byte | disposition byte |
//	uvarint attempts | varint nextAt ms | varint lastAt ms | uvarint tzGroup |
//	uvarint len + phone | uvarint count + (uvarint len + value)...
//
// The lead ID is the key and is not repeated. Status and disposition codes are
// this package's own stable table, not the order of engine's lists, so
// reordering those can never reinterpret stored data.
const leadVersion = 1

var statusCodes = [...]engine.LeadStatus{
	1: engine.LeadPending, 2: engine.LeadDialing, 3: engine.LeadRetry, 4: engine.LeadDone,
}

var dispositionCodes = [...]engine.Disposition{
	0: engine.DispNone, 1: engine.DispQualified, 2: engine.DispNotInterested, 3: engine.DispCallback,
	4: engine.DispVoicemail, 5: engine.DispNoAnswer, 6: engine.DispBusy, 7: engine.DispFailed,
	8: engine.DispDNC, 9: engine.DispAnswered,
}

// errCorrupt marks undecodable stored bytes.
var errCorrupt = errors.New("corrupt record")

func statusCode(s engine.LeadStatus) (byte, bool) {
	for i, v := range statusCodes {
		if i > 0 && v == s {
			return byte(i), true
		}
	}
	return 0, false
}

func dispositionCode(d engine.Disposition) (byte, bool) {
	for i, v := range dispositionCodes {
		if v == d {
			return byte(i), true
		}
	}
	return 0, false
}

// validateLead rejects values the encoding (and the due index) cannot hold.
func validateLead(l *engine.Lead) error {
	if _, ok := statusCode(l.Status); !ok {
		return fmt.Errorf("status %q: %w", l.Status, engine.ErrInvalid)
	}
	if _, ok := dispositionCode(l.Disposition); !ok {
		return fmt.Errorf("disposition %q: %w", l.Disposition, engine.ErrInvalid)
	}
	if l.Attempts < 0 || l.Attempts > math.MaxUint32 {
		return fmt.Errorf("attempts %d: %w", l.Attempts, engine.ErrInvalid)
	}
	return nil
}

// appendLead appends l's record to dst. l must have passed validateLead.
func appendLead(dst []byte, l *engine.Lead) []byte {
	sc, _ := statusCode(l.Status)
	dc, _ := dispositionCode(l.Disposition)
	dst = append(dst, leadVersion, sc, dc)
	dst = binary.AppendUvarint(dst, uint64(l.Attempts))
	dst = binary.AppendVarint(dst, timeMs(l.NextAt))
	dst = binary.AppendVarint(dst, timeMs(l.LastAt))
	dst = binary.AppendUvarint(dst, uint64(l.TZGroup))
	dst = appendString(dst, l.Phone)
	dst = binary.AppendUvarint(dst, uint64(len(l.Values)))
	for _, v := range l.Values {
		dst = appendString(dst, v)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// leadSize is an upper bound of appendLead's output, for arena sizing.
func leadSize(l *engine.Lead) int {
	n := 3 + 4*binary.MaxVarintLen64 + len(l.Phone) + binary.MaxVarintLen64
	for _, v := range l.Values {
		n += binary.MaxVarintLen64 + len(v)
	}
	return n
}

// decodeLead parses a lead record. All strings share one copy of b, so the
// result owns its memory and costs two allocations plus the Values slice.
func decodeLead(id uint64, b []byte) (*engine.Lead, error) {
	d := decoder{b: b}
	l := &engine.Lead{ID: id}
	if err := d.lead(l); err != nil {
		return nil, fmt.Errorf("lead %d: %w", id, err)
	}
	return l, nil
}

type decoder struct {
	b   []byte
	s   string // string(b), made lazily once
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at byte %d", errCorrupt, what, d.off)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail(what)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) string(what string) string {
	n := d.uvarint(what)
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail(what + " length")
		return ""
	}
	if n == 0 {
		return ""
	}
	if d.s == "" {
		d.s = string(d.b)
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *decoder) lead(l *engine.Lead) error {
	if v := d.byte("version"); d.err == nil && v != leadVersion {
		return fmt.Errorf("%w: unknown lead version %d", errCorrupt, v)
	}
	sc := d.byte("status")
	dc := d.byte("disposition")
	if d.err == nil && (sc == 0 || int(sc) >= len(statusCodes)) {
		return fmt.Errorf("%w: unknown status code %d", errCorrupt, sc)
	}
	if d.err == nil && int(dc) >= len(dispositionCodes) {
		return fmt.Errorf("%w: unknown disposition code %d", errCorrupt, dc)
	}
	attempts := d.uvarint("attempts")
	if attempts > math.MaxUint32 {
		d.fail("attempts")
	}
	next := d.varint("nextAt")
	last := d.varint("lastAt")
	group := d.uvarint("tz group")
	if group > math.MaxUint16 {
		d.fail("tz group")
	}
	phone := d.string("phone")
	n := d.uvarint("value count")
	// Every value takes at least one byte: bound the allocation by what is left.
	if d.err == nil && n > uint64(len(d.b)-d.off) {
		d.fail("value count")
	}
	if d.err != nil {
		return d.err
	}
	var values []string
	if n > 0 {
		values = make([]string, n)
		for i := range values {
			values[i] = d.string("value")
		}
	}
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.b) {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b)-d.off)
	}
	l.Status = statusCodes[sc]
	l.Disposition = dispositionCodes[dc]
	l.Attempts = int(attempts)
	l.NextAt = msTime(next)
	l.LastAt = msTime(last)
	l.TZGroup = uint16(group)
	l.Phone = phone
	l.Values = values
	return nil
}

// timeMs is t as unix milliseconds, 0 for the zero time.
func timeMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// msTime inverts timeMs; times come back in UTC.
func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Due index key: group u16 | dueAt u64 ms | lid u64. Times before 1970 (and
// the zero time of a fresh pending lead) sort as 0: due immediately.
const dueKeyLen = 2 + 8 + 8

func dueAtMs(l *engine.Lead) uint64 {
	ms := timeMs(l.NextAt)
	if ms < 0 {
		return 0
	}
	return uint64(ms)
}

func appendDueKey(dst []byte, group uint16, dueAt, lid uint64) []byte {
	dst = binary.BigEndian.AppendUint16(dst, group)
	dst = binary.BigEndian.AppendUint64(dst, dueAt)
	return binary.BigEndian.AppendUint64(dst, lid)
}

func dueKey(l *engine.Lead) []byte {
	return appendDueKey(make([]byte, 0, dueKeyLen), l.TZGroup, dueAtMs(l), l.ID)
}

func parseDueKey(k []byte) (group uint16, dueAt, lid uint64, ok bool) {
	if len(k) != dueKeyLen {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint16(k), binary.BigEndian.Uint64(k[2:]), binary.BigEndian.Uint64(k[10:]), true
}

// dueTime maps a due key's time back: 0 is "due since always", the zero time.
func dueTime(ms uint64) time.Time {
	if ms > math.MaxInt64 {
		return time.Time{}
	}
	return msTime(int64(ms))
}

// In-flight record: attempt u32 | startedAt i64 ms.
func inflightValue(l *engine.Lead) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b, uint32(l.Attempts))
	binary.BigEndian.PutUint64(b[4:], uint64(timeMs(l.LastAt)))
	return b
}

func parseInflight(lidKey, v []byte) (engine.InflightRecord, error) {
	if len(lidKey) != 8 || len(v) != 12 {
		return engine.InflightRecord{}, fmt.Errorf("%w: in-flight record key %d bytes, value %d bytes", errCorrupt, len(lidKey), len(v))
	}
	return engine.InflightRecord{
		LeadID:    binary.BigEndian.Uint64(lidKey),
		Attempt:   int(binary.BigEndian.Uint32(v)),
		StartedAt: msTime(int64(binary.BigEndian.Uint64(v[4:]))),
	}, nil
}

// Attempt key: lid u64 | attempt u32.
func attemptKey(lid uint64, n uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b, lid)
	binary.BigEndian.PutUint32(b[8:], n)
	return b
}

func parseAttemptKey(k []byte) (lid uint64, n uint32, ok bool) {
	if len(k) != 12 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k), binary.BigEndian.Uint32(k[8:]), true
}

func parseU64(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// Counter keys.
const (
	ctrLeads    = "leads"
	ctrAttempts = "attempts"
)

func statusCounter(s engine.LeadStatus) string       { return "s:" + string(s) }
func dispositionCounter(d engine.Disposition) string { return "d:" + string(d) }
