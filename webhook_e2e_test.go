package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// crmReceiver is a webhook receiver on 127.0.0.1 that can be down (503).
type crmReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down bool
	// accepted maps webhook-id to the accepted event; dupes counts repeats.
	accepted map[string]crmEvent
	dupes    int
	badSig   int
	refused  int
}

type crmEvent struct {
	Type string `json:"type"`
	Data struct {
		LeadID  uint64 `json:"leadId"`
		Attempt int    `json:"attempt"`
	} `json:"data"`
}

func newCRM(t *testing.T, secret string) *crmReceiver {
	c := &crmReceiver{accepted: map[string]crmEvent{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The recipe of docs/webhooks.md.
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
		sig := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.down {
			c.refused++
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !hmac.Equal([]byte(sig), []byte(r.Header.Get("webhook-signature"))) {
			c.badSig++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		if _, seen := c.accepted[id]; seen {
			c.dupes++
		}
		var ev crmEvent
		_ = json.Unmarshal(body, &ev)
		c.accepted[id] = ev
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *crmReceiver) setDown(d bool) {
	c.mu.Lock()
	c.down = d
	c.mu.Unlock()
}

// waitRefused polls (bounded) until the receiver has refused n deliveries.
func (c *crmReceiver) waitRefused(n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := c.refused
		c.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leadEvents counts accepted campaign.lead_completed events per (lead, attempt).
func (c *crmReceiver) leadEvents() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, ev := range c.accepted {
		if ev.Type == "campaign.lead_completed" {
			out[fmt.Sprintf("%d/%d", ev.Data.LeadID, ev.Data.Attempt)]++
		}
	}
	return out
}

func webhookCampaign(t *testing.T, w *workdir, url string, leads int) string {
	body := strings.Replace(allDayBody("hooks", 10, "no_answer", "busy", "failed"), "http://127.0.0.1:9/webhooks", url, 1)
	id := w.create("hooks.json", body)
	var b strings.Builder
	b.WriteString("phone,first_name,company,policy_type,renewal_date,premium\n")
	for i := 0; i < leads; i++ {
		fmt.Fprintf(&b, "+1212555%04d,Lead%d,Acme,Auto,2026-06-01,100\n", 1000+i, i)
	}
	w.write("hooks.csv", b.String())
	w.ok("leads", "import", id, "hooks.csv", "--region", "US")
	w.ok("campaign", "start", id)
	return id
}

// checkEveryAttemptDelivered: each attempt's lead_completed event reached
// the receiver exactly once after dedupe by webhook-id.
func checkEveryAttemptDelivered(t *testing.T, w *workdir, crm *crmReceiver, id string) {
	t.Helper()
	var atts []attempt
	w.okJSON(&atts, "attempts", id, "--json")
	got := crm.leadEvents()
	for _, a := range atts {
		k := fmt.Sprintf("%d/%d", a.LeadID, a.Attempt)
		if got[k] != 1 {
			t.Errorf("attempt %s: %d distinct events delivered, want 1", k, got[k])
		}
	}
	if len(got) != len(atts) {
		t.Errorf("%d lead events delivered for %d attempts", len(got), len(atts))
	}
	crm.mu.Lock()
	defer crm.mu.Unlock()
	if crm.badSig > 0 {
		t.Errorf("%d deliveries had a bad signature", crm.badSig)
	}
}

// TestWebhooksSurviveADownReceiver: the receiver is down for the first part
// of the run; every event still arrives, signed, once per webhook-id.
func TestWebhooksSurviveADownReceiver(t *testing.T) {
	crm := newCRM(t, "e2e-secret")
	crm.setDown(true)
	w := newWorkdir(t)
	id := webhookCampaign(t, w, crm.srv.URL+"/webhooks/osmtalk", 20)
	p := startEngine(t, w, "--exit-when-done")
	// Up again once the first events have been refused (their retry is ~5 s on).
	crm.waitRefused(10, 20*time.Second)
	crm.setDown(false)
	if code := p.wait(t, 90*time.Second); code != 0 {
		t.Fatalf("run exited %d", code)
	}
	checkEveryAttemptDelivered(t, w, crm, id)
	crm.mu.Lock()
	refused := crm.refused
	crm.mu.Unlock()
	if refused == 0 {
		t.Fatal("the receiver was never down: the test proves nothing")
	}
	var left []json.RawMessage
	w.okJSON(&left, "webhooks", "list", id, "--json")
	if len(left) != 0 {
		t.Fatalf("%d events still queued after exit", len(left))
	}
}

// TestWebhooksDeliveredAfterSIGKILL: events committed before a SIGKILL are
// delivered by the next run.
func TestWebhooksDeliveredAfterSIGKILL(t *testing.T) {
	crm := newCRM(t, "e2e-secret")
	crm.setDown(true)
	w := newWorkdir(t)
	id := webhookCampaign(t, w, crm.srv.URL+"/hooks", 30)
	p := startEngine(t, w)
	crm.waitRefused(5, 20*time.Second)
	p.kill(t)
	crm.setDown(false)
	p = startEngine(t, w, "--exit-when-done")
	if code := p.wait(t, 90*time.Second); code != 0 {
		t.Fatalf("run exited %d", code)
	}
	checkEveryAttemptDelivered(t, w, crm, id)
	w.ok("db", "check")
}

func TestWebhooksTestCommand(t *testing.T) {
	crm := newCRM(t, "e2e-secret")
	w := newWorkdir(t)
	id := w.create("h.json", strings.Replace(allDayBody("t", 1), "http://127.0.0.1:9/webhooks", crm.srv.URL, 1))
	out := w.ok("webhooks", "test", id)
	if !strings.Contains(out, "HTTP 204") {
		t.Fatalf("webhooks test: %s", out)
	}
	crm.setDown(true)
	w.fails(1, []string{"did not accept"}, "webhooks", "test", id)
}
