package config

import "time"

// Defaults for [[carriers.sip]] keys the file leaves out.
const (
	DefaultSIPTransport      = "udp"
	DefaultRTPPortMin        = 10000
	DefaultRTPPortMax        = 20000
	DefaultSIPRingTimeout    = 30 * time.Second
	DefaultSIPNoMediaTimeout = 10 * time.Second
)

// SIPTrunk is one [[carriers.sip]]: a SIP trunk numbers use with
// carrier = "sip:<id>".
type SIPTrunk struct {
	ID string
	// Trunk is where INVITEs go, "host:port" (an IPv6 host in brackets).
	Trunk string
	// Transport is "udp", "tcp" or "tls".
	Transport string
	// Username and Password answer digest challenges (401/407); both empty
	// for a trunk that authenticates by source IP.
	Username string
	Password Secret
	// FromDomain is the host part of the From URI; empty: the trunk's host.
	FromDomain string
	// OutboundProxy, "host:port", receives every request instead of Trunk
	// (which stays the Request-URI host); empty: none.
	OutboundProxy string
	// BindAddress is the local IP (optionally "ip:port") SIP and RTP use;
	// empty: the system picks.
	BindAddress string
	// PublicAddress is the IP put in Contact and SDP when the box is behind
	// NAT; empty: the local address.
	PublicAddress string
	// RTPPortMin..RTPPortMax is the UDP range for media; each call takes an
	// even port for RTP and the odd one above it for RTCP.
	RTPPortMin, RTPPortMax int
	// RingTimeout ends an unanswered call (CANCEL, no_answer).
	RingTimeout time.Duration
	// MaxConcurrent is the most calls in progress on the trunk at once; 0:
	// no limit of its own (the org and campaign limits still apply).
	MaxConcurrent int
	// CallsPerSecond is the most new calls per second on the trunk; 0: no
	// limit of its own (each number's calls_per_second still applies).
	CallsPerSecond float64
	// NoMediaTimeout ends an answered call whose callee sends no RTP for
	// this long (failed, "no media").
	NoMediaTimeout time.Duration
}

// Carrier is the name numbers use for this trunk: "sip:<id>".
func (t SIPTrunk) Carrier() string { return CarrierSIPPrefix + t.ID }

// RTPEvenPorts is how many calls the RTP range can carry at once: the even
// ports p in the range whose p+1 (RTCP) is in it too.
func (t SIPTrunk) RTPEvenPorts() int { return evenPorts(t.RTPPortMin, t.RTPPortMax) }

func evenPorts(lo, hi int) int {
	if lo%2 != 0 {
		lo++
	}
	if hi-1 < lo {
		return 0
	}
	return (hi-1-lo)/2 + 1
}
