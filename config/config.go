package config

import (
	"log/slog"
	"time"
)

// DefaultFileName is the config file looked for in the working directory
// when no path is given.
const DefaultFileName = "dialdeck.toml"

// BuiltinSource is Config.Source for the built-in default.
const BuiltinSource = "built-in default (example.toml)"

// Defaults for keys the file leaves out.
const (
	DefaultTickInterval       = 15 * time.Second
	DefaultDatabase           = "dialdeck.db"
	DefaultLogFile            = "dialdeck.log"
	DefaultLogLevel           = slog.LevelInfo
	DefaultMaxConcurrentCalls = 10
	DefaultMaxCallDuration    = 10 * time.Minute
	// DefaultConnectionLost is how long a webrtc agent's connection may go
	// without a packet before its call is ended: long enough to ride out a
	// Wi-Fi roam or a brief routing blip on the way to a remote agent.
	DefaultConnectionLost = 15 * time.Second
	// DefaultSimConnectionLost is the same for the built-in sim agent, on
	// loopback, where a 5 s silence means it is gone.
	DefaultSimConnectionLost = 5 * time.Second
	// MinConnectionLost and MaxConnectionLost bound connection_lost_timeout:
	// below 3 s a scheduling hiccup ends calls; above 2 m a vanished agent
	// keeps a callee on a dead line.
	MinConnectionLost     = 3 * time.Second
	MaxConnectionLost     = 2 * time.Minute
	DefaultCallsPerSecond = 1.0
	DefaultWebhookTimeout = 10 * time.Second
)

// Config is a loaded and validated configuration.
type Config struct {
	// Source is the file the config came from, or BuiltinSource.
	Source string
	// Builtin is true when no file was used.
	Builtin bool

	Engine    Engine
	Org       Org
	Agents    []Agent
	Numbers   []Number
	Carriers  Carriers
	Webhooks  Webhooks
	DNC       DNC
	Campaigns []Campaign
}

// Engine holds process-wide settings. Relative paths are resolved against the
// config file's directory (kept relative, i.e. to the working directory, for
// the built-in default), so one file always uses the same database.
type Engine struct {
	TickInterval time.Duration
	Database     string
	LogFile      string
	LogLevel     slog.Level
}

// Org is the capacity shared by all campaigns.
type Org struct {
	MaxConcurrentCalls int
}

// AgentKind selects how an agent is reached.
type AgentKind string

const (
	// AgentSim is dialdeck's built-in simulated agent (no network, no token).
	AgentSim AgentKind = "sim"
	// AgentWebRTC is a remote agent reached by a WHIP-style SDP POST to URL.
	AgentWebRTC AgentKind = "webrtc"
)

// Agent is an AI voice agent that campaigns refer to by ID.
type Agent struct {
	ID   string
	Kind AgentKind
	// URL is the signaling endpoint (kind webrtc only).
	URL string
	// Token is sent as "Authorization: Bearer <token>"; may be empty.
	Token Secret
	// Prompt is the system prompt; {{name}} is replaced with the lead's
	// column of that name.
	Prompt         string
	WelcomeMessage string
	Voice          string
	// Analysis takes dispositions from the agent's end_call analysis rather
	// than from the call status.
	Analysis        bool
	MaxCallDuration time.Duration
	// ConnectionLost ends a call once the agent's connection has carried no
	// packet (audio, RTCP or ICE check) for this long.
	ConnectionLost time.Duration
	// Sim holds the simulated agent's behaviour (kind sim only).
	Sim SimAgent
}

// SimAgent holds the relative weights of the simulated agent's outcomes.
type SimAgent struct {
	Qualified     float64
	NotInterested float64
	Callback      float64
	DoNotCall     float64
	// Seed makes runs repeatable; 0 means a fresh random seed each run.
	Seed int64
}

// Default simulated agent odds, used when [agents.sim] lists none.
var defaultSimAgent = SimAgent{Qualified: 3, NotInterested: 4, Callback: 2, DoNotCall: 1}

// Number is a caller number that campaigns refer to by ID.
type Number struct {
	ID string
	// CallerID is the E.164 number presented to callees.
	CallerID string
	// Carrier places the calls: "sim" or "sip:<id>" of a [[carriers.sip]].
	Carrier        string
	CallsPerSecond float64
}

// CarrierSim is the name numbers use for the simulated carrier.
const CarrierSim = "sim"

// CarrierSIPPrefix starts the carrier name of a SIP trunk: "sip:<id>".
const CarrierSIPPrefix = "sip:"

// Carriers configures the phone legs.
type Carriers struct {
	Sim SimCarrier
	// SIP lists the SIP trunks, [[carriers.sip]], in file order.
	SIP []SIPTrunk
}

// SimCarrier configures the simulated callees. Odds are relative weights.
type SimCarrier struct {
	// Seed makes runs repeatable; 0 means a fresh random seed each run.
	Seed      int64
	Answered  float64
	Busy      float64
	NoAnswer  float64
	Voicemail float64
	Failed    float64

	RingMin           time.Duration
	RingMax           time.Duration
	TalkMin           time.Duration
	TalkMax           time.Duration
	VoicemailDuration time.Duration
}

// Default simulated carrier, used for keys [carriers.sim] leaves out (odds
// only when it lists none of them).
var defaultSimCarrier = SimCarrier{
	Answered: 60, Busy: 10, NoAnswer: 15, Voicemail: 10, Failed: 5,
	RingMin: 2 * time.Second, RingMax: 8 * time.Second,
	TalkMin: 5 * time.Second, TalkMax: 30 * time.Second,
	VoicemailDuration: 8 * time.Second,
}

// Webhooks configures outgoing webhook delivery.
type Webhooks struct {
	// Secret signs each delivery; empty means deliveries are unsigned.
	Secret  Secret
	Timeout time.Duration
}

// DNC configures the do-not-call list.
type DNC struct {
	// File is a list imported at start (empty: none), already resolved
	// against the config file's directory.
	File string
}

// Campaign is a draft campaign created at start unless one with the same
// name exists. Fields mirror the spec's create body; the engine does the
// deeper checks.
type Campaign struct {
	Name             string
	AgentID          string
	PhoneNumberID    string
	MaxConcurrent    int
	DefaultRegion    string
	WebhookURL       string
	ScheduledStartAt *time.Time
	Schedule         Schedule
	RetryPolicy      RetryPolicy
}

// Schedule is when a campaign may dial, in its own time zone.
type Schedule struct {
	Timezone    string
	WindowStart string // HH:MM
	WindowEnd   string // HH:MM
	Weekdays    []int  // ISO 1=Mon..7=Sun
	// LeadLocalTime also requires the window to be open in each lead's zone.
	LeadLocalTime bool
}

// RetryPolicy says which outcomes are dialed again, and when.
type RetryPolicy struct {
	MaxAttempts    int
	BackoffMinutes int
	RetryOn        []string
}

// Agent returns the agent with the given id.
func (c *Config) Agent(id string) (Agent, bool) {
	for _, a := range c.Agents {
		if a.ID == id {
			return a, true
		}
	}
	return Agent{}, false
}

// SIPTrunk returns the SIP trunk with the given id (without "sip:").
func (c *Config) SIPTrunk(id string) (SIPTrunk, bool) {
	for _, t := range c.Carriers.SIP {
		if t.ID == id {
			return t, true
		}
	}
	return SIPTrunk{}, false
}

// Number returns the number with the given id.
func (c *Config) Number(id string) (Number, bool) {
	for _, n := range c.Numbers {
		if n.ID == id {
			return n, true
		}
	}
	return Number{}, false
}
