package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// pad truncates or pads s (which may hold ANSI styling) to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if n := w - ansi.StringWidth(s); n > 0 {
		s += strings.Repeat(" ", n)
	}
	return s
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	if ansi.StringWidth(s) >= w {
		return pad(s, w)
	}
	return strings.Repeat(" ", w-ansi.StringWidth(s)) + s
}

// fit makes lines exactly h lines of exactly w cells, so a redraw always
// overwrites the whole previous frame.
func fit(lines []string, w, h int) string {
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = pad(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", w)
		}
	}
	return strings.Join(out, "\n")
}

// bar is a progress bar of w cells for done out of total.
func bar(done, total uint64, w int) string {
	if w <= 0 {
		return ""
	}
	n := 0
	if total > 0 {
		n = int(float64(w) * float64(done) / float64(total))
	}
	n = min(max(n, 0), w)
	return strings.Repeat("█", n) + strings.Repeat("░", w-n)
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws vals scaled to their maximum; zero is the lowest block so
// the time axis stays visible.
func sparkline(vals []int) string {
	mx := 0
	for _, v := range vals {
		mx = max(mx, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if mx > 0 && v > 0 {
			i = 1 + (v*(len(sparkRunes)-2))/mx
		}
		b.WriteRune(sparkRunes[min(i, len(sparkRunes)-1)])
	}
	return b.String()
}

// dur is a compact duration: 42s, 3m05s, 2h04m, 3d04h.
func dur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// clockAt shows t in loc: the time alone when it is within a day of now,
// else with the weekday.
func clockAt(t, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	if t.Sub(now) < 20*time.Hour {
		return t.In(loc).Format("15:04")
	}
	return t.In(loc).Format("Mon 15:04")
}

// wrapText wraps s at spaces to w cells.
func wrapText(s string, w int) string { return ansi.Wrap(s, max(w, 10), " ") }
