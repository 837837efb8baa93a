package config

// The structs below mirror the TOML document exactly. They are decoded
// strictly (unknown keys are errors), then ${VAR}-expanded and converted into
// Config by validate.go. Optional keys with non-zero defaults are pointers so
// an explicit zero is told apart from an absent key.

// durationText is a duration written as a Go duration string ("15s", "2m").
// Its own type lets type errors say "expected a duration string".
type durationText string

type fileConfig struct {
	Engine    fileEngine     `toml:"engine"`
	Org       fileOrg        `toml:"org"`
	Agents    []fileAgent    `toml:"agents"`
	Numbers   []fileNumber   `toml:"numbers"`
	Carriers  fileCarriers   `toml:"carriers"`
	Webhooks  fileWebhooks   `toml:"webhooks"`
	DNC       fileDNC        `toml:"dnc"`
	Campaigns []fileCampaign `toml:"campaigns"`
}

type fileEngine struct {
	TickInterval durationText `toml:"tick_interval"`
	Database     string       `toml:"database"`
	LogFile      string       `toml:"log_file"`
	LogLevel     string       `toml:"log_level"`
}

type fileOrg struct {
	MaxConcurrentCalls *int `toml:"max_concurrent_calls"`
}

type fileAgent struct {
	ID              string        `toml:"id"`
	Kind            string        `toml:"kind"`
	URL             string        `toml:"url"`
	Token           string        `toml:"token"`
	Prompt          string        `toml:"prompt"`
	WelcomeMessage  string        `toml:"welcome_message"`
	Voice           string        `toml:"voice"`
	Analysis        *bool         `toml:"analysis"`
	MaxCallDuration durationText  `toml:"max_call_duration"`
	ConnectionLost  durationText  `toml:"connection_lost_timeout"`
	Sim             *fileSimAgent `toml:"sim"`
}

type fileSimAgent struct {
	Qualified     *float64 `toml:"qualified"`
	NotInterested *float64 `toml:"not_interested"`
	Callback      *float64 `toml:"callback"`
	DoNotCall     *float64 `toml:"do_not_call"`
	Seed          int64    `toml:"seed"`
}

type fileNumber struct {
	ID             string   `toml:"id"`
	CallerID       string   `toml:"caller_id"`
	Carrier        string   `toml:"carrier"`
	CallsPerSecond *float64 `toml:"calls_per_second"`
}

type fileCarriers struct {
	Sim *fileSimCarrier `toml:"sim"`
	SIP []fileSIPTrunk  `toml:"sip"`
}

type fileSIPTrunk struct {
	ID             string       `toml:"id"`
	Trunk          string       `toml:"trunk"`
	Transport      string       `toml:"transport"`
	Username       string       `toml:"username"`
	Password       string       `toml:"password"`
	FromDomain     string       `toml:"from_domain"`
	OutboundProxy  string       `toml:"outbound_proxy"`
	BindAddress    string       `toml:"bind_address"`
	PublicAddress  string       `toml:"public_address"`
	RTPPortMin     *int         `toml:"rtp_port_min"`
	RTPPortMax     *int         `toml:"rtp_port_max"`
	RingTimeout    durationText `toml:"ring_timeout"`
	MaxConcurrent  *int         `toml:"max_concurrent"`
	CallsPerSecond *float64     `toml:"calls_per_second"`
	NoMediaTimeout durationText `toml:"no_media_timeout"`
}

type fileSimCarrier struct {
	Seed              int64        `toml:"seed"`
	Answered          *float64     `toml:"answered"`
	Busy              *float64     `toml:"busy"`
	NoAnswer          *float64     `toml:"no_answer"`
	Voicemail         *float64     `toml:"voicemail"`
	Failed            *float64     `toml:"failed"`
	RingMin           durationText `toml:"ring_min"`
	RingMax           durationText `toml:"ring_max"`
	TalkMin           durationText `toml:"talk_min"`
	TalkMax           durationText `toml:"talk_max"`
	VoicemailDuration durationText `toml:"voicemail_duration"`
}

type fileWebhooks struct {
	Secret  string       `toml:"secret"`
	Timeout durationText `toml:"timeout"`
}

type fileDNC struct {
	File string `toml:"file"`
}

// fileCampaign uses the spec's camelCase names so its JSON body can be pasted.
type fileCampaign struct {
	Name          string `toml:"name"`
	AgentID       string `toml:"agentId"`
	PhoneNumberID string `toml:"phoneNumberId"`
	MaxConcurrent int    `toml:"maxConcurrent"`
	DefaultRegion string `toml:"defaultRegion"`
	WebhookURL    string `toml:"webhookUrl"`
	// ScheduledStartAt is an RFC 3339 string or a TOML datetime.
	ScheduledStartAt any             `toml:"scheduledStartAt"`
	Schedule         fileSchedule    `toml:"schedule"`
	RetryPolicy      fileRetryPolicy `toml:"retryPolicy"`
}

type fileSchedule struct {
	Timezone      string `toml:"timezone"`
	WindowStart   string `toml:"windowStart"`
	WindowEnd     string `toml:"windowEnd"`
	Weekdays      []int  `toml:"weekdays"`
	LeadLocalTime bool   `toml:"leadLocalTime"`
}

type fileRetryPolicy struct {
	MaxAttempts    int      `toml:"maxAttempts"`
	BackoffMinutes int      `toml:"backoffMinutes"`
	RetryOn        []string `toml:"retryOn"`
}
