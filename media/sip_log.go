package media

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/emiago/sipgo/sip"
)

// sipgoLogFilter is the slog handler sipgo logs through: records below min
// are dropped, attributes that hold whole SIP messages are replaced (sipgo
// logs the raw datagram on a parse failure and the INVITE on a failed ACK),
// and any phone-number-like digit run left in the message or an attribute
// is masked to its last 4 digits.
type sipgoLogFilter struct {
	h   slog.Handler
	min slog.Level
}

// rawMessageAttrs are sipgo's attribute keys that carry SIP message text.
var rawMessageAttrs = map[string]bool{
	"data": true, "req": true, "res": true, "msg": true, "request": true, "response": true,
	"invite_request": true, "invite_response": true, "cancel_request": true,
}

// phoneRun is a run of 5+ digits, optionally with a leading +: what a
// number looks like in a Request-URI, From, To or an error text.
var phoneRun = regexp.MustCompile(`\+?[0-9]{5,}`)

func maskDigits(s string) string {
	return phoneRun.ReplaceAllStringFunc(s, engine.MaskPhone)
}

func redactAttr(a slog.Attr) slog.Attr {
	if rawMessageAttrs[a.Key] {
		return slog.String(a.Key, "[SIP message not logged]")
	}
	switch a.Value.Kind() {
	case slog.KindLogValuer:
		return redactAttr(slog.Attr{Key: a.Key, Value: a.Value.Resolve()})
	case slog.KindString:
		return slog.String(a.Key, maskDigits(a.Value.String()))
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]any, 0, len(g))
		for _, x := range g {
			out = append(out, redactAttr(x))
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, maskDigits(err.Error()))
		}
		return slog.String(a.Key, maskDigits(a.Value.String()))
	}
	return a
}

func (f sipgoLogFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}

func (f sipgoLogFilter) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, maskDigits(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return f.h.Handle(ctx, out)
}

func (f sipgoLogFilter) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return sipgoLogFilter{h: f.h.WithAttrs(red), min: f.min}
}

func (f sipgoLogFilter) WithGroup(n string) slog.Handler {
	return sipgoLogFilter{h: f.h.WithGroup(n), min: f.min}
}

// sipgo also logs through its package-wide default logger (sip.DefaultLogger:
// "Unhandled sip response" with the message at Info, "UDP/TCP ref went
// negative" at Warn), which is slog.Default unless set. It is set once,
// before the first carrier starts sipgo (sip.SetDefaultLogger is not safe
// to call while sipgo runs), to a logger that goes through sipgoLogFilter
// into the handler of the latest carrier's logger.
var (
	sipgoDefaultOnce sync.Once
	sipgoDefaultTo   atomic.Pointer[slog.Handler]
)

func routeSipgoDefaultLogger(h slog.Handler) {
	sipgoDefaultTo.Store(&h)
	sipgoDefaultOnce.Do(func() {
		sip.SetDefaultLogger(slog.New(sipgoLogFilter{h: latestHandler{}, min: slog.LevelWarn}).With("component", "sipgo"))
	})
}

// latestHandler forwards to the handler routeSipgoDefaultLogger stored last.
type latestHandler struct{ attrs []slog.Attr }

func (l latestHandler) target() slog.Handler {
	h := *sipgoDefaultTo.Load()
	if len(l.attrs) > 0 {
		h = h.WithAttrs(l.attrs)
	}
	return h
}

func (l latestHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return l.target().Enabled(ctx, lv)
}

func (l latestHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.target().Handle(ctx, r)
}

func (l latestHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return latestHandler{attrs: append(slices.Clip(l.attrs), as...)}
}

// WithGroup is not used by sipgo's default logger; groups are flattened.
func (l latestHandler) WithGroup(string) slog.Handler { return l }
