package engine

import (
	"context"
	"time"
)

// Store is the persistence port. Every method of Tx runs inside one
// transaction; Update commits atomically (fsync'd) or not at all.
type Store interface {
	View(fn func(Tx) error) error
	Update(fn func(Tx) error) error
	Close() error
}

// Tx is one storage transaction. Values returned are copies owned by the
// caller. Derived data (the due index, the in-flight records, the counters)
// is maintained by the store from lead changes, in the same transaction, so
// it can never disagree with the leads.
type Tx interface {
	// Campaigns.
	Campaigns() ([]*Campaign, error)
	Campaign(id uint64) (*Campaign, error) // ErrNotFound
	// PutCampaign stores the campaign's meta, assigning an ID when it is 0.
	PutCampaign(c *Campaign) error
	DeleteCampaign(id uint64) error

	// Leads.
	Lead(cid, lid uint64) (*Lead, error) // ErrNotFound
	// PutLead updates an existing lead (by ID) and its due index entry,
	// in-flight record and counters.
	PutLead(cid uint64, l *Lead) error
	// InsertLeads adds new leads, assigning sequential IDs, with their due
	// index entries and counters. It does not touch the phone index.
	InsertLeads(cid uint64, leads []*Lead) error
	// ScanLeads calls fn for leads with ID > after in ID order until fn
	// returns false.
	ScanLeads(cid uint64, after uint64, fn func(*Lead) bool) error
	// Due calls fn for due lead IDs of one time-zone group with due time <=
	// now, earliest first, until fn returns false.
	Due(cid uint64, group uint16, now time.Time, fn func(lid uint64, dueAt time.Time) bool) error
	// NextDue is the earliest due time in a group (ok false when none).
	NextDue(cid uint64, group uint16) (at time.Time, ok bool, err error)
	// Inflight lists the campaign's in-flight records.
	Inflight(cid uint64) ([]InflightRecord, error)
	Counters(cid uint64) (Counters, error)

	// Phone index: E.164 digits as a number -> lead ID.
	LeadByPhone(cid uint64, phone uint64) (lid uint64, ok bool, err error)
	ScanPhones(cid uint64, fn func(phone, lid uint64) bool) error
	// PutPhones writes index entries; callers pass them sorted by phone.
	PutPhones(cid uint64, entries []PhoneEntry) error
	ClearPhones(cid uint64) error

	// Attempts.
	PutAttempt(a *Attempt) error
	Attempts(cid, lid uint64) ([]*Attempt, error)
	LastAttempt(cid, lid uint64) (*Attempt, error) // ErrNotFound
	ScanAttempts(cid uint64, fn func(*Attempt) bool) error

	// Do-not-call list, keyed by E.164.
	DNCHas(phone string) (bool, error)
	PutDNC(e DNCEntry) error
	DeleteDNC(phone string) (bool, error)
	ScanDNC(fn func(DNCEntry) bool) error
	DNCCount() (int, error)

	OutboxTx

	// Check recounts everything derived and reports each broken invariant.
	Check(cid uint64) ([]string, error)
}

// PhoneEntry is one entry of a campaign's phone index.
type PhoneEntry struct {
	Phone  uint64
	LeadID uint64
}

// Clock is the engine's source of time; tests use a fake one.
type Clock interface {
	Now() time.Time
	// After is like time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time                         { return time.Now() }
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// CallRequest is everything a placer needs to make one call.
type CallRequest struct {
	CampaignID   uint64
	CampaignName string
	LeadID       uint64
	Attempt      int
	Phone        string // E.164
	CallerID     string // E.164 of the campaign's number
	NumberID     string
	AgentID      string
	Variables    map[string]string // the lead's row plus built-ins
	// Prompt and WelcomeMessage are the agent's templates rendered with Variables.
	Prompt         string
	WelcomeMessage string
	// OnProgress, when set, receives live call state for the UI. It must
	// not block.
	OnProgress func(CallProgress)
}

// CallProgress is a live call's state as the media layer sees it.
type CallProgress struct {
	State         string // e.g. "dialing", "ringing", "talking", "ending"
	AgentSpeaking bool
	LastLine      string // the latest transcript line, "agent: ..." or "callee: ..."
	Detail        string // carrier-specific progress (SIP code, ...)
}

// CallResult is how a call ended.
type CallResult struct {
	Outcome          Outcome
	Reason           string
	Answered         bool
	RingDuration     time.Duration
	TalkDuration     time.Duration
	PacketsToAgent   uint64
	PacketsFromAgent uint64
	Transcript       []TranscriptLine
	Analysis         *Analysis
	// SIPCode is the final SIP response of the phone leg (0 when the
	// carrier is not SIP or none arrived).
	SIPCode int
	// Permanent marks a failure that no retry can fix (the number does not
	// exist): the lead is not dialed again whatever retryOn says.
	Permanent bool
}

// CallPlacer places calls. Place blocks until the call has ended (or ctx is
// cancelled, when it hangs up and returns promptly). It must be safe for
// concurrent use.
type CallPlacer interface {
	Place(ctx context.Context, req CallRequest) CallResult
}

// OutboxTx is the webhook outbox part of a transaction: events are written in
// the same transaction as the state change that causes them.
type OutboxTx interface {
	// PutOutbox stores an event, assigning Seq when 0, and keeps the due and
	// per-lead order indexes for pending and failing events.
	PutOutbox(ev *OutboxEvent) error
	Outbox(seq uint64) (*OutboxEvent, error) // ErrNotFound
	DeleteOutbox(seq uint64) error
	// OutboxDue calls fn for pending/failing events with NextTry <= now,
	// earliest first, until fn returns false.
	OutboxDue(now time.Time, fn func(*OutboxEvent) bool) error
	// OutboxFirstForLead is the oldest undelivered (pending or failing)
	// event of a lead (lid 0: of the campaign's own events).
	OutboxFirstForLead(cid, lid uint64) (seq uint64, ok bool, err error)
	// ScanOutbox calls fn for every stored event with Seq > after.
	ScanOutbox(after uint64, fn func(*OutboxEvent) bool) error
	// NextOutboxTry is the earliest NextTry of a pending/failing event.
	NextOutboxTry() (time.Time, bool, error)
}
