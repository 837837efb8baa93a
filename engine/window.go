package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Calling windows.
//
// Semantics: a Window is open at instant t when the wall clock in the
// window's zone at t reads a time inside [start, end) on an allowed weekday.
// It is defined by what the callee's clock shows, not by elapsed time, because
// that is what calling-hours rules care about: dialdeck never dials while the
// local clock reads a time outside the window. Consequences on DST days:
//   - spring forward: a start inside the skipped hour opens the window at the
//     transition (America/New_York 2026-03-08, start 02:30 -> opens 03:00 EDT);
//     an end inside it closes at the transition.
//   - fall back: the repeated hour is judged by its clock reading both times.
//     A 01:30-03:30 window is open 01:30-02:00 EDT, closed 01:00-01:30 EST
//     (the clock reads 01:xx again), open again 01:30-03:30 EST.
//
// windowEnd before windowStart crosses midnight; the early-morning part
// belongs to the previous day's weekday (Fri 22:00-02:00 covers Sat 01:00
// only if Friday is allowed). windowStart == windowEnd means open the whole
// day on allowed weekdays. windowEnd "24:00" means end of day.

// windowHorizonDays bounds the searches of NextOpen and NextClose. A week covers
// every window with at least one weekday; the second week covers a window
// whose only allowed day this week falls entirely in a DST gap.
const windowHorizonDays = 15

// windowSetMaxRounds bounds WindowSet.NextOpen's alternating search.
const windowSetMaxRounds = 1000

// windowError is a validation error; errors.Is(err, ErrInvalid) holds.
type windowError struct{ msg string }

func (e *windowError) Error() string        { return e.msg }
func (e *windowError) Is(target error) bool { return target == ErrInvalid }

func windowErrorf(format string, args ...any) error {
	return &windowError{msg: fmt.Sprintf(format, args...)}
}

// ParseClock parses a 24-hour wall-clock time "HH:MM" (a single-digit hour
// such as "9:00" is accepted) in 00:00..23:59 and returns minutes since
// midnight. "24:00" is rejected here; NewWindow accepts it for windowEnd only.
func ParseClock(s string) (minutes int, err error) {
	h, m, ok := windowSplitClock(s)
	if !ok || h > 23 {
		return 0, windowErrorf("invalid time %q: want HH:MM (00:00-23:59)", s)
	}
	return h*60 + m, nil
}

// windowSplitClock parses H:MM or HH:MM with minutes 00..59 and any hour 0..99.
func windowSplitClock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(s, ":")
	if !found || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return 0, 0, false
	}
	for _, c := range hs + ms {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	for _, c := range hs {
		h = h*10 + int(c-'0')
	}
	m = int(ms[0]-'0')*10 + int(ms[1]-'0')
	if m > 59 {
		return 0, 0, false
	}
	return h, m, true
}

// Window is a validated Schedule: when a campaign (or a lead's zone) may be
// dialed. It is immutable and safe for concurrent use.
type Window struct {
	loc   *time.Location
	start int     // minutes since midnight, 0..1439
	end   int     // minutes since midnight, 0..1440 (1440 = "24:00")
	days  [7]bool // indexed by time.Weekday (Sunday = 0)
	name  string  // zone name as given, for String
	iso   []int   // sorted, deduplicated ISO weekdays, for String

	unloadable bool // a lead zone this host cannot load: never open
}

// NewWindow validates s and builds its Window. Errors name the field and the
// bad value, and satisfy errors.Is(err, ErrInvalid).
func NewWindow(s Schedule) (*Window, error) {
	loc, err := windowLoadLocation(s.Timezone)
	if err != nil {
		return nil, err
	}
	start, err := ParseClock(s.WindowStart)
	if err != nil {
		return nil, windowErrorf("schedule.windowStart: %v", err)
	}
	var end int
	if h, m, ok := windowSplitClock(s.WindowEnd); ok && h == 24 && m == 0 {
		end = 24 * 60
	} else if end, err = ParseClock(s.WindowEnd); err != nil {
		return nil, windowErrorf("schedule.windowEnd: %v (or 24:00 for end of day)", err)
	}
	if len(s.Weekdays) == 0 {
		return nil, windowErrorf("schedule.weekdays: empty: want at least one of 1 (Mon) to 7 (Sun)")
	}
	w := &Window{loc: loc, start: start, end: end, name: s.Timezone}
	for _, d := range s.Weekdays {
		if d < 1 || d > 7 {
			return nil, windowErrorf("schedule.weekdays: invalid weekday %d: want 1 (Mon) to 7 (Sun)", d)
		}
		w.days[d%7] = true // ISO 7 = Sunday = time.Weekday 0
	}
	for d := 1; d <= 7; d++ {
		if w.days[d%7] {
			w.iso = append(w.iso, d)
		}
	}
	return w, nil
}

// windowLoadLocation loads an IANA zone. Empty and "Local" are refused: a
// window that follows the host's zone would change with the machine.
func windowLoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, windowErrorf("schedule.timezone: %q: want an IANA zone name such as Asia/Kolkata", name)
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	msg := fmt.Sprintf("schedule.timezone: unknown time zone %q", name)
	if sug := windowSuggestZones(name); len(sug) > 0 {
		msg += "; did you mean " + strings.Join(sug, " or ") + "?"
	} else {
		msg += ": want an IANA zone name such as Asia/Kolkata"
	}
	return nil, &windowError{msg: msg}
}

// windowZoneNames are common IANA zones offered as suggestions. Any zone Go
// knows is accepted; this list only feeds error messages.
var windowZoneNames = []string{
	"UTC",
	"Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi", "Africa/Casablanca",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "America/Toronto", "America/Vancouver", "America/Halifax", "America/St_Johns",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo",
	"America/Argentina/Buenos_Aires", "America/Caracas", "Pacific/Honolulu",
	"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Zurich", "Europe/Stockholm",
	"Europe/Warsaw", "Europe/Athens", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Calcutta", "Asia/Kathmandu", "Asia/Dhaka",
	"Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila",
	"Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo", "Asia/Riyadh",
	"Asia/Tehran", "Asia/Jerusalem", "Asia/Colombo", "Asia/Yangon",
	"Australia/Perth", "Australia/Adelaide", "Australia/Darwin", "Australia/Brisbane",
	"Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland",
}

// windowSuggestZones returns up to three known zones close to name: a
// case-insensitive match, the same city, or a small edit distance.
func windowSuggestZones(name string) []string {
	low := strings.ToLower(strings.TrimSpace(name))
	lowCity := low[strings.LastIndexByte(low, '/')+1:]
	lowCity = strings.ReplaceAll(lowCity, " ", "_")
	type cand struct {
		zone string
		dist int
	}
	var cands []cand
	for _, z := range windowZoneNames {
		lz := strings.ToLower(z)
		city := lz[strings.LastIndexByte(lz, '/')+1:]
		d := EditDistance(low, lz)
		if lowCity != "" {
			d = min(d, EditDistance(lowCity, city))
		}
		if d <= 2 {
			cands = append(cands, cand{z, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	var out []string
	for _, c := range cands {
		if len(out) == 3 {
			break
		}
		if _, err := time.LoadLocation(c.zone); err == nil {
			out = append(out, c.zone)
		}
	}
	return out
}

// windowEditDistance is the Levenshtein distance between a and b (bytes).
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// neverOpen is the window of a lead zone that cannot be loaded: closed at
// every instant, so its leads are held rather than dialed at the wrong hour.
func neverOpen(zone string) *Window {
	return &Window{loc: time.UTC, name: zone, unloadable: true}
}

// Location returns the window's zone.
func (w *Window) Location() *time.Location { return w.loc }

// Open reports whether the window is open at t, judged by the wall clock and
// weekday in the window's zone.
func (w *Window) Open(t time.Time) bool {
	lt := t.In(w.loc)
	m := lt.Hour()*60 + lt.Minute()
	wd := lt.Weekday()
	switch {
	case w.start == w.end:
		return w.days[wd]
	case w.start < w.end:
		return w.days[wd] && m >= w.start && m < w.end
	case m >= w.start:
		return w.days[wd]
	case m < w.end:
		// Early-morning part of a window that began the previous evening.
		return w.days[(wd+6)%7]
	}
	return false
}

// NextOpen returns t if the window is open at t, else the earliest instant
// after t at which it opens, or the zero time if it does not open within
// about two weeks (possible only for a window whose every allowed day's hours
// fall inside DST gaps).
func (w *Window) NextOpen(t time.Time) time.Time {
	if w.Open(t) {
		return t
	}
	return w.nextChange(t, true)
}

// NextClose returns, if the window is open at t, the earliest instant after t
// at which it is closed. It returns the zero time if the window is closed at
// t, or never closes within about two weeks (open all day, every day).
func (w *Window) NextClose(t time.Time) time.Time {
	if !w.Open(t) {
		return time.Time{}
	}
	return w.nextChange(t, false)
}

// nextChange returns the earliest instant c > t with Open(c) == open, or the
// zero time within the horizon.
//
// Open depends only on the wall-clock minute and the weekday, so it can
// change only where the wall clock jumps (a zone transition) or where it
// reaches 00:00, start or end. Within one zone period the offset is fixed and
// the clock reads X on local date D at exactly wall(D, X) - offset. Walking
// the zone periods in order and testing those instants finds the first change
// without assuming anything about how time.Date resolves gaps or repeats.
func (w *Window) nextChange(t time.Time, open bool) time.Time {
	limit := t.AddDate(0, 0, windowHorizonDays)
	marks := [3]int{0, w.start, w.end % (24 * 60)}
	cands := make([]time.Time, 0, 64) // a period spans at most the 16-day horizon: 3 marks a day
	cur := t.In(w.loc)
	for cur.Before(limit) {
		_, offset := cur.Zone()
		pstart, pend := cur.ZoneBounds()
		if pend.IsZero() || pend.After(limit) {
			pend = limit
		}
		cands = cands[:0]
		if pstart.After(t) {
			cands = append(cands, pstart)
		}
		off := time.Duration(offset) * time.Second
		// Local dates this period spans (one day of slack on either side).
		first := cur.Add(off).UTC()
		day := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, time.UTC)
		lastDay := pend.Add(off).UTC()
		for !day.After(lastDay) {
			for _, m := range marks {
				c := day.Add(time.Duration(m)*time.Minute - off)
				if c.After(t) && !c.Before(pstart) && c.Before(pend) {
					cands = append(cands, c)
				}
			}
			day = day.AddDate(0, 0, 1)
		}
		slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
		for _, c := range cands {
			if w.Open(c) == open {
				return c.In(w.loc)
			}
		}
		cur = pend.In(w.loc)
	}
	return time.Time{}
}

// String describes the window, e.g. "Mon-Fri 10:00-18:00 Asia/Kolkata".
func (w *Window) String() string {
	if w.unloadable {
		return w.name + " (cannot be loaded: never open)"
	}
	hours := "all day"
	if w.start != w.end {
		hours = windowFormatClock(w.start) + "-" + windowFormatClock(w.end)
	}
	return windowFormatDays(w.iso) + " " + hours + " " + w.name
}

func windowFormatClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

var windowISOAbbr = [8]string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// windowFormatDays writes sorted ISO weekdays compactly: runs of three or
// more as a range ("Mon-Fri"), others listed ("Sat,Sun").
func windowFormatDays(iso []int) string {
	var parts []string
	for i := 0; i < len(iso); {
		j := i
		for j+1 < len(iso) && iso[j+1] == iso[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, windowISOAbbr[iso[i]]+"-"+windowISOAbbr[iso[j]])
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, windowISOAbbr[iso[k]])
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// WindowSet is the intersection of windows: open only when every member is
// open. Per-lead local time uses it: the campaign's window plus one window per
// candidate zone of the lead's number. An empty set is always open.
type WindowSet []*Window

// Open reports whether every window is open at t.
func (s WindowSet) Open(t time.Time) bool {
	for _, w := range s {
		if !w.Open(t) {
			return false
		}
	}
	return true
}

// NextOpen returns the earliest instant >= t at which every window is open,
// or the zero time if there is none within about two weeks (windows that
// never overlap).
//
// Each member's NextOpen is a lower bound for the answer, so jumping to their
// maximum never skips it; if not all are open there, some member's NextOpen
// is strictly later, so the search only moves forward.
func (s WindowSet) NextOpen(t time.Time) time.Time {
	limit := t.AddDate(0, 0, windowHorizonDays)
	cur := t
	for range windowSetMaxRounds {
		if s.Open(cur) {
			return cur
		}
		next := cur
		for _, w := range s {
			n := w.NextOpen(cur)
			if n.IsZero() {
				return time.Time{}
			}
			if n.After(next) {
				next = n
			}
		}
		if !next.Before(limit) {
			return time.Time{}
		}
		cur = next
	}
	return time.Time{}
}

// NextClose returns, if every window is open at t, the earliest instant after
// t at which one of them closes; the zero time if not all are open at t or
// none closes within about two weeks.
func (s WindowSet) NextClose(t time.Time) time.Time {
	if !s.Open(t) {
		return time.Time{}
	}
	var first time.Time
	for _, w := range s {
		c := w.NextClose(t)
		if !c.IsZero() && (first.IsZero() || c.Before(first)) {
			first = c
		}
	}
	return first
}

// unloadable lists the zones of the set this host could not load.
func (s WindowSet) unloadable() []string {
	var zs []string
	for _, w := range s {
		if w.unloadable {
			zs = append(zs, w.name)
		}
	}
	return zs
}

// CommonZones returns the common IANA zones the suggestions come from (for
// completion in a form); any zone Go knows is accepted.
func CommonZones() []string { return append([]string(nil), windowZoneNames...) }

// SuggestZones returns up to three common zones close to name (a different
// case, the same city, or a small edit distance).
func SuggestZones(name string) []string { return windowSuggestZones(name) }
