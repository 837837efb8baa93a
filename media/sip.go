package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// SIPTrunkConfig is one [[carriers.sip]] trunk. A number uses it with
// carrier = "sip:<ID>".
type SIPTrunkConfig struct {
	ID        string // carrier id, "sip:<id>" in numbers
	Trunk     string // host:port of the provider
	Transport string // "udp" (default), "tcp", "tls"
	Username  string // digest auth; empty = no auth
	Password  string // never log it
	// FromDomain is the domain in From (default: the trunk host).
	FromDomain string
	// OutboundProxy, when set, is the host:port requests are sent to
	// instead of Trunk (a preloaded Route).
	OutboundProxy string
	// BindAddr is the local IP (or IP:port) for SIP and RTP; default
	// 0.0.0.0 with an ephemeral SIP port.
	BindAddr string
	// PublicAddr is the IP written in the SDP c= line and in Contact when
	// the box is behind NAT; default the bound (or routed) local IP.
	PublicAddr string
	// RTPPortMin/Max bound the RTP ports (even ports); default 10000-20000.
	RTPPortMin, RTPPortMax int
	// RingTimeout: no final response by then -> CANCEL -> no_answer
	// (default 30s).
	RingTimeout time.Duration
	// MaxConcurrent is calls at once on this trunk; 0 = unlimited.
	MaxConcurrent int
	// CallsPerSecond is new INVITEs per second on this trunk; 0 = unlimited.
	CallsPerSecond float64
	// NoMediaTimeout: no RTP from the callee for this long after answer
	// ends the call as failed "no media" (default 10s).
	NoMediaTimeout time.Duration
}

func (c SIPTrunkConfig) withDefaults() SIPTrunkConfig {
	c.Transport = strings.ToLower(strings.TrimSpace(c.Transport))
	if c.Transport == "" {
		c.Transport = "udp"
	}
	if c.RTPPortMin == 0 && c.RTPPortMax == 0 {
		c.RTPPortMin, c.RTPPortMax = 10000, 20000
	}
	if c.RingTimeout <= 0 {
		c.RingTimeout = 30 * time.Second
	}
	if c.NoMediaTimeout <= 0 {
		c.NoMediaTimeout = 10 * time.Second
	}
	return c
}

// SIPCarrier places phone legs through one SIP trunk with sipgo: an
// outbound INVITE per call, symmetric RTP from a port in the range, and a
// listener on the same socket for the callee's BYE.
type SIPCarrier struct {
	// Trace, when set before the first Dial, receives one human-readable
	// line per SIP step ("-> INVITE sip:...", "<- 180 Ringing", "-> ACK").
	// `dialdeck sip test` prints them.
	Trace func(line string)

	cfg       SIPTrunkConfig
	log       *slog.Logger
	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	client    *sipgo.Client
	contact   sip.ContactHeader // ours, in INVITE and in-dialog requests
	trunk     sip.Uri           // Request-URI host:port
	fromHost  string
	mediaIP   net.IP // bound IP for RTP sockets
	advertIP  string // IP in SDP and Contact
	transport string // "UDP", "TCP", "TLS"
	ports     *rtpPorts
	closeLn   func() error
	serveDone chan struct{}

	slots    chan struct{} // MaxConcurrent semaphore (nil: unlimited)
	paceMu   sync.Mutex
	nextSlot time.Time

	mu      sync.Mutex
	calls   map[string]*sipCall // by Call-ID, for the callee's BYE
	closed  bool
	closing chan struct{}  // closed by Close: in-flight dials give up
	wg      sync.WaitGroup // calls not fully hung up
	dialWG  sync.WaitGroup // INVITE transactions and their CANCEL/BYE clean-up
	trMu    sync.Mutex

	sent   sentInvites  // recent INVITEs: which stray 2xx are ours
	strays atomic.Int32 // stray 2xx hang-ups running
}

// NewSIPCarrier opens the trunk's SIP socket (UDP or TCP listener, so the
// callee's BYE reaches us) and returns a carrier ready to Dial.
func NewSIPCarrier(cfg SIPTrunkConfig, log *slog.Logger) (*SIPCarrier, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	c := &SIPCarrier{cfg: cfg, log: log.With("carrier", "sip:"+cfg.ID), calls: map[string]*sipCall{}, serveDone: make(chan struct{}),
		closing: make(chan struct{})}
	switch cfg.Transport {
	case "udp", "tcp", "tls":
		c.transport = strings.ToUpper(cfg.Transport)
	default:
		return nil, fmt.Errorf("sip trunk %q: transport %q: want udp, tcp or tls", cfg.ID, cfg.Transport)
	}
	host, port, err := splitHostPortDefault(cfg.Trunk, defaultSIPPort(cfg.Transport))
	if err != nil {
		return nil, fmt.Errorf("sip trunk %q: trunk address: %w", cfg.ID, err)
	}
	c.trunk = sip.Uri{Scheme: "sip", Host: host, Port: port}
	c.fromHost = cfg.FromDomain
	if c.fromHost == "" {
		c.fromHost = host
	}
	if cfg.RTPPortMin <= 0 || cfg.RTPPortMax > 65535 || cfg.RTPPortMax < cfg.RTPPortMin+1 {
		return nil, fmt.Errorf("sip trunk %q: RTP port range %d-%d: want 1-65535 with at least two ports", cfg.ID, cfg.RTPPortMin, cfg.RTPPortMax)
	}
	if cfg.MaxConcurrent > 0 {
		c.slots = make(chan struct{}, cfg.MaxConcurrent)
	}

	bindHost, bindPort := "0.0.0.0", 0
	if cfg.BindAddr != "" {
		if h, p, err := net.SplitHostPort(cfg.BindAddr); err == nil {
			bindHost = h
			if bindPort, err = strconv.Atoi(p); err != nil {
				return nil, fmt.Errorf("sip trunk %q: bind address %q: bad port", cfg.ID, cfg.BindAddr)
			}
		} else {
			bindHost = cfg.BindAddr
		}
	}
	bindIP := net.ParseIP(bindHost)
	if bindIP == nil {
		return nil, fmt.Errorf("sip trunk %q: bind address %q is not an IP", cfg.ID, cfg.BindAddr)
	}
	c.mediaIP = bindIP
	localIP := bindIP
	if bindIP.IsUnspecified() {
		// The IP the kernel would use towards the trunk (no packet is sent).
		target := net.JoinHostPort(host, strconv.Itoa(port))
		if cfg.OutboundProxy != "" {
			target = cfg.OutboundProxy
		}
		conn, err := net.Dial("udp", target)
		if err != nil {
			return nil, fmt.Errorf("sip trunk %q: finding the local address towards %s: %w", cfg.ID, target, err)
		}
		localIP = conn.LocalAddr().(*net.UDPAddr).IP
		conn.Close()
	}
	c.advertIP = localIP.String()
	if cfg.PublicAddr != "" {
		pub := cfg.PublicAddr
		if h, _, err := net.SplitHostPort(pub); err == nil {
			pub = h
		}
		if net.ParseIP(pub) == nil {
			return nil, fmt.Errorf("sip trunk %q: public address %q is not an IP", cfg.ID, cfg.PublicAddr)
		}
		c.advertIP = pub
	}
	c.ports = newRTPPorts(c.mediaIP, cfg.RTPPortMin, cfg.RTPPortMax)

	// sipgo logs whole messages at debug level (unmasked numbers, digest
	// responses): pass it warnings and errors only, and even those carry raw
	// messages on parse failures: sipgoLogFilter drops and masks them.
	sipLog := slog.New(sipgoLogFilter{h: c.log.Handler(), min: slog.LevelWarn}).With("component", "sipgo")
	routeSipgoDefaultLogger(c.log.Handler())
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("dialdeck"), sipgo.WithUserAgentHostname(c.fromHost),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			// A 2xx whose INVITE transaction is gone is a callee on the line.
			sip.WithTransactionLayerUnhandledResponseHandler(c.onStrayResponse)))
	if err != nil {
		return nil, fmt.Errorf("sip trunk %q: %w", cfg.ID, err)
	}
	c.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip trunk %q: %w", cfg.ID, err)
	}
	c.srv = srv
	srv.OnBye(c.onBye)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnInvite(c.onInvite)
	srv.OnAck(c.onAck) // ACK of a re-INVITE's 200

	fail := func(err error) (*SIPCarrier, error) {
		ua.Close()
		return nil, fmt.Errorf("sip trunk %q: %w", cfg.ID, err)
	}
	laddr := net.JoinHostPort(bindHost, strconv.Itoa(bindPort))
	var listenAddr string
	clientOpts := []sipgo.ClientOption{sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(c.advertIP)}
	switch cfg.Transport {
	case "udp":
		pc, err := net.ListenPacket("udp", laddr)
		if err != nil {
			return fail(bindError(laddr, err))
		}
		listenAddr = pc.LocalAddr().String()
		c.closeLn = pc.Close
		go func() { defer close(c.serveDone); _ = srv.ServeUDP(pc) }()
		// Requests leave from the listening socket, so responses and the
		// callee's BYE come back to it.
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(listenAddr))
		if err := waitConn(ua, "udp", listenAddr); err != nil {
			pc.Close()
			<-c.serveDone
			return fail(err)
		}
	case "tcp":
		ln, err := net.Listen("tcp", laddr)
		if err != nil {
			return fail(bindError(laddr, err))
		}
		listenAddr = ln.Addr().String()
		c.closeLn = ln.Close
		go func() { defer close(c.serveDone); _ = srv.ServeTCP(ln) }()
	case "tls":
		// Outbound TLS only: the provider sends in-dialog requests back on
		// the connection dialdeck opened.
		close(c.serveDone)
		c.closeLn = func() error { return nil }
		listenAddr = net.JoinHostPort(c.advertIP, "0")
	}
	_, lp, _ := net.SplitHostPort(listenAddr)
	listenPort, _ := strconv.Atoi(lp)
	if listenPort != 0 {
		clientOpts = append(clientOpts, sipgo.WithClientPort(listenPort))
	}
	client, err := sipgo.NewClient(ua, clientOpts...)
	if err != nil {
		c.closeLn()
		<-c.serveDone
		return fail(err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "dialdeck", Host: c.advertIP, Port: listenPort}}
	if cfg.Transport != "udp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", cfg.Transport)
	}
	c.client, c.contact = client, contact
	c.log.Info("SIP trunk ready", "address", cfg.Trunk, "transport", cfg.Transport, "listen", listenAddr,
		"advertise", c.advertIP, "rtp", fmt.Sprintf("%d-%d", cfg.RTPPortMin, cfg.RTPPortMax))
	return c, nil
}

// bindError explains a SIP socket that cannot be opened. A fixed port in
// use is most often another dialdeck on the same trunk.
func bindError(laddr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("SIP socket %s: %w (another dialdeck, the TUI or `run`, may be using this trunk; "+
			"leave the port out of bind_address to pick a free one)", laddr, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("SIP socket %s: %w (bind_address must be an IP of this machine, e.g. 127.0.0.1 or 0.0.0.0)", laddr, err)
	}
	return fmt.Errorf("SIP socket %s: %w", laddr, err)
}

// waitConn waits until sipgo registered the listening socket (ServeUDP runs
// in its own goroutine), so the first INVITE leaves from it.
func waitConn(ua *sipgo.UserAgent, network, addr string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		if conn, err := ua.TransportLayer().GetConnection(network, addr); err == nil && conn != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("SIP socket %s did not start", addr)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func defaultSIPPort(transport string) int {
	if transport == "tls" {
		return 5061
	}
	return 5060
}

func splitHostPortDefault(addr string, def int) (string, int, error) {
	if addr == "" {
		return "", 0, errors.New("empty")
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		// No port given.
		return strings.Trim(addr, "[]"), def, nil
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", addr)
	}
	return h, port, nil
}

// closeHangups bounds the live calls Close hangs up at once.
const closeHangups = 32

// Close ends every live call (BYE, up to closeHangups at once) and closes
// the SIP socket.
func (c *SIPCarrier) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closing)
	live := make([]*sipCall, 0, len(c.calls))
	for _, call := range c.calls {
		if call.active {
			live = append(live, call)
		}
	}
	c.mu.Unlock()
	// In parallel: each Hangup may wait byeWait for a BYE's answer, and a
	// trunk that stopped answering would otherwise cost a second per call.
	sem := make(chan struct{}, closeHangups)
	var hwg sync.WaitGroup
	for _, call := range live {
		sem <- struct{}{}
		hwg.Add(1)
		go func() {
			defer func() { <-sem; hwg.Done() }()
			call.Hangup()
		}()
	}
	hwg.Wait()
	// Ringing dials CANCEL and wait for their final response; ones that
	// got no response at all end their transaction.
	c.dialWG.Wait()
	c.wg.Wait()
	err := c.closeLn()
	c.srv.Close()
	c.client.Close()
	if uerr := c.ua.Close(); err == nil {
		err = uerr
	}
	<-c.serveDone
	return err
}

func (c *SIPCarrier) trace(format string, args ...any) {
	if c.Trace == nil {
		return
	}
	c.trMu.Lock()
	defer c.trMu.Unlock()
	c.Trace(fmt.Sprintf(format, args...))
}

// acquire takes a concurrency slot and a calls-per-second slot, honouring
// ctx. release must be called once the call has ended.
func (c *SIPCarrier) acquire(ctx context.Context) (release func(), err error) {
	release = func() {}
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
			var once sync.Once
			release = func() { once.Do(func() { <-c.slots }) }
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if cps := c.cfg.CallsPerSecond; cps > 0 {
		interval := time.Duration(float64(time.Second) / cps)
		c.paceMu.Lock()
		now := time.Now()
		at := c.nextSlot
		if at.Before(now) {
			at = now
		}
		c.nextSlot = at.Add(interval)
		c.paceMu.Unlock()
		if d := time.Until(at); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				release()
				return nil, ctx.Err()
			}
		}
	}
	return release, nil
}

// addPending makes a call being dialled known by its Call-ID.
func (c *SIPCarrier) addPending(call *sipCall) {
	c.mu.Lock()
	c.calls[call.callID] = call
	c.mu.Unlock()
}

// dropPending forgets a call that was never answered.
func (c *SIPCarrier) dropPending(call *sipCall) {
	c.mu.Lock()
	if cur := c.calls[call.callID]; cur == call && !call.active {
		delete(c.calls, call.callID)
	}
	c.mu.Unlock()
}

// register turns an answered call active: Close hangs it up and waits for
// it. false once the carrier is closed (the call's dialog is set anyway so
// the caller can BYE it).
func (c *SIPCarrier) register(call *sipCall, dlg *sipDialog) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	call.dlg = dlg
	if c.closed {
		return false
	}
	c.calls[call.callID] = call
	call.active = true
	c.wg.Add(1)
	return true
}

func (c *SIPCarrier) unregister(call *sipCall) {
	c.mu.Lock()
	active := call.active
	call.active = false
	if c.calls[call.callID] == call {
		delete(c.calls, call.callID)
	}
	c.mu.Unlock()
	if active {
		c.wg.Done()
	}
}

// onBye handles the callee hanging up.
func (c *SIPCarrier) onBye(req *sip.Request, tx sip.ServerTransaction) {
	id := ""
	if h := req.CallID(); h != nil {
		id = h.Value()
	}
	c.mu.Lock()
	call := c.calls[id]
	c.mu.Unlock()
	if call == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	c.trace("<- BYE")
	if err := tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil)); err != nil {
		c.log.Debug("answering BYE", "err", err)
	}
	c.trace("-> 200 OK (BYE)")
	call.remoteHangup()
}

// Dial places one call: see SIPCarrier. It returns once the callee
// answered (a PhoneCall) or the call failed (a *DialError).
func (c *SIPCarrier) Dial(ctx context.Context, req engine.CallRequest, onState func(state string)) (PhoneCall, error) {
	return c.DialProgress(ctx, req, func(state, _ string) {
		if onState != nil {
			onState(state)
		}
	})
}
