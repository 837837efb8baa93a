package media

import (
	"log/slog"
	"strings"
	"testing"
)

// FuzzAgentEvent: any data-channel message either parses into an event with
// a type or is rejected with a reason; handling it (and any end_call
// arguments it carries) never panics.
func FuzzAgentEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"session.created"}`, `not json`, `{"type":""}`, `{}`, `null`, `[]`,
		`{"type":"response.audio_transcript.done","transcript":"Hi Arjun"}`,
		`{"type":"conversation.item.input_audio_transcription.completed","transcript":" Hello? "}`,
		`{"type":"output_audio_buffer.started"}`, `{"type":"error","error":{"message":"boom"}}`,
		`{"type":"response.function_call_arguments.done","name":"end_call","call_id":"c1","arguments":"{\"lead_qualified\":true,\"next_action\":\"callback\",\"summary\":\"s\",\"callback_at\":\"2026-12-01T10:00:00Z\",\"fields\":{\"a\":[1,2]}}"}`,
		`{"type":"response.function_call_arguments.done","name":"end_call","arguments":"{"}`,
		`{"type":"response.function_call_arguments.done","name":"other","arguments":"{}"}`,
		`{"type":5}`, "\xff\xfe", `{"type":"x","transcript":7}`,
	} {
		f.Add([]byte(s))
	}
	log := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseAgentEvent(data)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("rejection without a reason for %q", data)
			}
		} else if e.Type == "" {
			t.Fatalf("accepted an event without a type: %q", data)
		}
		if err == nil && e.Arguments != "" {
			args, aerr := parseEndCallArgs(e.Arguments)
			if aerr != nil && strings.TrimSpace(aerr.Error()) == "" {
				t.Fatalf("end_call rejection without a reason for %q", e.Arguments)
			}
			an := analysisFrom(args, log)
			switch an.NextAction {
			case "", "qualified", "not_interested", "callback", "do_not_call", "voicemail":
			default:
				t.Fatalf("analysis kept unknown next_action %q", an.NextAction)
			}
		}
		// The leg's handler as wired to the data channel: no panic, and an
		// event it cannot use is counted, not acted on.
		a := &AgentLeg{cfg: AgentConfig{Log: log}.withDefaults(), ended: make(chan struct{}),
			ev: agentEvents{transcript: func(string, string) {}, speaking: func(bool) {}}}
		if err == nil && e.Type == "response.function_call_arguments.done" {
			return // answering needs a data channel; parsing was checked above
		}
		a.handle(data)
		if err != nil && a.Ignored() != 1 {
			t.Fatalf("rejected event not counted as ignored: %q", data)
		}
	})
}

// FuzzSDPAnswer: any answer body is either accepted as SDP with at least
// one media section or rejected with a reason; nothing panics.
func FuzzSDPAnswer(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte("not sdp at all"))
	f.Add([]byte(sampleAnswer))
	f.Add([]byte(strings.ReplaceAll(sampleAnswer, "\r\n", "\n")))
	f.Add([]byte(sampleAnswer[:strings.Index(sampleAnswer, "m=audio")]))
	f.Fuzz(func(t *testing.T, body []byte) {
		desc, err := parseAnswer(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "agent's SDP answer is unusable: ") || len(err.Error()) <= len("agent's SDP answer is unusable: ") {
				t.Fatalf("rejection without a reason: %q", err)
			}
			return
		}
		parsed, perr := desc.Unmarshal()
		if perr != nil || len(parsed.MediaDescriptions) == 0 {
			t.Fatalf("accepted an answer that does not parse to media: %v", perr)
		}
		if _, merr := parsed.Marshal(); merr != nil {
			t.Fatalf("accepted answer does not marshal: %v", merr)
		}
	})
}

// sampleAnswer is an answer of the shape the sim agent sends (audio PCMU and
// the events data channel).
const sampleAnswer = "v=0\r\n" +
	"o=- 4215775240449105457 1 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:active\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:abcd\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=sendrecv\r\n" +
	"a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n" +
	"a=end-of-candidates\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:active\r\n" +
	"a=mid:1\r\n" +
	"a=sctp-port:5000\r\n"
