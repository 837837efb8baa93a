package media

import (
	"context"
	"log/slog"
	"regexp"

	"github.com/dialdeck/dialdeck/engine"
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
