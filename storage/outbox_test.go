package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func TestOutboxIndexesFollowState(t *testing.T) {
	s := openTemp(t)
	ev := func(lead uint64, next time.Time) *engine.OutboxEvent {
		return &engine.OutboxEvent{ID: fmt.Sprint("msg_", lead), Type: engine.EventLeadCompleted, CampaignID: 1, LeadID: lead,
			URL: "http://127.0.0.1:9/", Body: []byte(`{}`), State: engine.OutboxPending, NextTry: next}
	}
	a, b, c := ev(7, t0), ev(7, t0.Add(time.Second)), ev(8, t0.Add(time.Hour))
	update(t, s, func(tx engine.Tx) error {
		for _, e := range []*engine.OutboxEvent{a, b, c} {
			if err := tx.PutOutbox(e); err != nil {
				return err
			}
		}
		return nil
	})
	due := func(now time.Time) (seqs []uint64) {
		_ = s.View(func(tx engine.Tx) error {
			return tx.OutboxDue(now, func(e *engine.OutboxEvent) bool { seqs = append(seqs, e.Seq); return true })
		})
		return seqs
	}
	if got := fmt.Sprint(due(t0.Add(time.Minute))); got != "[1 2]" {
		t.Fatalf("due a minute in: %s", got)
	}
	// a fails: it moves later in the due index but stays first for lead 7.
	update(t, s, func(tx engine.Tx) error {
		a.State, a.Attempts, a.NextTry = engine.OutboxFailing, 1, t0.Add(2*time.Hour)
		return tx.PutOutbox(a)
	})
	if got := fmt.Sprint(due(t0.Add(time.Minute))); got != "[2]" {
		t.Fatalf("after a failure: %s", got)
	}
	_ = s.View(func(tx engine.Tx) error {
		seq, ok, err := tx.OutboxFirstForLead(1, 7)
		if err != nil || !ok || seq != a.Seq {
			t.Fatalf("first for lead 7: %d %v %v", seq, ok, err)
		}
		next, ok, _ := tx.NextOutboxTry()
		if !ok || !next.Equal(t0.Add(time.Second)) {
			t.Fatalf("next try %v", next)
		}
		return nil
	})
	// a goes dead: out of both indexes, still listed.
	update(t, s, func(tx engine.Tx) error {
		a.State = engine.OutboxDead
		return tx.PutOutbox(a)
	})
	if got := fmt.Sprint(due(t0.Add(3 * time.Hour))); got != "[2 3]" {
		t.Fatalf("after dead letter: %s", got)
	}
	_ = s.View(func(tx engine.Tx) error {
		if seq, ok, _ := tx.OutboxFirstForLead(1, 7); !ok || seq != b.Seq {
			t.Fatalf("a dead event must not hold back the lead's next one: %d %v", seq, ok)
		}
		return nil
	})
	// Delivered: gone.
	update(t, s, func(tx engine.Tx) error { return tx.DeleteOutbox(b.Seq) })
	_ = s.View(func(tx engine.Tx) error {
		if _, err := tx.Outbox(b.Seq); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("deleted event: %v", err)
		}
		n := 0
		_ = tx.ScanOutbox(0, func(*engine.OutboxEvent) bool { n++; return true })
		if n != 2 {
			t.Fatalf("%d events left, want a (dead) and c", n)
		}
		return nil
	})
}

// BenchmarkLeadCompletionTx is what the outbox row adds to the transaction
// that records a finished call: PutLead + PutAttempt, with and without
// PutOutbox, fsync on, in the same run.
func BenchmarkLeadCompletionTx(b *testing.B) {
	for _, withOutbox := range []bool{false, true} {
		name := "baseline-no-outbox"
		if withOutbox {
			name = "with-outbox"
		}
		b.Run(name, func(b *testing.B) {
			s := openTemp(b)
			cid := newCampaign(b, s, "bench")
			leads := pendingLeads(b.N, 0)
			update(b, s, func(tx engine.Tx) error { return tx.InsertLeads(cid, leads) })
			body := []byte(`{"type":"campaign.lead_completed","data":{"campaignId":1,"leadId":1,"phone":"+14155550100","variables":{"first_name":"Maria"},"attempt":1,"status":"done","disposition":"qualified"}}`)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l := leads[i]
				err := s.Update(func(tx engine.Tx) error {
					l.Status, l.Disposition, l.Attempts = engine.LeadDone, engine.DispQualified, 1
					if err := tx.PutLead(cid, l); err != nil {
						return err
					}
					if err := tx.PutAttempt(&engine.Attempt{CampaignID: cid, LeadID: l.ID, Phone: l.Phone, Attempt: 1, StartedAt: t0, EndedAt: t0,
						Outcome: engine.OutcomeAnswered, Disposition: engine.DispQualified}); err != nil {
						return err
					}
					if !withOutbox {
						return nil
					}
					return tx.PutOutbox(&engine.OutboxEvent{ID: "msg_x", Type: engine.EventLeadCompleted, CampaignID: cid, LeadID: l.ID,
						URL: "http://127.0.0.1:9/", Body: body, CreatedAt: t0, State: engine.OutboxPending, NextTry: t0})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
