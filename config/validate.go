package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
)

// validator converts the decoded file into a Config, applying defaults and
// collecting every problem (not just the first) with its position.
type validator struct {
	file    string
	pos     *positions
	baseDir string
	errs    []*Error
	// rawSIPPasswords are the trunks' password values before ${VAR}
	// expansion.
	rawSIPPasswords []string
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, newError(v.file, v.pos, path, fmt.Sprintf(format, args...)))
}

func (v *validator) build(fc *fileConfig) *Config {
	cfg := &Config{}
	v.engine(fc.Engine, &cfg.Engine)
	cfg.Org.MaxConcurrentCalls = DefaultMaxConcurrentCalls
	if p := fc.Org.MaxConcurrentCalls; p != nil {
		cfg.Org.MaxConcurrentCalls = *p
		if *p < 1 {
			v.errorf("org.max_concurrent_calls", "must be at least 1, got %d", *p)
		}
	}
	cfg.Carriers.Sim = v.simCarrier(fc.Carriers.Sim)
	cfg.Agents = v.agents(fc.Agents)
	cfg.Carriers.SIP = v.sipTrunks(fc.Carriers.SIP, cfg.Org.MaxConcurrentCalls)
	cfg.Numbers = v.numbers(fc.Numbers, cfg.Carriers.SIP)
	cfg.Webhooks = Webhooks{
		Secret:  NewSecret(fc.Webhooks.Secret),
		Timeout: v.duration("webhooks.timeout", fc.Webhooks.Timeout, DefaultWebhookTimeout),
	}
	if cfg.Webhooks.Timeout <= 0 {
		v.errorf("webhooks.timeout", "must be positive")
	}
	cfg.DNC.File = v.path(fc.DNC.File)
	cfg.Campaigns = v.campaigns(fc.Campaigns, cfg)
	return cfg
}

func (v *validator) engine(fe fileEngine, e *Engine) {
	e.TickInterval = v.duration("engine.tick_interval", fe.TickInterval, DefaultTickInterval)
	if e.TickInterval <= 0 {
		v.errorf("engine.tick_interval", "must be positive")
	}
	e.Database = v.path(orDefault(fe.Database, DefaultDatabase))
	e.LogFile = v.path(orDefault(fe.LogFile, DefaultLogFile))
	e.LogLevel = DefaultLogLevel
	switch fe.LogLevel {
	case "":
	case "debug":
		e.LogLevel = slog.LevelDebug
	case "info":
		e.LogLevel = slog.LevelInfo
	case "warn":
		e.LogLevel = slog.LevelWarn
	case "error":
		e.LogLevel = slog.LevelError
	default:
		v.errorf("engine.log_level", "%q is not one of debug, info, warn, error", fe.LogLevel)
	}
}

func (v *validator) agents(fas []fileAgent) []Agent {
	if len(fas) == 0 {
		v.errorf("agents", "at least one [[agents]] is required")
	}
	seen := map[string]int{}
	out := make([]Agent, 0, len(fas))
	for i, fa := range fas {
		p := fmt.Sprintf("agents[%d]", i)
		a := Agent{
			ID:              fa.ID,
			Kind:            AgentKind(fa.Kind),
			URL:             fa.URL,
			Token:           NewSecret(fa.Token),
			Prompt:          fa.Prompt,
			WelcomeMessage:  fa.WelcomeMessage,
			Voice:           fa.Voice,
			Analysis:        fa.Analysis == nil || *fa.Analysis,
			MaxCallDuration: v.duration(p+".max_call_duration", fa.MaxCallDuration, DefaultMaxCallDuration),
		}
		v.id(p, fa.ID, "agents", seen, i)
		if a.MaxCallDuration <= 0 {
			v.errorf(p+".max_call_duration", "must be positive")
		}
		lostDefault := DefaultConnectionLost
		if a.Kind == AgentSim {
			lostDefault = DefaultSimConnectionLost
		}
		a.ConnectionLost = v.duration(p+".connection_lost_timeout", fa.ConnectionLost, lostDefault)
		if fa.ConnectionLost != "" && (a.ConnectionLost < MinConnectionLost || a.ConnectionLost > MaxConnectionLost) {
			v.errorf(p+".connection_lost_timeout", "%v is out of range: use %v to %v", a.ConnectionLost, MinConnectionLost, MaxConnectionLost)
		}
		switch a.Kind {
		case AgentSim:
			if fa.URL != "" {
				v.errorf(p+".url", "is only used by kind \"webrtc\" agents")
			}
			a.Sim = v.simAgent(p+".sim", fa.Sim)
		case AgentWebRTC:
			v.httpURL(p+".url", fa.URL, true)
			if fa.Sim != nil {
				v.errorf(p+".sim", "is only used by kind \"sim\" agents")
			}
		case "":
			v.errorf(p+".kind", `is required: "sim" or "webrtc"`)
		default:
			v.errorf(p+".kind", `%q is not "sim" or "webrtc"`, fa.Kind)
		}
		v.template(p+".prompt", fa.Prompt)
		v.template(p+".welcome_message", fa.WelcomeMessage)
		out = append(out, a)
	}
	return out
}

func (v *validator) simAgent(p string, fs *fileSimAgent) SimAgent {
	if fs == nil {
		return defaultSimAgent
	}
	s := SimAgent{Seed: fs.Seed}
	odds := []weight{
		{"qualified", fs.Qualified, &s.Qualified},
		{"not_interested", fs.NotInterested, &s.NotInterested},
		{"callback", fs.Callback, &s.Callback},
		{"do_not_call", fs.DoNotCall, &s.DoNotCall},
	}
	if !v.weights(p, odds) {
		s.Qualified, s.NotInterested, s.Callback, s.DoNotCall = defaultSimAgent.Qualified,
			defaultSimAgent.NotInterested, defaultSimAgent.Callback, defaultSimAgent.DoNotCall
	}
	return s
}

func (v *validator) simCarrier(fs *fileSimCarrier) SimCarrier {
	const p = "carriers.sim"
	if fs == nil {
		return defaultSimCarrier
	}
	d := defaultSimCarrier
	s := SimCarrier{
		Seed:              fs.Seed,
		RingMin:           v.duration(p+".ring_min", fs.RingMin, d.RingMin),
		RingMax:           v.duration(p+".ring_max", fs.RingMax, d.RingMax),
		TalkMin:           v.duration(p+".talk_min", fs.TalkMin, d.TalkMin),
		TalkMax:           v.duration(p+".talk_max", fs.TalkMax, d.TalkMax),
		VoicemailDuration: v.duration(p+".voicemail_duration", fs.VoicemailDuration, d.VoicemailDuration),
	}
	odds := []weight{
		{"answered", fs.Answered, &s.Answered},
		{"busy", fs.Busy, &s.Busy},
		{"no_answer", fs.NoAnswer, &s.NoAnswer},
		{"voicemail", fs.Voicemail, &s.Voicemail},
		{"failed", fs.Failed, &s.Failed},
	}
	if !v.weights(p, odds) {
		s.Answered, s.Busy, s.NoAnswer, s.Voicemail, s.Failed = d.Answered, d.Busy, d.NoAnswer, d.Voicemail, d.Failed
	}
	v.span(p, "ring", fs.RingMin, fs.RingMax, s.RingMin, s.RingMax)
	v.span(p, "talk", fs.TalkMin, fs.TalkMax, s.TalkMin, s.TalkMax)
	if s.VoicemailDuration <= 0 {
		v.errorf(p+".voicemail_duration", "must be positive")
	}
	return s
}

// weight is one outcome's odds in a sim table.
type weight struct {
	key string
	in  *float64
	out *float64
}

// weights copies the odds the file lists; those it leaves out count as 0, so
// the listed odds are the whole distribution. It reports whether any was
// listed (if none, the caller keeps its defaults).
func (v *validator) weights(table string, ws []weight) bool {
	listed, positive := false, false
	for _, w := range ws {
		if w.in == nil {
			continue
		}
		listed = true
		*w.out = *w.in
		if *w.in < 0 {
			v.errorf(table+"."+w.key, "must not be negative, got %g", *w.in)
		}
		if *w.in > 0 {
			positive = true
		}
	}
	if listed && !positive {
		names := make([]string, len(ws))
		for i, w := range ws {
			names[i] = w.key
		}
		v.errorf(table, "at least one of %s must be greater than 0", strings.Join(names, ", "))
	}
	return listed
}

// span checks a min/max duration pair.
func (v *validator) span(table, name string, rawMin, rawMax durationText, lo, hi time.Duration) {
	if lo <= 0 {
		v.errorf(table+"."+name+"_min", "must be positive")
	}
	if lo > hi {
		// Point at whichever key the file actually sets.
		key := table + "." + name + "_max"
		if rawMax == "" {
			key = table + "." + name + "_min"
		}
		v.errorf(key, "%s_min (%s) is greater than %s_max (%s)", name, lo, name, hi)
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func (v *validator) numbers(fns []fileNumber, trunks []SIPTrunk) []Number {
	if len(fns) == 0 {
		v.errorf("numbers", "at least one [[numbers]] is required")
	}
	seen := map[string]int{}
	out := make([]Number, 0, len(fns))
	for i, fn := range fns {
		p := fmt.Sprintf("numbers[%d]", i)
		n := Number{ID: fn.ID, CallerID: fn.CallerID, Carrier: fn.Carrier, CallsPerSecond: DefaultCallsPerSecond}
		v.id(p, fn.ID, "numbers", seen, i)
		switch {
		case fn.CallerID == "":
			v.errorf(p+".caller_id", "is required (E.164, e.g. \"+14155550100\")")
		case !e164.MatchString(fn.CallerID):
			v.errorf(p+".caller_id", "%q is not an E.164 number: a + then 8 to 15 digits, no spaces", fn.CallerID)
		}
		v.carrier(p+".carrier", fn.Carrier, trunks)
		if fn.CallsPerSecond != nil {
			n.CallsPerSecond = *fn.CallsPerSecond
			if n.CallsPerSecond <= 0 {
				v.errorf(p+".calls_per_second", "must be greater than 0, got %g", n.CallsPerSecond)
			}
		}
		out = append(out, n)
	}
	return out
}

func (v *validator) campaigns(fcs []fileCampaign, cfg *Config) []Campaign {
	seen := map[string]int{}
	out := make([]Campaign, 0, len(fcs))
	for i, fc := range fcs {
		p := fmt.Sprintf("campaigns[%d]", i)
		c := Campaign{
			Name:          fc.Name,
			AgentID:       fc.AgentID,
			PhoneNumberID: fc.PhoneNumberID,
			MaxConcurrent: fc.MaxConcurrent,
			DefaultRegion: fc.DefaultRegion,
			WebhookURL:    fc.WebhookURL,
			Schedule: Schedule{
				Timezone:      fc.Schedule.Timezone,
				WindowStart:   fc.Schedule.WindowStart,
				WindowEnd:     fc.Schedule.WindowEnd,
				Weekdays:      fc.Schedule.Weekdays,
				LeadLocalTime: fc.Schedule.LeadLocalTime,
			},
			RetryPolicy: RetryPolicy{
				MaxAttempts:    fc.RetryPolicy.MaxAttempts,
				BackoffMinutes: fc.RetryPolicy.BackoffMinutes,
				RetryOn:        fc.RetryPolicy.RetryOn,
			},
		}
		// Campaigns are matched by name when created at start.
		if fc.Name == "" {
			v.errorf(p+".name", "is required")
		} else if j, dup := seen[fc.Name]; dup {
			v.errorf(p+".name", "%q is already used by campaigns[%d]", fc.Name, j)
		} else {
			seen[fc.Name] = i
		}
		if fc.AgentID == "" {
			v.errorf(p+".agentId", "is required (agents: %s)", ids(cfg.Agents, func(a Agent) string { return a.ID }))
		} else if _, ok := cfg.Agent(fc.AgentID); !ok {
			v.errorf(p+".agentId", "unknown agent %q (agents: %s)", fc.AgentID, ids(cfg.Agents, func(a Agent) string { return a.ID }))
		}
		if fc.PhoneNumberID == "" {
			v.errorf(p+".phoneNumberId", "is required (numbers: %s)", ids(cfg.Numbers, func(n Number) string { return n.ID }))
		} else if _, ok := cfg.Number(fc.PhoneNumberID); !ok {
			v.errorf(p+".phoneNumberId", "unknown number %q (numbers: %s)", fc.PhoneNumberID, ids(cfg.Numbers, func(n Number) string { return n.ID }))
		}
		if fc.WebhookURL != "" {
			v.httpURL(p+".webhookUrl", fc.WebhookURL, false)
		}
		c.ScheduledStartAt = v.startAt(p+".scheduledStartAt", fc.ScheduledStartAt, fc.Schedule.Timezone)
		out = append(out, c)
	}
	return out
}

// startAt accepts an RFC 3339 string, a TOML offset datetime, or a TOML local
// datetime (read in the campaign's time zone).
func (v *validator) startAt(p string, raw any, tz string) *time.Time {
	switch t := raw.(type) {
	case nil:
		return nil
	case time.Time:
		return &t
	case string:
		if t == "" {
			return nil
		}
		parsed, err := time.Parse(time.RFC3339, t)
		if err != nil {
			v.errorf(p, "%q is not an RFC 3339 time such as \"2026-05-01T09:00:00+05:30\"", t)
			return nil
		}
		return &parsed
	case toml.LocalDateTime:
		loc, err := time.LoadLocation(tz)
		if tz == "" || err != nil {
			v.errorf(p, "a datetime without a UTC offset needs a valid schedule.timezone; add an offset such as +05:30")
			return nil
		}
		lt := t.AsTime(loc)
		return &lt
	default:
		v.errorf(p, "expected an RFC 3339 datetime, found %T", raw)
		return nil
	}
}

// id checks that a required id is present and unique within its list.
func (v *validator) id(p, id, list string, seen map[string]int, i int) {
	if id == "" {
		v.errorf(p+".id", "is required")
		return
	}
	if j, dup := seen[id]; dup {
		v.errorf(p+".id", "duplicate id %q (also %s[%d])", id, list, j)
		return
	}
	seen[id] = i
}

func (v *validator) httpURL(p, raw string, required bool) {
	if raw == "" {
		if required {
			v.errorf(p, "is required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(p, "%q is not an http or https URL", raw)
	}
}

// template checks that every "{{" is closed by "}}" around a variable name,
// so a typo fails here rather than being spoken to a callee.
func (v *validator) template(p, s string) {
	for rest := s; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			v.errorf(p, "\"{{\" without a closing \"}}\"")
			return
		}
		if name := strings.TrimSpace(rest[:j]); name == "" || strings.ContainsAny(name, "{} \t\n") {
			v.errorf(p, "{{%s}} is not a variable name", rest[:j])
		}
		rest = rest[j+2:]
	}
}

func (v *validator) duration(p string, raw durationText, def time.Duration) time.Duration {
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(string(raw))
	if err != nil {
		v.errorf(p, "%q is not a duration (use a number and unit such as \"15s\", \"2m\", \"1h30m\")", string(raw))
		return def
	}
	return d
}

// path resolves a relative path against the config file's directory.
func (v *validator) path(p string) string {
	if p == "" || v.baseDir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(v.baseDir, p)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ids[T any](xs []T, id func(T) string) string {
	if len(xs) == 0 {
		return "none defined"
	}
	names := make([]string, len(xs))
	for i, x := range xs {
		names[i] = fmt.Sprintf("%q", id(x))
	}
	return strings.Join(names, ", ")
}
