package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/dialdeck/dialdeck/config"
	"github.com/dialdeck/dialdeck/media"
)

// newCarriers builds the phone legs: the sim carrier, and one SIP carrier
// per [[carriers.sip]] that some number uses (an unused trunk opens no
// sockets). Calls go to their number's carrier through a router. The
// returned func closes the SIP carriers.
func newCarriers(cfg *config.Config, sim *media.SimPlacer, log *slog.Logger) (media.Carrier, func(), error) {
	carriers := map[string]media.Carrier{config.CarrierSim: media.NewSimCarrier(sim)}
	routes := map[string]string{}
	var trunks []*media.SIPCarrier
	closeAll := func() {
		for _, c := range trunks {
			if err := c.Close(); err != nil {
				log.Warn("closing a SIP trunk", "err", err)
			}
		}
	}
	for _, n := range cfg.Numbers {
		routes[n.ID] = n.Carrier
		if _, built := carriers[n.Carrier]; built {
			continue
		}
		t, ok := trunkOf(cfg, n.Carrier)
		if !ok {
			closeAll()
			return nil, nil, fmt.Errorf("number %q: unknown carrier %q", n.ID, n.Carrier)
		}
		c, err := media.NewSIPCarrier(sipTrunkConfig(t), log.With("trunk", t.ID))
		if err != nil {
			closeAll()
			return nil, nil, err // it names the trunk
		}
		trunks = append(trunks, c)
		carriers[n.Carrier] = c
	}
	router, err := media.NewCarrierRouter(routes, carriers)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return router, closeAll, nil
}

// trunkOf finds the trunk a "sip:<id>" carrier name refers to.
func trunkOf(cfg *config.Config, carrier string) (config.SIPTrunk, bool) {
	id, isSIP := strings.CutPrefix(carrier, config.CarrierSIPPrefix)
	if !isSIP {
		return config.SIPTrunk{}, false
	}
	return cfg.SIPTrunk(id)
}

// sipTrunkConfig is a trunk as the SIP carrier takes it. The password is
// revealed here only to be handed to the carrier's digest authentication.
func sipTrunkConfig(t config.SIPTrunk) media.SIPTrunkConfig {
	return media.SIPTrunkConfig{
		ID: t.ID, Trunk: t.Trunk, Transport: t.Transport, Username: t.Username, Password: t.Password.Reveal(),
		FromDomain: t.FromDomain, OutboundProxy: t.OutboundProxy, BindAddr: t.BindAddress, PublicAddr: t.PublicAddress,
		RTPPortMin: t.RTPPortMin, RTPPortMax: t.RTPPortMax, RingTimeout: t.RingTimeout,
		MaxConcurrent: t.MaxConcurrent, CallsPerSecond: t.CallsPerSecond, NoMediaTimeout: t.NoMediaTimeout,
	}
}
