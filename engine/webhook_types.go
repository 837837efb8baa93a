package engine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Webhook event types.
const (
	EventLeadCompleted     = "campaign.lead_completed"
	EventStatusChanged     = "campaign.status_changed"
	EventCampaignCompleted = "campaign.completed"
	EventTest              = "campaign.test"
)

// OutboxState is where an undelivered webhook event stands. Delivered
// events are removed from the outbox.
type OutboxState string

const (
	OutboxPending OutboxState = "pending"
	OutboxFailing OutboxState = "failing"
	OutboxDead    OutboxState = "dead"
)

// OutboxEvent is one webhook delivery waiting in the outbox.
type OutboxEvent struct {
	Seq        uint64          `json:"seq"`
	ID         string          `json:"id"` // webhook-id: the receiver's idempotency key, stable across retries
	Type       string          `json:"type"`
	CampaignID uint64          `json:"campaignId"`
	LeadID     uint64          `json:"leadId,omitempty"`
	URL        string          `json:"url"`
	Body       json.RawMessage `json:"body"`
	CreatedAt  time.Time       `json:"createdAt"`
	State      OutboxState     `json:"state"`
	Attempts   int             `json:"attempts"`
	NextTry    time.Time       `json:"nextTry"`
	LastTryAt  *time.Time      `json:"lastTryAt,omitempty"`
	LastError  string          `json:"lastError,omitempty"`
}

// Undelivered reports whether the event still waits for delivery.
func (s OutboxState) Undelivered() bool { return s == OutboxPending || s == OutboxFailing }

// newMessageID is a random webhook-id: unique across databases, so a
// receiver's dedupe never confuses two dialdeck installations.
func newMessageID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}
