package engine

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// DNCAdd puts numbers on the do-not-call list (normalised with region for
// numbers without a country code). A number added while a campaign runs is
// never dialed afterwards: the list is checked when a lead is claimed.
func (e *Engine) DNCAdd(raw []string, region, source string) (added []string, err error) {
	var entries []DNCEntry
	now := e.clock.Now()
	for _, r := range raw {
		p, _, err := NormalizePhone(r, region)
		if err != nil {
			return nil, fmt.Errorf("dnc add %q: %w", r, err)
		}
		entries = append(entries, DNCEntry{Phone: p, AddedAt: now, Source: source})
	}
	err = e.store.Update(func(tx Tx) error {
		for _, en := range entries {
			if err := tx.PutDNC(en); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dnc add: %w", err)
	}
	for _, en := range entries {
		added = append(added, en.Phone)
	}
	e.events.publish(Event{Kind: EventDNC, At: now})
	return added, nil
}

// DNCRemove takes numbers off the list; it returns those that were on it.
func (e *Engine) DNCRemove(raw []string, region string) (removed []string, err error) {
	err = e.store.Update(func(tx Tx) error {
		for _, r := range raw {
			p, _, err := NormalizePhone(r, region)
			if err != nil {
				return fmt.Errorf("%q: %w", r, err)
			}
			ok, err := tx.DeleteDNC(p)
			if err != nil {
				return err
			}
			if ok {
				removed = append(removed, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dnc remove: %w", err)
	}
	e.events.publish(Event{Kind: EventDNC, At: e.clock.Now()})
	return removed, nil
}

// DNCImportSummary is what a DNC file import did.
type DNCImportSummary struct {
	Added   int           `json:"added"`
	Invalid int           `json:"invalid"`
	Errors  []ImportError `json:"errors"`
}

// DNCImport reads numbers, one per line (the first field of a CSV line; a
// header line and blank lines are skipped), into the list.
func (e *Engine) DNCImport(r io.Reader, region, source string) (*DNCImportSummary, error) {
	sum := &DNCImportSummary{Errors: []ImportError{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	now := e.clock.Now()
	var batch []DNCEntry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := e.store.Update(func(tx Tx) error {
			for _, en := range batch {
				if err := tx.PutDNC(en); err != nil {
					return err
				}
			}
			return nil
		})
		sum.Added += len(batch)
		batch = batch[:0]
		return err
	}
	line := 0
	for sc.Scan() {
		line++
		f := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if i := strings.IndexAny(f, ",;\t|"); i >= 0 {
			f = strings.TrimSpace(f[:i])
		}
		f = strings.Trim(f, `"`)
		if f == "" || strings.HasPrefix(f, "#") {
			continue
		}
		p, _, err := NormalizePhone(f, region)
		if err != nil {
			if line == 1 {
				continue // a header
			}
			sum.Invalid++
			if len(sum.Errors) < maxImportErrors {
				sum.Errors = append(sum.Errors, ImportError{Line: line, Reason: fmt.Sprintf("%q: %v", clip(f, 40), err)})
			}
			continue
		}
		batch = append(batch, DNCEntry{Phone: p, AddedAt: now, Source: source})
		if len(batch) >= importBatch {
			if err := flush(); err != nil {
				return sum, fmt.Errorf("dnc import: line %d: %w", line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("dnc import: line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return sum, fmt.Errorf("dnc import: %w", err)
	}
	e.events.publish(Event{Kind: EventDNC, At: now})
	return sum, nil
}

// DNCList returns up to limit entries (0: all) whose number contains filter.
func (e *Engine) DNCList(filter string, limit int) ([]DNCEntry, int, error) {
	var out []DNCEntry
	total := 0
	err := e.store.View(func(tx Tx) error {
		return tx.ScanDNC(func(d DNCEntry) bool {
			total++
			if filter == "" || strings.Contains(d.Phone, filter) || strings.Contains(strings.ToLower(d.Source), strings.ToLower(filter)) {
				if limit == 0 || len(out) < limit {
					out = append(out, d)
				}
			}
			return true
		})
	})
	return out, total, err
}

// OnDNC reports whether an E.164 number is on the list.
func (e *Engine) OnDNC(phone string) (bool, error) {
	var on bool
	err := e.store.View(func(tx Tx) error {
		var err error
		on, err = tx.DNCHas(phone)
		return err
	})
	return on, err
}
