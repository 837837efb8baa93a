package media

// PLACEHOLDER, deleted when branch sip-media (the real SIP carrier) is
// merged: the agreed API of the SIP carrier, so the config, router and CLI
// wiring build before it lands. Every Dial fails.

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// SIPTrunkConfig configures one SIP trunk carrier.
type SIPTrunkConfig struct {
	ID, Trunk, Transport, Username, Password, FromDomain, OutboundProxy, BindAddr, PublicAddr string
	RTPPortMin, RTPPortMax                                                                    int
	RingTimeout                                                                               time.Duration
	MaxConcurrent                                                                             int
	CallsPerSecond                                                                            float64
	NoMediaTimeout                                                                            time.Duration
}

// SIPCarrier places phone legs through a SIP trunk.
type SIPCarrier struct {
	// Trace receives one line per SIP step.
	Trace func(line string)
}

var errNoSIP = errors.New("the SIP carrier is not in this build yet (branch sip-media)")

// NewSIPCarrier fails: the carrier is not merged yet.
func NewSIPCarrier(cfg SIPTrunkConfig, log *slog.Logger) (*SIPCarrier, error) { return nil, errNoSIP }

// Dial fails.
func (c *SIPCarrier) Dial(ctx context.Context, req engine.CallRequest, onState func(state string)) (PhoneCall, error) {
	return nil, errNoSIP
}

// Close does nothing.
func (c *SIPCarrier) Close() error { return nil }
