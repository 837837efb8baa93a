package config

import (
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary describes the config for `dialdeck config check`. Secrets show
// only as "set" or "not set".
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config:    %s\n", c.Source)
	fmt.Fprintf(&b, "engine:    tick every %s, database %s, log %s (level %s)\n",
		c.Engine.TickInterval, c.Engine.Database, c.Engine.LogFile, strings.ToLower(c.Engine.LogLevel.String()))
	fmt.Fprintf(&b, "org:       up to %d concurrent calls\n", c.Org.MaxConcurrentCalls)

	fmt.Fprintf(&b, "agents:    %d\n", len(c.Agents))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, a := range c.Agents {
		where := "built-in"
		if a.Kind == AgentWebRTC {
			where = urlHost(a.URL)
		}
		analysis := "analysis on"
		if !a.Analysis {
			analysis = "analysis off"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\ttoken %s\t%s\tmax call %s\tconnection lost after %s\n",
			a.ID, a.Kind, where, setOrNot(a.Token), analysis, a.MaxCallDuration, a.ConnectionLost)
	}
	tw.Flush()

	fmt.Fprintf(&b, "numbers:   %d\n", len(c.Numbers))
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, n := range c.Numbers {
		fmt.Fprintf(tw, "  %s\t%s\tcarrier %s\t%g calls/s\n", n.ID, n.CallerID, n.Carrier, n.CallsPerSecond)
	}
	tw.Flush()

	s := c.Carriers.Sim
	seed := fmt.Sprint(s.Seed)
	if s.Seed == 0 {
		seed = "random"
	}
	fmt.Fprintf(&b, "carriers:  sim: answered %s, busy %s, no answer %s, voicemail %s, failed %s; ring %s-%s, talk %s-%s, voicemail %s; seed %s\n",
		pct(s.Answered, s), pct(s.Busy, s), pct(s.NoAnswer, s), pct(s.Voicemail, s), pct(s.Failed, s),
		s.RingMin, s.RingMax, s.TalkMin, s.TalkMax, s.VoicemailDuration, seed)
	if len(c.Carriers.SIP) > 0 {
		fmt.Fprintf(&b, "sip:       %d trunk(s)\n", len(c.Carriers.SIP))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, t := range c.Carriers.SIP {
			fmt.Fprintln(tw, "  "+strings.Join(c.trunkSummary(t), "\t"))
		}
		tw.Flush()
	}

	signing := "signed (secret set)"
	if !c.Webhooks.Secret.IsSet() {
		signing = "unsigned (secret not set)"
	}
	fmt.Fprintf(&b, "webhooks:  %s, timeout %s\n", signing, c.Webhooks.Timeout)
	dnc := "no file imported at start"
	if c.DNC.File != "" {
		dnc = "imports " + c.DNC.File + " at start"
	}
	fmt.Fprintf(&b, "dnc:       %s\n", dnc)

	fmt.Fprintf(&b, "campaigns: %d draft(s) created at start if missing\n", len(c.Campaigns))
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, cp := range c.Campaigns {
		sch := cp.Schedule
		line := fmt.Sprintf("  %q\tagent %s\tnumber %s\tmax %d\t%s %s-%s %s",
			cp.Name, cp.AgentID, cp.PhoneNumberID, cp.MaxConcurrent,
			orDefault(sch.Timezone, "(no timezone)"), sch.WindowStart, sch.WindowEnd, weekdays(sch.Weekdays))
		if r := cp.RetryPolicy; r.MaxAttempts > 0 {
			line += fmt.Sprintf("\t%d attempts, %s apart, on %s", r.MaxAttempts,
				time.Duration(r.BackoffMinutes)*time.Minute, strings.Join(r.RetryOn, ","))
		}
		if cp.ScheduledStartAt != nil {
			line += "\tstarts " + cp.ScheduledStartAt.Format(time.RFC3339)
		}
		if cp.WebhookURL != "" {
			line += "\twebhook " + urlHost(cp.WebhookURL)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	return b.String()
}

// trunkSummary is one trunk's columns. The password shows only as set.
func (c *Config) trunkSummary(t SIPTrunk) []string {
	auth := "no auth (IP-authenticated)"
	if t.Username != "" {
		auth = fmt.Sprintf("user %s, password %s", t.Username, setOrNot(t.Password))
	}
	limits := "no trunk limits"
	switch {
	case t.MaxConcurrent > 0 && t.CallsPerSecond > 0:
		limits = fmt.Sprintf("max %d calls, %g calls/s", t.MaxConcurrent, t.CallsPerSecond)
	case t.MaxConcurrent > 0:
		limits = fmt.Sprintf("max %d calls", t.MaxConcurrent)
	case t.CallsPerSecond > 0:
		limits = fmt.Sprintf("%g calls/s", t.CallsPerSecond)
	}
	cols := []string{t.ID, t.Transport, t.Trunk, auth,
		fmt.Sprintf("rtp %d-%d", t.RTPPortMin, t.RTPPortMax),
		fmt.Sprintf("ring %s, no media %s", t.RingTimeout, t.NoMediaTimeout), limits}
	var extra []string
	if t.FromDomain != "" {
		extra = append(extra, "from "+t.FromDomain)
	}
	if t.OutboundProxy != "" {
		extra = append(extra, "proxy "+t.OutboundProxy)
	}
	if t.BindAddress != "" {
		extra = append(extra, "bind "+t.BindAddress)
	}
	if t.PublicAddress != "" {
		extra = append(extra, "public "+t.PublicAddress)
	}
	var users []string
	for _, n := range c.Numbers {
		if n.Carrier == t.Carrier() {
			users = append(users, n.ID)
		}
	}
	if len(users) == 0 {
		extra = append(extra, "unused (no number has carrier \""+t.Carrier()+"\")")
	} else {
		extra = append(extra, "used by "+strings.Join(users, ","))
	}
	return append(cols, strings.Join(extra, ", "))
}

func setOrNot(s Secret) string {
	if s.IsSet() {
		return "set"
	}
	return "not set"
}

// urlHost shows only scheme and host: paths and queries may carry keys.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

func pct(w float64, s SimCarrier) string {
	total := s.Answered + s.Busy + s.NoAnswer + s.Voicemail + s.Failed
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*w/total)
}

var dayNames = [...]string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func weekdays(ds []int) string {
	if len(ds) == 0 {
		return "(no weekdays)"
	}
	names := make([]string, 0, len(ds))
	for _, d := range ds {
		if d >= 1 && d <= 7 {
			names = append(names, dayNames[d])
		} else {
			names = append(names, fmt.Sprint(d))
		}
	}
	return strings.Join(names, ",")
}
