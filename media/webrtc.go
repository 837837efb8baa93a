package media

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// NetOptions shapes how a PeerConnection gathers candidates.
type NetOptions struct {
	// Loopback restricts ICE to 127.0.0.1 over UDP4 with mDNS off. Tests and
	// the built-in sim agent use it so nothing ever leaves the machine.
	Loopback bool
	// PortMin/PortMax, when set, bound the UDP ports used (a firewall-friendly
	// fixed range on a dialer box).
	PortMin, PortMax uint16

	// ice sets the ICE timeouts; zero means a loopback answerer's
	// (iceTimesFor(loopbackConnectionLost, ...)). DialAgent sets it from
	// the agent's connection-lost and connect timeouts.
	ice iceTimes

	// tune, in tests, adjusts the setting engine last (a fault agent's
	// freezable socket).
	tune func(*webrtc.SettingEngine)
}

// ICE liveness. pion's defaults (disconnected after 5 s without a packet
// from the peer, failed 25 s later) leave a call to an agent that froze or
// lost its network (no BYE, no DTLS close) open for half a minute. Each
// agent has a connection-lost timeout instead: the leg goes "disconnected"
// after a third of it (at most 5 s; logged), and the call ends once it has
// carried no packet (audio, RTCP or ICE check) for the whole timeout. A
// live peer answers the keepalive checks even when it sends no audio, so
// silence alone never trips it; a blip shorter than the timeout recovers.
const (
	// DefaultConnectionLostTimeout suits a remote agent: it rides out a
	// Wi-Fi roam or a routing blip of several seconds.
	DefaultConnectionLostTimeout = 15 * time.Second
	// loopbackConnectionLost is the built-in sim agent's side (and other
	// answerers on this machine): on loopback, 5 s of silence means gone.
	loopbackConnectionLost = 5 * time.Second
)

// iceTimes are the ICE timeouts handed to pion.
type iceTimes struct {
	disconnected, failed, keepalive time.Duration
}

// iceTimesFor gives a leg's ICE timeouts for a connection-lost timeout.
// pion also fails a connection still checking after disconnected+failed,
// so that sum is kept at least setup (the connect timeout): ICE setup to a
// remote agent is bounded by the connect timeout, not by this one.
func iceTimesFor(lost, setup time.Duration) iceTimes {
	disc := min((lost / 3).Round(time.Millisecond), 5*time.Second)
	return iceTimes{disconnected: disc, failed: max(lost, setup) - disc, keepalive: min(time.Second, disc/2)}
}

// pcmuCodec is the only codec dialdeck negotiates: G.711 µ-law passes from
// the phone leg to the agent untouched, so the bridge never transcodes.
var pcmuCodec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1},
	PayloadType:        0,
}

// newAPI builds a pion API with a PCMU-only media engine and only the RTCP
// reports interceptor: pion's defaults (NACK, TWCC, ...) cost ~70% more
// memory per call and buy nothing for 8 kHz voice.
func newAPI(o NetOptions) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(pcmuCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("register PCMU: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("RTCP reports interceptor: %w", err)
	}
	se := webrtc.SettingEngine{}
	if o.Loopback {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	it := o.ice
	if it.disconnected <= 0 {
		it = iceTimesFor(loopbackConnectionLost, loopbackConnectionLost)
	}
	se.SetICETimeouts(it.disconnected, it.failed, it.keepalive)
	if o.PortMin != 0 && o.PortMax >= o.PortMin {
		if err := se.SetEphemeralUDPPortRange(o.PortMin, o.PortMax); err != nil {
			return nil, fmt.Errorf("UDP port range: %w", err)
		}
	}
	if o.tune != nil {
		o.tune(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}
