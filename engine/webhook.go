package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// webhookSchedule is the wait before each retry after a failed delivery
// (about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the last one the
// event is a dead letter until replayed.
var webhookSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DefaultWebhookTimeout bounds one delivery attempt.
const DefaultWebhookTimeout = 10 * time.Second

// webhookBatch is how many due events one delivery pass reads.
const webhookBatch = 50

// webhookParallel is how many deliveries (to different leads) run at once,
// so one stalled receiver does not hold up every other event.
const webhookParallel = 4

// WebhookSender performs one HTTP delivery. The default posts with
// net/http; tests and embedders may replace it.
type WebhookSender interface {
	Send(ctx context.Context, url string, header http.Header, body []byte) (status int, excerpt string, err error)
}

// HTTPSender delivers webhooks with an http.Client.
type HTTPSender struct{ Client *http.Client }

// Send posts body to url and returns the status and a short body excerpt.
func (s HTTPSender) Send(ctx context.Context, url string, header http.Header, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = header
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// Sign computes the Standard Webhooks signature header value: "v1," +
// base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)). A secret
// written "whsec_<base64>" is base64-decoded first, as Standard Webhooks
// libraries expect; any other secret is used as raw bytes.
func Sign(secret, id string, timestamp int64, body []byte) string {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(rest); err == nil {
			key = k
		}
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, timestamp)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// webhookEnvelope is the body of every event (the Standard Webhooks shape).
type webhookEnvelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// LeadCompletedData is the data of a campaign.lead_completed event.
type LeadCompletedData struct {
	CampaignID    uint64            `json:"campaignId"`
	CampaignName  string            `json:"campaignName"`
	LeadID        uint64            `json:"leadId"`
	Phone         string            `json:"phone"`
	Variables     map[string]string `json:"variables"`
	Attempt       int               `json:"attempt"`
	Status        LeadStatus        `json:"status"`
	Disposition   Disposition       `json:"disposition"`
	Outcome       Outcome           `json:"outcome"`
	Reason        string            `json:"reason,omitempty"`
	SIPCode       int               `json:"sipCode,omitempty"`
	Analysis      *Analysis         `json:"analysis,omitempty"`
	Summary       string            `json:"summary,omitempty"`
	StartedAt     time.Time         `json:"startedAt"`
	EndedAt       time.Time         `json:"endedAt"`
	NextAttemptAt *time.Time        `json:"nextAttemptAt,omitempty"`
}

// StatusChangedData is the data of a campaign.status_changed event.
type StatusChangedData struct {
	CampaignID   uint64        `json:"campaignId"`
	CampaignName string        `json:"campaignName"`
	From         CampaignState `json:"from"`
	To           CampaignState `json:"to"`
	Why          string        `json:"why"`
}

// CampaignCompletedData is the data of a campaign.completed event.
type CampaignCompletedData struct {
	CampaignID   uint64        `json:"campaignId"`
	CampaignName string        `json:"campaignName"`
	State        CampaignState `json:"state"`
	Why          string        `json:"why"`
	Report       *Report       `json:"report"`
}

// emit writes an event for campaign c into the outbox, inside the caller's
// transaction (callers wake the worker after commit). Campaigns without a
// webhookUrl emit nothing.
func (e *Engine) emit(tx Tx, c *Campaign, typ string, leadID uint64, data any) error {
	if c.WebhookURL == "" {
		return nil
	}
	now := e.clock.Now()
	body, err := json.Marshal(webhookEnvelope{Type: typ, Timestamp: now.UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	ev := &OutboxEvent{ID: newMessageID(), Type: typ, CampaignID: c.ID, LeadID: leadID, URL: c.WebhookURL,
		Body: body, CreatedAt: now, State: OutboxPending, NextTry: now}
	if err := tx.PutOutbox(ev); err != nil {
		return fmt.Errorf("outbox %s: %w", typ, err)
	}
	return nil
}

// emitStatus records a state change (and the final report when it ends).
func (e *Engine) emitStatus(tx Tx, c *Campaign, from CampaignState, why string) error {
	if from == c.State {
		return nil
	}
	if err := e.emit(tx, c, EventStatusChanged, 0, StatusChangedData{CampaignID: c.ID, CampaignName: c.Name, From: from, To: c.State, Why: why}); err != nil {
		return err
	}
	if c.State != StateCompleted && c.State != StateFailed {
		return nil
	}
	r, err := e.reportTx(tx, c)
	if err != nil {
		return err
	}
	return e.emit(tx, c, EventCampaignCompleted, 0, CampaignCompletedData{CampaignID: c.ID, CampaignName: c.Name, State: c.State, Why: why, Report: r})
}

// wakeWebhooks nudges the delivery worker after a commit that added events.
func (e *Engine) wakeWebhooks() {
	select {
	case e.whWake <- struct{}{}:
	default:
	}
}

// runWebhooks delivers outbox events until ctx ends: at least once, in
// order per lead, retried on the schedule, never blocking the dialer (it is
// its own goroutine and each attempt is bounded by the timeout). A backlog
// waits on disk; only one batch is in memory.
func (e *Engine) runWebhooks(ctx context.Context) {
	for {
		wait := e.DeliverWebhooks(ctx)
		var timer <-chan time.Time
		if wait > 0 {
			timer = e.clock.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-e.whWake:
		case <-timer:
		}
	}
}

// DeliverWebhooks makes one pass over the due events and returns how long
// until the next one is due (0: none pending, wait for a wake-up).
func (e *Engine) DeliverWebhooks(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		now := e.clock.Now()
		var due []*OutboxEvent
		var next time.Time
		var hasNext bool
		if err := e.store.View(func(tx Tx) error {
			err := tx.OutboxDue(now, func(ev *OutboxEvent) bool {
				due = append(due, ev)
				return len(due) < webhookBatch
			})
			if err != nil {
				return err
			}
			next, hasNext, err = tx.NextOutboxTry()
			return err
		}); err != nil {
			e.log.Error("webhook outbox read", "err", err)
			return time.Second
		}
		sent := 0
		// One attempt per lead per pass, oldest event first: a lead's later
		// events wait while an earlier one is failing.
		attempted := map[callKey]bool{}
		var blockedUntil time.Time
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			results []deliveryResult
			slots   = make(chan struct{}, webhookParallel)
			secrets = map[uint64]string{}
		)
		for _, ev := range due {
			if ctx.Err() != nil {
				break
			}
			// Oldest first per lead (and per campaign for its own events):
			// when an older event is due it goes in this one's place.
			k := callKey{ev.CampaignID, ev.LeadID}
			if attempted[k] {
				continue
			}
			first, ok, err := e.firstForLead(ev.CampaignID, ev.LeadID)
			if err != nil {
				e.log.Error("webhook order check", "err", err)
				continue
			}
			if ok && first.Seq < ev.Seq {
				if first.NextTry.After(now) {
					if blockedUntil.IsZero() || first.NextTry.Before(blockedUntil) {
						blockedUntil = first.NextTry
					}
					continue
				}
				ev = first
			}
			attempted[k] = true
			secret, known := secrets[ev.CampaignID]
			if !known {
				secret = e.secretFor(ev.CampaignID)
				secrets[ev.CampaignID] = secret
			}
			sent++
			slots <- struct{}{}
			wg.Add(1)
			go func(ev *OutboxEvent) {
				defer wg.Done()
				r := e.attempt(ctx, ev, secret)
				if ctx.Err() != nil {
					<-slots
					return // shutting down: not the receiver's failure, retry as is
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				<-slots
			}(ev)
		}
		wg.Wait()
		e.recordDeliveries(results)
		if ctx.Err() != nil {
			return 0
		}
		if len(due) < webhookBatch || sent == 0 {
			if !hasNext {
				return 0
			}
			if len(due) > 0 && sent == 0 {
				// Everything due is behind an older event in backoff.
				if d := blockedUntil.Sub(now); d > 0 {
					return d
				}
				return time.Second
			}
			if d := next.Sub(e.clock.Now()); d > 0 {
				return d
			}
		}
	}
	return 0
}

// firstForLead is the oldest undelivered event of a lead.
func (e *Engine) firstForLead(cid, lid uint64) (*OutboxEvent, bool, error) {
	var first *OutboxEvent
	err := e.store.View(func(tx Tx) error {
		seq, ok, err := tx.OutboxFirstForLead(cid, lid)
		if err != nil || !ok {
			return err
		}
		first, err = tx.Outbox(seq)
		return err
	})
	return first, first != nil, err
}

// deliveryResult is the outcome of one delivery attempt.
type deliveryResult struct {
	ev  *OutboxEvent
	ok  bool
	why string
	at  time.Time
}

// secretFor is the signing secret of a campaign's events.
func (e *Engine) secretFor(cid uint64) string {
	secret := e.whSecret
	_ = e.store.View(func(tx Tx) error {
		if c, err := tx.Campaign(cid); err == nil && c.WebhookSecret != "" {
			secret = c.WebhookSecret
		}
		return nil
	})
	return secret
}

// attempt makes one delivery attempt; it writes nothing.
func (e *Engine) attempt(ctx context.Context, ev *OutboxEvent, secret string) deliveryResult {
	h := e.webhookHeader(ev.ID, secret, e.clock.Now().Unix(), ev.Body)
	actx, cancel := context.WithTimeout(ctx, e.whTimeout)
	status, excerpt, err := e.whSender.Send(actx, ev.URL, h, ev.Body)
	cancel()
	r := deliveryResult{ev: ev, ok: err == nil && status >= 200 && status < 300, at: e.clock.Now()}
	switch {
	case r.ok:
		e.log.Debug("webhook delivered", "id", ev.ID, "type", ev.Type, "status", status)
		return r
	case errors.Is(err, context.DeadlineExceeded):
		r.why = fmt.Sprintf("no answer within %s", e.whTimeout)
	case err != nil:
		r.why = err.Error()
	default:
		r.why = fmt.Sprintf("HTTP %d", status)
		if excerpt != "" {
			r.why += ": " + excerpt
		}
	}
	e.log.Warn("webhook delivery failed", "id", ev.ID, "type", ev.Type, "attempt", ev.Attempts+1, "err", r.why)
	return r
}

// recordDeliveries stores a pass's results in one transaction (one fsync
// for the batch). A crash before it commits only means those events are sent
// again: delivery is at least once, and receivers dedupe on webhook-id.
func (e *Engine) recordDeliveries(results []deliveryResult) {
	if len(results) == 0 {
		return
	}
	err := e.store.Update(func(tx Tx) error {
		for _, r := range results {
			cur, err := tx.Outbox(r.ev.Seq)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if r.ok {
				if err := tx.DeleteOutbox(cur.Seq); err != nil {
					return err
				}
				continue
			}
			at := r.at
			cur.Attempts++
			cur.LastError = r.why
			cur.LastTryAt = &at
			if cur.Attempts > len(webhookSchedule) {
				cur.State = OutboxDead
			} else {
				cur.State = OutboxFailing
				cur.NextTry = at.Add(jitter(webhookSchedule[cur.Attempts-1]))
			}
			if err := tx.PutOutbox(cur); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Error("webhook outbox update", "events", len(results), "err", err)
	}
}

// jitter spreads retries by ±10% so a recovering receiver is not hit by
// every event at once.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// Webhooks lists a campaign's undelivered and dead events.
func (e *Engine) Webhooks(ref string) ([]*OutboxEvent, error) {
	c, err := e.Campaign(ref)
	if err != nil {
		return nil, err
	}
	var out []*OutboxEvent
	err = e.store.View(func(tx Tx) error {
		return tx.ScanOutbox(0, func(ev *OutboxEvent) bool {
			if ev.CampaignID == c.ID {
				out = append(out, ev)
			}
			return true
		})
	})
	return out, err
}

// ReplayWebhooks puts a campaign's dead events (or the given ones) back in
// the queue, due now, with their attempts reset and the same webhook-id.
func (e *Engine) ReplayWebhooks(ref string, seqs []uint64) (int, error) {
	c, err := e.Campaign(ref)
	if err != nil {
		return 0, err
	}
	want := map[uint64]bool{}
	for _, s := range seqs {
		want[s] = true
	}
	n := 0
	now := e.clock.Now()
	err = e.store.Update(func(tx Tx) error {
		var evs []*OutboxEvent
		if err := tx.ScanOutbox(0, func(ev *OutboxEvent) bool {
			if ev.CampaignID == c.ID && ((len(want) == 0 && ev.State == OutboxDead) || want[ev.Seq]) {
				evs = append(evs, ev)
			}
			return true
		}); err != nil {
			return err
		}
		for _, ev := range evs {
			ev.State, ev.Attempts, ev.NextTry = OutboxPending, 0, now
			if err := tx.PutOutbox(ev); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replay webhooks: %w", err)
	}
	e.wakeWebhooks()
	return n, nil
}

// TestWebhook sends one signed campaign.test event to the campaign's URL now
// (not through the outbox) and returns the receiver's answer.
func (e *Engine) TestWebhook(ctx context.Context, ref string) (status int, excerpt string, err error) {
	c, err := e.Campaign(ref)
	if err != nil {
		return 0, "", err
	}
	if c.WebhookURL == "" {
		return 0, "", fmt.Errorf("campaign %q has no webhookUrl", c.Name)
	}
	now := e.clock.Now()
	body, _ := json.Marshal(webhookEnvelope{Type: EventTest, Timestamp: now.UTC(), Data: map[string]any{"campaignId": c.ID, "campaignName": c.Name}})
	id := newMessageID()
	secret := e.whSecret
	if c.WebhookSecret != "" {
		secret = c.WebhookSecret
	}
	actx, cancel := context.WithTimeout(ctx, e.whTimeout)
	defer cancel()
	return e.whSender.Send(actx, c.WebhookURL, e.webhookHeader(id, secret, now.Unix(), body), body)
}

// webhookHeader builds the Standard Webhooks headers of one attempt.
func (e *Engine) webhookHeader(id, secret string, ts int64, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", e.whUserAgent)
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	if secret != "" {
		h.Set("webhook-signature", Sign(secret, id, ts, body))
	}
	return h
}

// WebhookBacklog counts undelivered events: those due within soon, those
// waiting longer for a retry, and dead letters.
func (e *Engine) WebhookBacklog(soon time.Duration) (dueSoon, later, dead int, err error) {
	limit := e.clock.Now().Add(soon)
	err = e.store.View(func(tx Tx) error {
		return tx.ScanOutbox(0, func(ev *OutboxEvent) bool {
			switch {
			case ev.State == OutboxDead:
				dead++
			case ev.NextTry.After(limit):
				later++
			default:
				dueSoon++
			}
			return true
		})
	})
	return dueSoon, later, dead, err
}
