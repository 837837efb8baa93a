package engine

import (
	"errors"
	"time"
)

// CampaignState is a campaign's place in the lifecycle of the spec:
// draft -> scheduled -> running <-> paused -> completed, or failed.
type CampaignState string

const (
	StateDraft     CampaignState = "draft"
	StateScheduled CampaignState = "scheduled"
	StateRunning   CampaignState = "running"
	StatePaused    CampaignState = "paused"
	StateCompleted CampaignState = "completed"
	StateFailed    CampaignState = "failed"
)

// LeadStatus says where a lead is in its way through a campaign.
type LeadStatus string

const (
	// LeadPending: imported, never dialed yet, due now.
	LeadPending LeadStatus = "pending"
	// LeadDialing: claimed by a tick, a call is in flight.
	LeadDialing LeadStatus = "dialing"
	// LeadRetry: dialed at least once, waiting for NextAt (a retry or a callback).
	LeadRetry LeadStatus = "retry"
	// LeadDone: terminal; Disposition says how it ended.
	LeadDone LeadStatus = "done"
)

// LeadStatuses lists every status in display order.
var LeadStatuses = []LeadStatus{LeadPending, LeadDialing, LeadRetry, LeadDone}

// Due reports whether a lead in this status belongs in the due index.
func (s LeadStatus) Due() bool { return s == LeadPending || s == LeadRetry }

// Disposition is the outcome recorded against a lead (the spec's table, plus
// "answered" for an answered call whose agent has no post-call analysis).
type Disposition string

const (
	DispNone          Disposition = ""
	DispQualified     Disposition = "qualified"
	DispNotInterested Disposition = "not_interested"
	DispCallback      Disposition = "callback"
	DispVoicemail     Disposition = "voicemail"
	DispNoAnswer      Disposition = "no_answer"
	DispBusy          Disposition = "busy"
	DispFailed        Disposition = "failed"
	DispDNC           Disposition = "dnc"
	DispAnswered      Disposition = "answered"
)

// Dispositions lists every disposition in display order.
var Dispositions = []Disposition{DispQualified, DispNotInterested, DispCallback, DispVoicemail,
	DispNoAnswer, DispBusy, DispFailed, DispDNC, DispAnswered}

// ParseDisposition accepts a disposition name as written in retryOn.
func ParseDisposition(s string) (Disposition, bool) {
	for _, d := range Dispositions {
		if string(d) == s {
			return d, true
		}
	}
	return DispNone, false
}

// Outcome is how a placed call ended at the phone/agent level.
type Outcome string

const (
	OutcomeAnswered  Outcome = "answered"
	OutcomeBusy      Outcome = "busy"
	OutcomeNoAnswer  Outcome = "no_answer"
	OutcomeVoicemail Outcome = "voicemail"
	OutcomeFailed    Outcome = "failed"
)

// NextAction values the agent's end_call may report.
const (
	ActionQualified     = "qualified"
	ActionNotInterested = "not_interested"
	ActionCallback      = "callback"
	ActionDoNotCall     = "do_not_call"
	ActionVoicemail     = "voicemail"
)

// Schedule is when a campaign may dial, in its own time zone.
type Schedule struct {
	Timezone    string `json:"timezone"`
	WindowStart string `json:"windowStart"` // HH:MM
	WindowEnd   string `json:"windowEnd"`   // HH:MM; before WindowStart means the window crosses midnight
	Weekdays    []int  `json:"weekdays"`    // ISO 1=Mon..7=Sun
	// LeadLocalTime additionally requires the window to be open in each lead's
	// own zone (from a timezone column, else from the number).
	LeadLocalTime bool `json:"leadLocalTime,omitempty"`
}

// RetryPolicy says which dispositions are dialed again, how often and when.
type RetryPolicy struct {
	MaxAttempts    int      `json:"maxAttempts"`
	BackoffMinutes int      `json:"backoffMinutes"`
	RetryOn        []string `json:"retryOn"`
}

// CampaignSpec is the body of the spec's create call (camelCase JSON), plus
// dialdeck's optional defaultRegion for lead import.
type CampaignSpec struct {
	Name             string      `json:"name"`
	AgentID          string      `json:"agentId"`
	PhoneNumberID    string      `json:"phoneNumberId"`
	MaxConcurrent    int         `json:"maxConcurrent"`
	Schedule         Schedule    `json:"schedule"`
	RetryPolicy      RetryPolicy `json:"retryPolicy"`
	WebhookURL       string      `json:"webhookUrl,omitempty"`
	ScheduledStartAt *time.Time  `json:"scheduledStartAt,omitempty"`
	DefaultRegion    string      `json:"defaultRegion,omitempty"`
	WebhookSecret    string      `json:"webhookSecret,omitempty"`
}

// Campaign is a stored campaign: its spec plus state and import metadata.
type Campaign struct {
	ID uint64 `json:"id"`
	CampaignSpec
	State     CampaignState `json:"state"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
	StartedAt *time.Time    `json:"startedAt,omitempty"`
	EndedAt   *time.Time    `json:"endedAt,omitempty"`
	// EndReason says why the campaign reached completed or failed.
	EndReason string `json:"endReason,omitempty"`
	// Columns is the CSV header of the imported leads (stored once); lead
	// values are positional against it. PhoneColumn is its index.
	Columns     []string `json:"columns,omitempty"`
	PhoneColumn int      `json:"phoneColumn"`
	// TZGroups maps a lead's time-zone group (index) to its zone names.
	// Group 0 is the campaign's own zone.
	TZGroups [][]string `json:"tzGroups,omitempty"`
	// PhoneIndexDirty is set while an import has written leads whose phone
	// index entries are not written yet; the index is rebuilt on open.
	PhoneIndexDirty bool `json:"phoneIndexDirty,omitempty"`
}

// Lead is one row of a campaign's lead list.
type Lead struct {
	ID          uint64
	Phone       string // E.164
	Status      LeadStatus
	Disposition Disposition
	Attempts    int
	NextAt      time.Time // due time while pending/retry; zero otherwise
	LastAt      time.Time // start of the latest attempt
	TZGroup     uint16
	Values      []string // positional against Campaign.Columns (phone column included, as imported)
}

// Analysis is the agent's post-call analysis (the end_call arguments).
type Analysis struct {
	LeadQualified bool              `json:"leadQualified"`
	NextAction    string            `json:"nextAction,omitempty"`
	Summary       string            `json:"summary,omitempty"`
	CallbackAt    *time.Time        `json:"callbackAt,omitempty"`
	Fields        map[string]string `json:"fields,omitempty"`
}

// TranscriptLine is one utterance of a call.
type TranscriptLine struct {
	At      time.Duration `json:"at"`      // since answer
	Speaker string        `json:"speaker"` // "agent" or "callee"
	Text    string        `json:"text"`
}

// Attempt is the record of one call placed to a lead.
type Attempt struct {
	CampaignID       uint64           `json:"campaignId"`
	LeadID           uint64           `json:"leadId"`
	Phone            string           `json:"phone"`
	Attempt          int              `json:"attempt"`
	StartedAt        time.Time        `json:"startedAt"`
	EndedAt          time.Time        `json:"endedAt"`
	Outcome          Outcome          `json:"outcome"`
	Disposition      Disposition      `json:"disposition"`
	Reason           string           `json:"reason,omitempty"`
	SIPCode          int              `json:"sipCode,omitempty"`
	Permanent        bool             `json:"permanent,omitempty"` // the failure rules out any retry (number does not exist)
	RingSeconds      float64          `json:"ringSeconds"`
	TalkSeconds      float64          `json:"talkSeconds"`
	PacketsToAgent   uint64           `json:"packetsToAgent"`
	PacketsFromAgent uint64           `json:"packetsFromAgent"`
	Transcript       []TranscriptLine `json:"transcript,omitempty"`
	Analysis         *Analysis        `json:"analysis,omitempty"`
	NextAttemptAt    *time.Time       `json:"nextAttemptAt,omitempty"`
}

// DNCEntry is one number on the do-not-call list.
type DNCEntry struct {
	Phone   string    `json:"phone"`
	AddedAt time.Time `json:"addedAt"`
	Source  string    `json:"source"`
}

// InflightRecord is the write-ahead record of a call being placed: written in
// the claim transaction, before the call is placed.
type InflightRecord struct {
	LeadID    uint64
	Attempt   int
	StartedAt time.Time
}

// Counters are a campaign's per-status and per-disposition lead counts,
// maintained in the same transaction as every lead change.
type Counters struct {
	Leads         uint64
	Attempts      uint64
	ByStatus      map[LeadStatus]uint64
	ByDisposition map[Disposition]uint64
}

// Errors callers can test for.
var (
	ErrNotFound = errors.New("not found")
	ErrRefused  = errors.New("refused")
	ErrInvalid  = errors.New("invalid")
)
