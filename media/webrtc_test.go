package media

import (
	"testing"
	"time"
)

// TestICETimesFor: the leg counts as disconnected after a third of the
// connection-lost timeout (at most 5 s), fails at the whole of it, and ICE
// checking (disconnected+failed in pion) never gives up before the
// connect timeout, so a short lost timeout does not cut a slow remote ICE
// setup short.
func TestICETimesFor(t *testing.T) {
	for _, tc := range []struct {
		lost, setup         time.Duration
		disc, keep, checked time.Duration
	}{
		{15 * time.Second, DefaultConnectTimeout, 5 * time.Second, time.Second, 15 * time.Second},
		{3 * time.Second, DefaultConnectTimeout, time.Second, 500 * time.Millisecond, DefaultConnectTimeout},
		{5 * time.Second, 5 * time.Second, 1667 * time.Millisecond, 833500 * time.Microsecond, 5 * time.Second},
		{2 * time.Minute, DefaultConnectTimeout, 5 * time.Second, time.Second, 2 * time.Minute},
	} {
		it := iceTimesFor(tc.lost, tc.setup)
		if it.disconnected != tc.disc || it.keepalive != tc.keep || it.disconnected+it.failed != tc.checked {
			t.Errorf("iceTimesFor(%v, %v) = %+v, want disconnected %v, keepalive %v, checking limit %v",
				tc.lost, tc.setup, it, tc.disc, tc.keep, tc.checked)
		}
	}
}
