package media

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dialdeck/dialdeck/engine"
)

// CarrierRouter is a Carrier that hands each call to the carrier of the
// call's number (CallRequest.NumberID), so numbers on the sim carrier and on
// SIP trunks can be used side by side by one bridge.
type CarrierRouter struct {
	byNumber map[string]Carrier
	names    map[string]string // number id -> carrier name, for errors
}

// NewCarrierRouter routes number id -> carrier name (routes) -> Carrier
// (carriers). Every route must name a carrier in carriers.
func NewCarrierRouter(routes map[string]string, carriers map[string]Carrier) (*CarrierRouter, error) {
	r := &CarrierRouter{byNumber: make(map[string]Carrier, len(routes)), names: routes}
	for number, name := range routes {
		c, ok := carriers[name]
		if !ok || c == nil {
			known := make([]string, 0, len(carriers))
			for k := range carriers {
				known = append(known, fmt.Sprintf("%q", k))
			}
			sort.Strings(known)
			return nil, fmt.Errorf("number %q uses carrier %q, which is not set up (carriers: %s)", number, name, strings.Join(known, ", "))
		}
		r.byNumber[number] = c
	}
	return r, nil
}

// Dial places the phone leg on the number's carrier. A number without a
// route fails the call (it is not placed on some other carrier).
func (r *CarrierRouter) Dial(ctx context.Context, req engine.CallRequest, onState func(state string)) (PhoneCall, error) {
	return r.DialProgress(ctx, req, func(state, _ string) { onState(state) })
}

// DialProgress is Dial with each state's detail (a SIP carrier's "180
// Ringing"), passed through from carriers that report one.
func (r *CarrierRouter) DialProgress(ctx context.Context, req engine.CallRequest, onState func(state, detail string)) (PhoneCall, error) {
	c, ok := r.byNumber[req.NumberID]
	if !ok {
		return nil, &DialError{Outcome: engine.OutcomeFailed, Reason: fmt.Sprintf("number %q has no carrier", req.NumberID)}
	}
	if pc, ok := c.(ProgressCarrier); ok {
		return pc.DialProgress(ctx, req, onState)
	}
	return c.Dial(ctx, req, func(state string) { onState(state, "") })
}

var _ ProgressCarrier = (*CarrierRouter)(nil)

// Carrier names the carrier that places number's calls ("" if none).
func (r *CarrierRouter) Carrier(number string) string { return r.names[number] }
