package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// BenchmarkWebhookDeliveries measures outbox deliveries per second to a
// local receiver, beside a baseline of plain sequential POSTs of the same
// bodies to the same receiver in the same run.
func BenchmarkWebhookDeliveries(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	body := []byte(`{"type":"campaign.lead_completed","data":{"campaignId":1,"leadId":1,"attempt":1,"status":"done","disposition":"qualified"}}`)
	const events = 500

	b.Run("baseline-plain-post", func(b *testing.B) {
		client := &http.Client{}
		start := time.Now()
		for i := 0; i < b.N; i++ {
			for j := 0; j < events; j++ {
				resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		b.ReportMetric(float64(b.N*events)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("outbox", func(b *testing.B) {
		h := newHarness(b, 10, func(o *engine.Options) { o.WebhookSecret = testSecret })
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			err := h.store.Update(func(tx engine.Tx) error {
				for j := 0; j < events; j++ {
					ev := &engine.OutboxEvent{ID: fmt.Sprintf("msg_%d_%d", i, j), Type: engine.EventLeadCompleted, CampaignID: 1,
						LeadID: uint64(j + 1), URL: srv.URL, Body: body, CreatedAt: h.clock.Now(), State: engine.OutboxPending, NextTry: h.clock.Now()}
					if err := tx.PutOutbox(ev); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			h.e.DeliverWebhooks(context.Background())
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(b.N*events)/elapsed.Seconds(), "events/s")
	})
}
