package engine_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// syncBuffer is a log sink safe for the engine's call goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUnloadableLeadZoneFailsClosed: a lead zone this host cannot load (the
// leads were imported where tzdata had it) holds that group's leads instead
// of dialing them on the campaign's window alone, also when it is one of
// several candidate zones; it is logged once, by name, however many ticks
// and groups meet it.
func TestUnloadableLeadZoneFailsClosed(t *testing.T) {
	var logs syncBuffer
	h := newHarness(t, 10, func(o *engine.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	spec := specBody("badzone")
	spec.Schedule = engine.Schedule{Timezone: "UTC", WindowStart: "00:00", WindowEnd: "00:00",
		Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, LeadLocalTime: true}
	spec.RetryPolicy = engine.RetryPolicy{MaxAttempts: 1}
	c, err := h.e.CreateCampaign(spec)
	if err != nil {
		t.Fatal(err)
	}
	csv := "phone,first_name,company\n+12125551234,NY,Acme\n+4930901820,Berlin,Acme\n+919876543210,Kolkata,Acme\n"
	if _, err := h.e.ImportLeads(fmt.Sprint(c.ID), strings.NewReader(csv), engine.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// As if this host's tzdata lacked the zones: New York's group gets a
	// zone that cannot load, Berlin's gets one as a second candidate.
	if err := h.store.Update(func(tx engine.Tx) error {
		cur, err := tx.Campaign(c.ID)
		if err != nil {
			return err
		}
		for g, zs := range cur.TZGroups {
			switch strings.Join(zs, ",") {
			case "America/New_York":
				cur.TZGroups[g] = []string{"Mars/Olympus"}
			case "Europe/Berlin":
				cur.TZGroups[g] = []string{"Europe/Berlin", "Mars/Olympus"}
			}
		}
		return tx.PutCampaign(cur)
	}); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	if err := h.e.Start(fmt.Sprint(c.ID)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		h.tick()
		h.settle()
		h.clock.Advance(3 * time.Hour)
	}
	calls := h.placer.placedCalls()
	if len(calls) != 1 || calls[0].req.Phone != "+919876543210" {
		var got []string
		for _, p := range calls {
			got = append(got, p.req.Phone)
		}
		t.Fatalf("placed %v; want only the Kolkata lead (the others' zones cannot be loaded)", got)
	}
	if n := strings.Count(logs.String(), "lead time zone cannot be loaded"); n != 1 {
		t.Fatalf("warned %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "zone=Mars/Olympus") {
		t.Fatalf("warning does not name the zone:\n%s", logs.String())
	}
	for _, lid := range []uint64{1, 2} {
		w, err := h.e.WhyNot(c.ID, lid)
		if err != nil {
			t.Fatal(err)
		}
		if w.Gate != engine.GateWindow || !strings.Contains(w.Message, "Mars/Olympus cannot be loaded") {
			t.Errorf("lead %d: why not %s %q", lid, w.Gate, w.Message)
		}
	}
	h.check(c)
}
