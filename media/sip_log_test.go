package media

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestSIPSipgoDefaultLoggerFiltered(t *testing.T) {
	// sipgo logs some things through its package default logger rather than
	// the ones dialdeck passes it: those go through the same filter into the
	// carrier's log (Info dropped, numbers masked), never to slog.Default.
	var mu sync.Mutex
	var logs, deflt bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &deflt}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	c, err := NewSIPCarrier(SIPTrunkConfig{ID: "t", Trunk: "127.0.0.1:5060", BindAddr: "127.0.0.1"},
		slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// What sipgo v1.7.3 logs there (sip/transaction_layer.go, transport_tcp.go).
	sip.DefaultLogger().Info("TransactionLayer: Unhandled sip response. Possible retransmissions. Set UnhandledResponseHandler",
		"caller", "transactionLayer", "msg", "SIP/2.0 200 OK To: <sip:"+sipTestPhone+"@127.0.0.1>")
	sip.DefaultLogger().Warn("TCP ref went negative", "ip", "127.0.0.1:5070", "dst", "sip:"+sipTestPhone+"@127.0.0.1:5060", "ref", -1)
	mu.Lock()
	defer mu.Unlock()
	got := logs.String()
	if strings.Contains(got, "Unhandled sip response") {
		t.Errorf("sipgo's Info-level record reached the log:\n%s", got)
	}
	if !strings.Contains(got, "TCP ref went negative") || !strings.Contains(got, "component=sipgo") {
		t.Errorf("sipgo's warning did not reach the carrier's log through the filter:\n%s", got)
	}
	if strings.Contains(got, sipTestPhone) {
		t.Errorf("the full number reached the log:\n%s", got)
	}
	if deflt.Len() != 0 {
		t.Errorf("sipgo logged to slog.Default:\n%s", deflt.String())
	}
}
