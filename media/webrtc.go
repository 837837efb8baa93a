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

	// tune, in tests, adjusts the setting engine last (a fault agent's
	// freezable socket).
	tune func(*webrtc.SettingEngine)
}

// ICE liveness: a keepalive STUN check every second, "disconnected" after
// 2 s without a packet from the peer and "failed" 3 s later. pion's
// defaults (2 s, 5 s, then 25 s more) leave a call to an agent that froze
// or lost its network (no BYE, no DTLS close) open for half a minute; with
// these it ends after AgentSilenceLimit. A live peer answers the keepalive
// checks even when it sends no audio, so silence alone never trips it.
const (
	iceKeepalive    = time.Second
	iceDisconnected = 2 * time.Second
	iceFailed       = 3 * time.Second
	// AgentSilenceLimit is how long an agent leg may go without a single
	// packet (audio, RTCP or ICE check) before the call is ended.
	AgentSilenceLimit = iceDisconnected + iceFailed
)

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
	se.SetICETimeouts(iceDisconnected, iceFailed, iceKeepalive)
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
