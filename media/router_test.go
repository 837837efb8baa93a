package media

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/dialdeck/dialdeck/engine"
)

// recordingCarrier remembers the calls it was given and fails each one with
// its own name, so a test sees which carrier a call reached.
type recordingCarrier struct {
	name  string
	mu    sync.Mutex
	calls []string
}

func (c *recordingCarrier) Dial(_ context.Context, req engine.CallRequest, onState func(string)) (PhoneCall, error) {
	c.mu.Lock()
	c.calls = append(c.calls, req.Phone)
	c.mu.Unlock()
	onState("ringing via " + c.name)
	return nil, &DialError{Outcome: engine.OutcomeBusy, Reason: c.name}
}

func TestCarrierRouterPicksTheNumbersCarrier(t *testing.T) {
	sim, trunkA, trunkB := &recordingCarrier{name: "sim"}, &recordingCarrier{name: "sip:a"}, &recordingCarrier{name: "sip:b"}
	r, err := NewCarrierRouter(
		map[string]string{"n_sim": "sim", "n_a": "sip:a", "n_a2": "sip:a", "n_b": "sip:b"},
		map[string]Carrier{"sim": sim, "sip:a": trunkA, "sip:b": trunkB})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ number, phone, want string }{
		{"n_sim", "+14155550001", "sim"}, {"n_a", "+14155550002", "sip:a"}, {"n_a2", "+14155550003", "sip:a"}, {"n_b", "+14155550004", "sip:b"},
	} {
		var state string
		_, err := r.Dial(context.Background(), engine.CallRequest{NumberID: tc.number, Phone: tc.phone}, func(s string) { state = s })
		var de *DialError
		if !errors.As(err, &de) || de.Reason != tc.want || state != "ringing via "+tc.want {
			t.Errorf("number %s: err %v, state %q; want carrier %s", tc.number, err, state, tc.want)
		}
		if got := r.Carrier(tc.number); got != tc.want {
			t.Errorf("Carrier(%s) = %q", tc.number, got)
		}
	}
	if len(sim.calls) != 1 || len(trunkA.calls) != 2 || len(trunkB.calls) != 1 {
		t.Errorf("calls: sim %v, a %v, b %v", sim.calls, trunkA.calls, trunkB.calls)
	}
}

func TestCarrierRouterUnknownNumberFails(t *testing.T) {
	sim := &recordingCarrier{name: "sim"}
	r, err := NewCarrierRouter(map[string]string{"n1": "sim"}, map[string]Carrier{"sim": sim})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Dial(context.Background(), engine.CallRequest{NumberID: "gone"}, func(string) {})
	var de *DialError
	if !errors.As(err, &de) || de.Outcome != engine.OutcomeFailed || !strings.Contains(de.Reason, `number "gone" has no carrier`) {
		t.Errorf("err = %v", err)
	}
	if len(sim.calls) != 0 {
		t.Errorf("an unrouted call reached the sim carrier: %v", sim.calls)
	}
}

func TestCarrierRouterRejectsMissingCarrier(t *testing.T) {
	_, err := NewCarrierRouter(map[string]string{"n1": "sip:x"}, map[string]Carrier{"sim": &recordingCarrier{}})
	if err == nil || !strings.Contains(err.Error(), `number "n1" uses carrier "sip:x", which is not set up (carriers: "sim")`) {
		t.Errorf("err = %v", err)
	}
}

// detailCarrier reports a detail with its state, as a SIP carrier does.
type detailCarrier struct{ recordingCarrier }

func (c *detailCarrier) DialProgress(ctx context.Context, req engine.CallRequest, onState func(string, string)) (PhoneCall, error) {
	onState("ringing", "180 Ringing")
	return nil, &DialError{Outcome: engine.OutcomeBusy, Reason: "busy", SIPCode: 486}
}

func TestCarrierRouterPassesDetails(t *testing.T) {
	r, err := NewCarrierRouter(map[string]string{"n_sip": "sip:a", "n_sim": "sim"},
		map[string]Carrier{"sip:a": &detailCarrier{}, "sim": &recordingCarrier{name: "sim"}})
	if err != nil {
		t.Fatal(err)
	}
	var state, detail string
	_, err = r.DialProgress(context.Background(), engine.CallRequest{NumberID: "n_sip"}, func(s, d string) { state, detail = s, d })
	var de *DialError
	if !errors.As(err, &de) || de.SIPCode != 486 || state != "ringing" || detail != "180 Ringing" {
		t.Errorf("sip: err %v state %q detail %q", err, state, detail)
	}
	// A carrier without details reports an empty one.
	_, _ = r.DialProgress(context.Background(), engine.CallRequest{NumberID: "n_sim"}, func(s, d string) { state, detail = s, d })
	if state != "ringing via sim" || detail != "" {
		t.Errorf("sim: state %q detail %q", state, detail)
	}
	// Plain Dial still gets the state.
	_, _ = r.Dial(context.Background(), engine.CallRequest{NumberID: "n_sip"}, func(s string) { state = s })
	if state != "ringing" {
		t.Errorf("Dial state %q", state)
	}
}
