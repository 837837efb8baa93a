package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/dialdeck/dialdeck/engine"
)

// Lowest RTP port accepted: ports below 1024 need root and belong to
// well-known services.
const minRTPPort = 1024

var (
	// trunkID is what may follow "sip:" in a number's carrier.
	trunkID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// hostname is a DNS name: dot-separated labels of letters, digits and
	// inner hyphens.
	// envRef finds a ${NAME} reference.
	envRef   = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	hostname = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$`)
)

// sipTrunks checks every [[carriers.sip]]. orgMax sizes the RTP range of a
// trunk without a max_concurrent of its own.
func (v *validator) sipTrunks(fts []fileSIPTrunk, orgMax int) []SIPTrunk {
	seen := map[string]int{}
	out := make([]SIPTrunk, 0, len(fts))
	for i, ft := range fts {
		p := fmt.Sprintf("carriers.sip[%d]", i)
		t := SIPTrunk{
			ID:             ft.ID,
			Trunk:          ft.Trunk,
			Transport:      orDefault(ft.Transport, DefaultSIPTransport),
			Username:       ft.Username,
			Password:       NewSecret(ft.Password),
			FromDomain:     ft.FromDomain,
			OutboundProxy:  ft.OutboundProxy,
			BindAddress:    ft.BindAddress,
			PublicAddress:  ft.PublicAddress,
			RTPPortMin:     DefaultRTPPortMin,
			RTPPortMax:     DefaultRTPPortMax,
			RingTimeout:    v.duration(p+".ring_timeout", ft.RingTimeout, DefaultSIPRingTimeout),
			NoMediaTimeout: v.duration(p+".no_media_timeout", ft.NoMediaTimeout, DefaultSIPNoMediaTimeout),
		}
		v.id(p, ft.ID, "carriers.sip", seen, i)
		if ft.ID != "" && !trunkID.MatchString(ft.ID) {
			v.errorf(p+".id", "%q may hold only letters, digits, '_', '.' and '-' (numbers name it as \"sip:<id>\")", ft.ID)
		}
		switch t.Transport {
		case "udp", "tcp", "tls":
		default:
			v.errorf(p+".transport", "%q is not one of udp, tcp, tls", ft.Transport)
		}
		if ft.Trunk == "" {
			v.errorf(p+".trunk", "is required: the trunk's \"host:port\", e.g. \"sip.example.com:%d\"", defaultSIPPort(t.Transport))
		} else {
			v.hostPort(p+".trunk", ft.Trunk, t.Transport)
		}
		if ft.OutboundProxy != "" {
			v.hostPort(p+".outbound_proxy", ft.OutboundProxy, t.Transport)
		}
		if ft.FromDomain != "" && !validHost(ft.FromDomain) {
			v.errorf(p+".from_domain", "%q is not a domain name or IP address (no scheme, user or port)", ft.FromDomain)
		}
		if ft.Password != "" && ft.Username == "" {
			v.errorf(p+".password", "is set but username is not: digest authentication needs both")
		}
		if v.written(p+".password") && ft.Password == "" && ft.Username != "" {
			raw := ""
			if i < len(v.rawSIPPasswords) {
				raw = v.rawSIPPasswords[i]
			}
			if m := envRef.FindStringSubmatch(raw); m != nil {
				v.errorf(p+".password", "is empty: is %s set? (leave password out for a trunk that does not authenticate)", m[1])
			} else {
				v.errorf(p+".password", "is empty (leave password out for a trunk that does not authenticate)")
			}
		}
		if strings.ContainsAny(ft.Username, " \t\r\n@:") {
			v.errorf(p+".username", "%q must not contain spaces, '@' or ':' (give the user part only)", ft.Username)
		}
		v.bindAddress(p+".bind_address", ft.BindAddress)
		if ft.PublicAddress != "" {
			ip, err := netip.ParseAddr(ft.PublicAddress)
			switch {
			case err != nil:
				v.errorf(p+".public_address", "%q is not an IP address (the address callees' media reaches, e.g. \"203.0.113.7\")", ft.PublicAddress)
			case ip.IsUnspecified():
				v.errorf(p+".public_address", "%q cannot be reached: give the box's public IP", ft.PublicAddress)
			}
		}
		v.rtpPorts(p, ft, &t, orgMax)
		if t.RingTimeout <= 0 {
			v.errorf(p+".ring_timeout", "must be positive")
		}
		if t.NoMediaTimeout <= 0 {
			v.errorf(p+".no_media_timeout", "must be positive")
		}
		if ft.MaxConcurrent != nil {
			t.MaxConcurrent = *ft.MaxConcurrent
			if t.MaxConcurrent < 1 {
				v.errorf(p+".max_concurrent", "must be at least 1, got %d (leave it out for no limit of its own)", t.MaxConcurrent)
			}
		}
		if ft.CallsPerSecond != nil {
			t.CallsPerSecond = *ft.CallsPerSecond
			if t.CallsPerSecond <= 0 {
				v.errorf(p+".calls_per_second", "must be greater than 0, got %g (leave it out for no limit of its own)", t.CallsPerSecond)
			}
		}
		out = append(out, t)
	}
	return out
}

func defaultSIPPort(transport string) int {
	if transport == "tls" {
		return 5061
	}
	return 5060
}

// hostPort checks a "host:port" address.
func (v *validator) hostPort(p, raw, transport string) {
	if strings.Contains(raw, "://") || strings.HasPrefix(strings.ToLower(raw), "sip:") || strings.HasPrefix(strings.ToLower(raw), "sips:") {
		v.errorf(p, "%q: write the address without a scheme, as \"host:port\"", raw)
		return
	}
	host, port, err := net.SplitHostPort(raw)
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			v.errorf(p, "%q has no port: write \"%s\"", raw, net.JoinHostPort(strings.Trim(raw, "[]"), strconv.Itoa(defaultSIPPort(transport))))
			return
		}
		v.errorf(p, "%q is not \"host:port\" (e.g. \"sip.example.com:5060\" or \"[2001:db8::1]:5060\")", raw)
		return
	}
	if !validHost(host) {
		v.errorf(p, "%q: %q is not a host name or IP address", raw, host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.errorf(p, "%q: port %q is not a number from 1 to 65535", raw, port)
	}
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return len(h) <= 253 && hostname.MatchString(h)
}

// bindAddress checks a local IP, optionally with a port ("ip:port").
func (v *validator) bindAddress(p, raw string) {
	if raw == "" {
		return
	}
	ipText := raw
	if host, port, err := net.SplitHostPort(raw); err == nil {
		ipText = host
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			v.errorf(p, "%q: port %q is not a number from 0 to 65535", raw, port)
			return
		}
	}
	ip, err := netip.ParseAddr(strings.Trim(ipText, "[]"))
	if err != nil {
		if strings.EqualFold(ipText, "localhost") {
			v.errorf(p, "%q is a host name: write the IP \"127.0.0.1\" (or \"::1\")", raw)
			return
		}
		v.errorf(p, "%q is not an IP address of this machine (e.g. \"0.0.0.0\", \"192.0.2.10\" or \"192.0.2.10:5060\")", raw)
		return
	}
	if ip.IsUnspecified() || ip.IsLoopback() {
		// Any loopback address binds (127.0.0.0/8 on Linux); ::1 without
		// IPv6 fails at start with its own message.
		return
	}
	local, err := localIPs()
	if err != nil {
		return // cannot tell: the trunk's start reports a bad address
	}
	for _, a := range local {
		if a == ip.WithZone("").Unmap() {
			return
		}
	}
	names := make([]string, len(local))
	for i, a := range local {
		names[i] = a.String()
	}
	v.errorf(p, "%q is not an IP address of this machine (its addresses: %s); use one of them, or \"0.0.0.0\" for all",
		raw, strings.Join(names, ", "))
}

// written tells whether the key at path is in the file itself.
func (v *validator) written(path string) bool {
	if v.pos == nil {
		return false
	}
	_, ok := v.pos.at[path]
	return ok
}

// localIPs lists the machine's interface addresses.
var localIPs = func() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}

// rtpPorts checks the RTP range: inside 1024..65535, min below max, and
// room for an even RTP port (plus RTCP) per call the trunk may carry.
func (v *validator) rtpPorts(p string, ft fileSIPTrunk, t *SIPTrunk, orgMax int) {
	ok := true
	for _, k := range []struct {
		key string
		in  *int
		out *int
	}{{"rtp_port_min", ft.RTPPortMin, &t.RTPPortMin}, {"rtp_port_max", ft.RTPPortMax, &t.RTPPortMax}} {
		if k.in == nil {
			continue
		}
		*k.out = *k.in
		if *k.in < minRTPPort || *k.in > 65535 {
			v.errorf(p+"."+k.key, "%d is outside %d..65535", *k.in, minRTPPort)
			ok = false
		}
	}
	if !ok {
		return
	}
	if t.RTPPortMin >= t.RTPPortMax {
		key := p + ".rtp_port_max"
		if ft.RTPPortMax == nil {
			key = p + ".rtp_port_min"
		}
		v.errorf(key, "rtp_port_min (%d) must be below rtp_port_max (%d)", t.RTPPortMin, t.RTPPortMax)
		return
	}
	need, why := orgMax, fmt.Sprintf("org.max_concurrent_calls = %d", orgMax)
	if ft.MaxConcurrent != nil && *ft.MaxConcurrent > 0 {
		need, why = *ft.MaxConcurrent, fmt.Sprintf("max_concurrent = %d", *ft.MaxConcurrent)
	}
	if have := t.RTPEvenPorts(); have < need {
		v.errorf(p+".rtp_port_min", "ports %d-%d hold %d call(s) (one even RTP port and the odd RTCP port above it each) but %s; widen the range",
			t.RTPPortMin, t.RTPPortMax, have, why)
	}
}

// carrier checks a number's carrier: "sim" or "sip:<id>" of a trunk.
func (v *validator) carrier(p, name string, trunks []SIPTrunk) {
	known := []string{CarrierSim}
	for _, t := range trunks {
		if t.ID != "" {
			known = append(known, t.Carrier())
		}
	}
	if name == CarrierSim {
		return
	}
	for _, k := range known[1:] {
		if name == k {
			return
		}
	}
	list := ids(known, func(s string) string { return s })
	if name == "" {
		v.errorf(p, "is required (known carriers: %s)", list)
		return
	}
	hint := ""
	best, bestDist := "", 3 // more than 2 edits is not a typo
	for _, k := range known {
		if d := engine.EditDistance(strings.ToLower(name), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	switch {
	case best != "":
		hint = fmt.Sprintf("; did you mean %q?", best)
	case strings.HasPrefix(name, CarrierSIPPrefix) && len(known) == 1:
		hint = fmt.Sprintf("; add a [[carriers.sip]] with id = %q", strings.TrimPrefix(name, CarrierSIPPrefix))
	}
	v.errorf(p, "unknown carrier %q (known carriers: %s)%s", name, list, hint)
}
