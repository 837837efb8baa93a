package engine

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// exportPage is how many leads one read transaction takes; the file is
// written between transactions so no read tx is open during I/O.
const exportPage = 1000

// Export writes every lead as CSV: its original columns, then status,
// disposition, attempts, last and next attempt times, the last analysis
// summary and fields (JSON).
func (e *Engine) Export(ref string, w io.Writer) (int, error) {
	c, err := e.Campaign(ref)
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	header := append(append([]string{}, c.Columns...), "status", "disposition", "attempts", "last_attempt_at", "next_attempt_at", "last_outcome", "last_reason", "last_sip_code", "summary", "analysis_fields")
	if len(c.Columns) == 0 {
		header = append([]string{"phone"}, header...)
	}
	if err := cw.Write(header); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	n := 0
	after := uint64(0)
	for {
		type row struct {
			l *Lead
			a *Attempt
		}
		var rows []row
		err := e.store.View(func(tx Tx) error {
			return tx.ScanLeads(c.ID, after, func(l *Lead) bool {
				a, err := tx.LastAttempt(c.ID, l.ID)
				if err != nil {
					a = nil
				}
				rows = append(rows, row{l, a})
				return len(rows) < exportPage
			})
		})
		if err != nil {
			return n, fmt.Errorf("export: read leads after %d: %w", after, err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			rec := make([]string, 0, len(header))
			if len(c.Columns) == 0 {
				rec = append(rec, r.l.Phone)
			}
			rec = append(rec, r.l.Values...)
			for len(rec) < len(c.Columns) {
				rec = append(rec, "")
			}
			rec = append(rec, string(r.l.Status), string(r.l.Disposition), strconv.Itoa(r.l.Attempts), fmtTime(r.l.LastAt), fmtTime(r.l.NextAt))
			var outcome, reason, sipCode, summary, fields string
			if r.a != nil {
				outcome, reason = string(r.a.Outcome), r.a.Reason
				if r.a.SIPCode != 0 {
					sipCode = strconv.Itoa(r.a.SIPCode)
				}
				if r.a.Analysis != nil {
					summary = r.a.Analysis.Summary
					if len(r.a.Analysis.Fields) > 0 {
						b, _ := json.Marshal(r.a.Analysis.Fields)
						fields = string(b)
					}
				}
			}
			rec = append(rec, outcome, reason, sipCode, summary, fields)
			if err := cw.Write(rec); err != nil {
				return n, fmt.Errorf("export: %w", err)
			}
			n++
		}
		after = rows[len(rows)-1].l.ID
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
	}
	cw.Flush()
	return n, cw.Error()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Leads returns up to limit leads with ID > after whose status, disposition
// or text matches filter (empty: all). The UI reads its visible window with it.
func (e *Engine) Leads(cid uint64, after uint64, limit int, match func(*Lead) bool) ([]*Lead, error) {
	var out []*Lead
	err := e.store.View(func(tx Tx) error {
		return tx.ScanLeads(cid, after, func(l *Lead) bool {
			if match == nil || match(l) {
				out = append(out, l)
			}
			return len(out) < limit
		})
	})
	return out, err
}

// Attempts lists a campaign's attempt records (all leads when lid is 0).
func (e *Engine) Attempts(ref string, lid uint64) ([]*Attempt, error) {
	c, err := e.Campaign(ref)
	if err != nil {
		return nil, err
	}
	var out []*Attempt
	err = e.store.View(func(tx Tx) error {
		if lid != 0 {
			var err error
			out, err = tx.Attempts(c.ID, lid)
			return err
		}
		return tx.ScanAttempts(c.ID, func(a *Attempt) bool { out = append(out, a); return true })
	})
	return out, err
}

// Check verifies a campaign's stored invariants (empty: all good).
func (e *Engine) Check(cid uint64) ([]string, error) {
	var probs []string
	err := e.store.View(func(tx Tx) error {
		var err error
		probs, err = tx.Check(cid)
		return err
	})
	return probs, err
}
