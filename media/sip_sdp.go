package media

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Payload types dialdeck offers on a SIP trunk: PCMU first (relayed to the
// agent untouched), PCMA (converted per sample), telephone-event (DTMF,
// accepted but not relayed).
const (
	ptPCMU           = 0
	ptPCMA           = 8
	ptTelephoneEvent = 101
)

// sdpOffer is the INVITE's offer: one audio stream at ip:port.
func sdpOffer(ip string, port int, sessionID uint64) []byte {
	return sdpBody(ip, port, sessionID, sessionID, []uint8{ptPCMU, ptPCMA}, ptTelephoneEvent, dirSendRecv)
}

// SDP direction attributes (RFC 3264 §5.1, §6.1).
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

// answerDir is the direction that answers an offer's (RFC 3264 §6.1): an
// offer to send only is answered receive only, and the other way round.
func answerDir(offer string) string {
	switch offer {
	case dirSendOnly:
		return dirRecvOnly
	case dirRecvOnly:
		return dirSendOnly
	case dirInactive:
		return dirInactive
	}
	return dirSendRecv
}

// sends tells whether a side whose SDP says dir sends media.
func sends(dir string) bool { return dir != dirInactive && dir != dirRecvOnly }

// sdpBody is our SDP: one audio stream at ip:port with the audio payload
// types given (PCMU/PCMA), telephone-event at dtmf (-1: none) and the
// direction attribute dir.
func sdpBody(ip string, port int, sessionID, version uint64, audio []uint8, dtmf int, dir string) []byte {
	ipVer := "IP4"
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		ipVer = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=dialdeck %d %d IN %s %s\r\ns=dialdeck\r\nc=IN %s %s\r\nt=0 0\r\n", sessionID, version, ipVer, ip, ipVer, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", port)
	for _, pt := range audio {
		fmt.Fprintf(&b, " %d", pt)
	}
	if dtmf >= 0 {
		fmt.Fprintf(&b, " %d", dtmf)
	}
	b.WriteString("\r\n")
	for _, pt := range audio {
		name := "PCMU"
		if pt == ptPCMA {
			name = "PCMA"
		}
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", pt, name)
	}
	if dtmf >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmf, dtmf)
	}
	b.WriteString("a=ptime:20\r\na=" + dir + "\r\n")
	return []byte(b.String())
}

// sdpAnswer is what dialdeck needs from the callee's SDP.
type sdpAnswer struct {
	Addr *net.UDPAddr // where to send RTP
	PT   uint8        // the audio codec chosen: ptPCMU or ptPCMA
	DTMF int          // telephone-event payload type, -1 if none
	Dir  string       // direction (sendrecv, sendonly, recvonly, inactive): media level, else session level
}

var errNoAudio = errors.New("no usable audio stream in the SDP answer")

// parseSDPAnswer reads the first audio stream of an answer. The codec is
// the first of the m= line's formats that dialdeck offered (PCMU or PCMA,
// by static payload type or by rtpmap name).
func parseSDPAnswer(body []byte) (sdpAnswer, error) {
	ans := sdpAnswer{DTMF: -1}
	var sessionIP, mediaIP, sessionDir, mediaDir string
	var port = -1
	var fmts []string
	rtpmap := map[string]string{}
	inAudio, seenAudio := false, false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r ")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			if seenAudio {
				inAudio = false // only the first audio stream counts
				continue
			}
			f := strings.Fields(val)
			if len(f) < 4 || f[0] != "audio" {
				inAudio = false
				continue
			}
			p, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || p < 0 || p > 65535 {
				return ans, fmt.Errorf("bad audio port in %q", line)
			}
			port, fmts, inAudio, seenAudio = p, f[3:], true, true
		case 'c':
			f := strings.Fields(val)
			if len(f) < 3 {
				continue
			}
			ip := strings.SplitN(f[2], "/", 2)[0]
			if inAudio {
				mediaIP = ip
			} else if !seenAudio {
				sessionIP = ip
			}
		case 'a':
			switch val {
			case dirSendRecv, dirSendOnly, dirRecvOnly, dirInactive:
				if inAudio {
					mediaDir = val
				} else if !seenAudio {
					sessionDir = val
				}
				continue
			}
			if !inAudio || !strings.HasPrefix(val, "rtpmap:") {
				continue
			}
			f := strings.Fields(strings.TrimPrefix(val, "rtpmap:"))
			if len(f) == 2 {
				rtpmap[f[0]] = strings.ToUpper(f[1])
			}
		}
	}
	if !seenAudio {
		return ans, errNoAudio
	}
	if port == 0 {
		return ans, errors.New("the callee rejected the audio stream (port 0)")
	}
	ipStr := mediaIP
	if ipStr == "" {
		ipStr = sessionIP
	}
	ip := net.ParseIP(ipStr)
	if ip == nil {
		return ans, fmt.Errorf("no usable connection address (c=) in the SDP answer: %q", ipStr)
	}
	chosen := -1
	for _, f := range fmts {
		name := rtpmap[f]
		switch {
		case f == "0" && (name == "" || strings.HasPrefix(name, "PCMU/")), strings.HasPrefix(name, "PCMU/8000"):
			if chosen < 0 {
				chosen = ptPCMU
				if n, err := strconv.Atoi(f); err == nil {
					chosen = n
				}
				ans.PT = ptPCMU
			}
		case f == "8" && (name == "" || strings.HasPrefix(name, "PCMA/")), strings.HasPrefix(name, "PCMA/8000"):
			if chosen < 0 {
				chosen = ptPCMA
				if n, err := strconv.Atoi(f); err == nil {
					chosen = n
				}
				ans.PT = ptPCMA
			}
		case strings.HasPrefix(name, "TELEPHONE-EVENT/"):
			if n, err := strconv.Atoi(f); err == nil {
				ans.DTMF = n
			}
		}
	}
	if chosen < 0 {
		return ans, fmt.Errorf("the callee answered without PCMU or PCMA (formats %v)", fmts)
	}
	if chosen != ptPCMU && chosen != ptPCMA {
		// A dynamic number for a static codec: keep it simple and refuse.
		return ans, fmt.Errorf("the callee mapped %s to payload type %d; only the static 0/8 are supported", map[uint8]string{0: "PCMU", 8: "PCMA"}[ans.PT], chosen)
	}
	ans.Addr = &net.UDPAddr{IP: ip, Port: port}
	ans.Dir = dirSendRecv
	if mediaDir != "" {
		ans.Dir = mediaDir
	} else if sessionDir != "" {
		ans.Dir = sessionDir
	}
	return ans, nil
}
