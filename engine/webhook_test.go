package engine_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

const testSecret = "whsec_" + "c2VjcmV0LWZvci10ZXN0cw==" // base64("secret-for-tests")

// receipt is one delivery attempt as a receiver saw it.
type receipt struct {
	id, typ  string
	body     string
	sigOK    bool
	accepted bool
	leadID   uint64
	attempt  int
}

// receiver is a real HTTP server on 127.0.0.1 whose answers a test scripts.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []receipt
	tries  map[string]int
	answer func(id string, try int) int // status; 0 stalls until the request ends
}

func newReceiver(t *testing.T, answer func(id string, try int) int) *receiver {
	r := &receiver{tries: map[string]int{}, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// verify checks a delivery the way docs/webhooks.md tells receivers to.
func verify(secret string, h http.Header, body []byte) bool {
	key, _ := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("webhook-signature")))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	var env struct {
		Type string `json:"type"`
		Data struct {
			LeadID  uint64 `json:"leadId"`
			Attempt int    `json:"attempt"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	r.mu.Lock()
	r.tries[id]++
	try := r.tries[id]
	status := r.answer(id, try)
	r.got = append(r.got, receipt{id: id, typ: env.Type, body: string(body), sigOK: verify(testSecret, req.Header, body),
		accepted: status >= 200 && status < 300, leadID: env.Data.LeadID, attempt: env.Data.Attempt})
	r.mu.Unlock()
	if status == 0 {
		<-req.Context().Done()
		return
	}
	w.WriteHeader(status)
	fmt.Fprint(w, "receiver says "+strconv.Itoa(status))
}

func (r *receiver) receipts() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receipt(nil), r.got...)
}

func webhookHarness(t *testing.T, rcv *receiver, timeout time.Duration) (*harness, *engine.Campaign) {
	h := newHarness(t, 10, func(o *engine.Options) {
		o.WebhookSecret = testSecret
		o.WebhookTimeout = timeout
		if os.Getenv("WH_DEBUG") != "" {
			o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	spec := specBody("hooks")
	spec.WebhookURL = rcv.srv.URL + "/webhooks/osmtalk"
	spec.RetryPolicy = engine.RetryPolicy{MaxAttempts: 3, BackoffMinutes: 1, RetryOn: []string{"busy"}}
	return h, h.campaignWithLeads(spec, 8)
}

// drain delivers until the outbox holds nothing undelivered, moving the
// fake clock to each next retry.
func drain(t *testing.T, h *harness, c *engine.Campaign) {
	t.Helper()
	for i := 0; i < 200; i++ {
		wait := h.e.DeliverWebhooks(context.Background())
		evs, err := h.e.Webhooks(fmt.Sprint(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, ev := range evs {
			if ev.State != engine.OutboxDead {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if wait <= 0 {
			wait = time.Second
		}
		h.clock.Advance(wait)
	}
	evs, _ := h.e.Webhooks(fmt.Sprint(c.ID))
	for _, ev := range evs {
		t.Logf("left: seq %d lead %d %s %s attempts %d next %s (now %s) %s", ev.Seq, ev.LeadID, ev.Type, ev.State, ev.Attempts, ev.NextTry, h.clock.Now(), ev.LastError)
	}
	t.Fatal("outbox never drained")
}

func TestWebhooksDeliveredAtLeastOnceSignedAndInOrderPerLead(t *testing.T) {
	// Each event fails 0-3 times first (500, or a stall past the timeout).
	rcv := newReceiver(t, func(id string, try int) int {
		f := fnv.New32a()
		f.Write([]byte(id))
		fails := int(f.Sum32() % 4)
		switch {
		case try > fails:
			return 200
		case try == 2:
			return 0
		default:
			return 500
		}
	})
	h, c := webhookHarness(t, rcv, 300*time.Millisecond)
	var n atomic.Int32 // calls end concurrently
	h.placer.result = func(req engine.CallRequest) engine.CallResult {
		if req.Attempt < 2 && n.Add(1)%2 == 0 {
			return engine.CallResult{Outcome: engine.OutcomeBusy}
		}
		return engine.CallResult{Outcome: engine.OutcomeAnswered, Analysis: &engine.Analysis{LeadQualified: true, NextAction: "qualified", Summary: "yes"}}
	}
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20 && h.state(c) == engine.StateRunning; i++ {
		h.tick()
		h.settle()
		h.clock.Advance(time.Minute)
	}
	drain(t, h, c)

	got := rcv.receipts()
	bodies := map[string]string{}
	delivered := map[string]bool{}
	type la struct {
		lead uint64
		att  int
	}
	completed := map[la]bool{}
	lastAttempt := map[uint64]int{}
	types := map[string]int{}
	for _, r := range got {
		if !r.sigOK {
			t.Fatalf("bad signature on %s", r.id)
		}
		if b, ok := bodies[r.id]; ok && b != r.body {
			t.Fatalf("retry of %s changed the body", r.id)
		}
		bodies[r.id] = r.body
		if !r.accepted || delivered[r.id] {
			continue
		}
		delivered[r.id] = true
		types[r.typ]++
		if r.typ == engine.EventLeadCompleted {
			if r.attempt <= lastAttempt[r.leadID] {
				t.Fatalf("lead %d: attempt %d delivered after attempt %d", r.leadID, r.attempt, lastAttempt[r.leadID])
			}
			lastAttempt[r.leadID] = r.attempt
			completed[la{r.leadID, r.attempt}] = true
		}
	}
	atts, err := h.e.Attempts(fmt.Sprint(c.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		if !completed[la{a.LeadID, a.Attempt}] {
			t.Fatalf("attempt %d of lead %d never reached the receiver", a.Attempt, a.LeadID)
		}
	}
	if len(completed) != len(atts) || types[engine.EventStatusChanged] != 2 || types[engine.EventCampaignCompleted] != 1 {
		t.Fatalf("delivered %v for %d attempts", types, len(atts))
	}
	if len(got) == len(delivered) {
		t.Fatal("the receiver never failed: the test proves nothing about retries")
	}
}

func TestWebhookDeadLetterThenReplay(t *testing.T) {
	down := true
	var mu sync.Mutex
	rcv := newReceiver(t, func(string, int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503
		}
		return 204
	})
	h, c := webhookHarness(t, rcv, time.Second)
	ref := fmt.Sprint(c.ID)
	if err := h.e.Pause(ref); err == nil {
		t.Fatal("pause of a draft should be refused")
	}
	if err := h.e.Start(ref); err != nil { // one status_changed event
		t.Fatal(err)
	}
	start := h.clock.Now()
	for i := 0; i < 20; i++ {
		wait := h.e.DeliverWebhooks(context.Background())
		if wait <= 0 {
			break
		}
		h.clock.Advance(wait)
	}
	evs, _ := h.e.Webhooks(ref)
	if len(evs) != 1 || evs[0].State != engine.OutboxDead || evs[0].Attempts != 8 || evs[0].LastError != "HTTP 503: receiver says 503" {
		t.Fatalf("want one dead letter after 8 attempts: %+v", evs)
	}
	// The schedule: 5s, 5m, 30m, 2h, 5h, 10h, 10h (±10%) between the 8 attempts.
	if spent := h.clock.Now().Sub(start); spent < 25*time.Hour || spent > 31*time.Hour {
		t.Fatalf("retries spanned %s, want about 27.6h", spent)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	n, err := h.e.ReplayWebhooks(ref, nil)
	if err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	h.e.DeliverWebhooks(context.Background())
	if evs, _ := h.e.Webhooks(ref); len(evs) != 0 {
		t.Fatalf("after replay: %+v", evs)
	}
	got := rcv.receipts()
	if len(got) != 9 || !got[8].accepted || got[8].id != got[0].id {
		t.Fatalf("replay should deliver the same webhook-id: %d receipts", len(got))
	}
}

func TestStalledReceiverDoesNotSlowTheDialer(t *testing.T) {
	rcv := newReceiver(t, func(string, int) int { return 0 }) // never answers
	h, c := webhookHarness(t, rcv, time.Hour)
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.e.Run(ctx); close(done) }()
	// The delivery worker is now stuck on the first event; the dialer must
	// still place every call.
	deadline := time.Now().Add(10 * time.Second)
	for len(h.placer.placedCalls()) < 8 && time.Now().Before(deadline) {
		if len(rcv.receipts()) > 0 {
			h.clock.Advance(15 * time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	if n := len(h.placer.placedCalls()); n != 8 {
		t.Fatalf("%d of 8 calls placed while the receiver stalls", n)
	}
	cancel()
	<-done
}

// putEvents stores outbox events directly (what record and mutate write).
func putEvents(t *testing.T, h *harness, evs ...*engine.OutboxEvent) {
	t.Helper()
	if err := h.store.Update(func(tx engine.Tx) error {
		for _, ev := range evs {
			if err := tx.PutOutbox(ev); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A backlog larger than one delivery pass, where each lead's newer event is
// due before its older one's retry, must still drain (oldest first).
func TestWebhookBacklogOfBlockedLeadsDrains(t *testing.T) {
	rcv := newReceiver(t, func(string, int) int { return 200 })
	h, c := webhookHarness(t, rcv, time.Second)
	t0 := h.clock.Now()
	for lead := uint64(1); lead <= 60; lead++ {
		older := &engine.OutboxEvent{ID: fmt.Sprint("old", lead), Type: engine.EventLeadCompleted, CampaignID: c.ID, LeadID: lead,
			URL: rcv.srv.URL, Body: []byte(fmt.Sprintf(`{"type":"campaign.lead_completed","data":{"leadId":%d,"attempt":1}}`, lead)),
			State: engine.OutboxFailing, Attempts: 2, NextTry: t0.Add(2 * time.Hour)}
		newer := &engine.OutboxEvent{ID: fmt.Sprint("new", lead), Type: engine.EventLeadCompleted, CampaignID: c.ID, LeadID: lead,
			URL: rcv.srv.URL, Body: []byte(fmt.Sprintf(`{"type":"campaign.lead_completed","data":{"leadId":%d,"attempt":2}}`, lead)),
			State: engine.OutboxPending, NextTry: t0.Add(time.Hour)}
		putEvents(t, h, older, newer)
	}
	h.clock.Set(t0.Add(3 * time.Hour))
	drain(t, h, c)
	last := map[uint64]int{}
	for _, r := range rcv.receipts() {
		if r.attempt <= last[r.leadID] {
			t.Fatalf("lead %d: attempt %d after %d", r.leadID, r.attempt, last[r.leadID])
		}
		last[r.leadID] = r.attempt
	}
	if len(last) != 60 {
		t.Fatalf("%d leads delivered, want 60", len(last))
	}
}

// A campaign's own events (status changes) keep their order too.
func TestWebhookCampaignEventsInOrder(t *testing.T) {
	fails := map[string]bool{"paused-1": true}
	var mu sync.Mutex
	rcv := newReceiver(t, func(id string, try int) int {
		mu.Lock()
		defer mu.Unlock()
		if fails[id] && try == 1 {
			return 500
		}
		return 200
	})
	h, c := webhookHarness(t, rcv, time.Second)
	now := h.clock.Now()
	for i, id := range []string{"paused-1", "resumed", "paused-2"} {
		putEvents(t, h, &engine.OutboxEvent{ID: id, Type: engine.EventStatusChanged, CampaignID: c.ID, URL: rcv.srv.URL,
			Body: []byte(`{}`), State: engine.OutboxPending, NextTry: now.Add(time.Duration(i) * time.Millisecond)})
	}
	h.clock.Advance(time.Second)
	drain(t, h, c)
	var order []string
	for _, r := range rcv.receipts() {
		if r.accepted {
			order = append(order, r.id)
		}
	}
	if fmt.Sprint(order) != "[paused-1 resumed paused-2]" {
		t.Fatalf("campaign events delivered as %v", order)
	}
}
