package media

import (
	"strings"
	"testing"
)

func TestParseSDPAnswer(t *testing.T) {
	crlf := func(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }
	cases := []struct {
		name, sdp string
		addr      string
		pt        uint8
		dtmf      int
		err       string
	}{
		{name: "session c= and PCMU", sdp: "v=0\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n",
			addr: "192.0.2.10:4000", pt: ptPCMU, dtmf: 101},
		{name: "media c= wins, PCMA first", sdp: "v=0\nc=IN IP4 192.0.2.10\nm=audio 4002 RTP/AVP 8 0\nc=IN IP4 198.51.100.7\n",
			addr: "198.51.100.7:4002", pt: ptPCMA, dtmf: -1},
		{name: "video before audio is skipped", sdp: "v=0\nc=IN IP4 192.0.2.1\nm=video 5000 RTP/AVP 96\nm=audio 4004 RTP/AVP 0\n",
			addr: "192.0.2.1:4004", pt: ptPCMU, dtmf: -1},
		{name: "only G.729", sdp: "v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 18\n", err: "without PCMU or PCMA"},
		{name: "audio refused", sdp: "v=0\nc=IN IP4 192.0.2.1\nm=audio 0 RTP/AVP 0\n", err: "port 0"},
		{name: "no c=", sdp: "v=0\nm=audio 4000 RTP/AVP 0\n", err: "connection address"},
		{name: "no audio", sdp: "v=0\nc=IN IP4 192.0.2.1\n", err: "no usable audio"},
		{name: "PCMU on a dynamic type", sdp: "v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 97\na=rtpmap:97 PCMU/8000\n", err: "payload type 97"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseSDPAnswer(crlf(tc.sdp))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Addr.String() != tc.addr || a.PT != tc.pt || a.DTMF != tc.dtmf {
				t.Fatalf("got %v pt %d dtmf %d", a.Addr, a.PT, a.DTMF)
			}
		})
	}
	// The offer parses as an answer: PCMU first, DTMF 101.
	a, err := parseSDPAnswer(sdpOffer("127.0.0.1", 10000, 1))
	if err != nil || a.PT != ptPCMU || a.DTMF != ptTelephoneEvent || a.Addr.Port != 10000 {
		t.Fatalf("offer: %+v %v", a, err)
	}
}
