package engine

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the host's zoneinfo
)

var winAllDays = []int{1, 2, 3, 4, 5, 6, 7}

func mustWindow(t testing.TB, tz, start, end string, days ...int) *Window {
	t.Helper()
	w, err := NewWindow(Schedule{Timezone: tz, WindowStart: start, WindowEnd: end, Weekdays: days})
	if err != nil {
		t.Fatalf("NewWindow(%s %s-%s %v): %v", tz, start, end, days, err)
	}
	return w
}

// ts parses an RFC 3339 instant; every expectation below is an exact instant.
func winTS(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// windowCase checks Open, NextOpen and NextClose at one instant. Empty
// nextOpen/nextClose strings mean the zero time.
type windowCase struct {
	at        string
	open      bool
	nextOpen  string
	nextClose string
}

func checkWindow(t *testing.T, w *Window, cases []windowCase) {
	t.Helper()
	for _, c := range cases {
		at := winTS(t, c.at)
		if got := w.Open(at); got != c.open {
			t.Errorf("%v: Open(%s) = %v, want %v", w, c.at, got, c.open)
		}
		wantOpen := at
		if c.nextOpen != "" {
			wantOpen = winTS(t, c.nextOpen)
		}
		if got := w.NextOpen(at); !got.Equal(wantOpen) {
			t.Errorf("%v: NextOpen(%s) = %s, want %s", w, c.at, got.Format(time.RFC3339), wantOpen.Format(time.RFC3339))
		}
		var wantClose time.Time
		if c.nextClose != "" {
			wantClose = winTS(t, c.nextClose)
		}
		if got := w.NextClose(at); !got.Equal(wantClose) {
			t.Errorf("%v: NextClose(%s) = %s, want %s", w, c.at, got.Format(time.RFC3339), wantClose.Format(time.RFC3339))
		}
	}
}

// America/New_York 2026-03-08 (Sunday): 01:59:59 EST is followed by 03:00 EDT.
func TestWindowSpringForwardNewYork(t *testing.T) {
	const ny = "America/New_York"
	t.Run("01:30-03:30", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "01:30", "03:30", winAllDays...), []windowCase{
			{"2026-03-08T01:00:00-05:00", false, "2026-03-08T01:30:00-05:00", ""},
			{"2026-03-08T01:45:00-05:00", true, "", "2026-03-08T03:30:00-04:00"},
			{"2026-03-08T03:00:00-04:00", true, "", "2026-03-08T03:30:00-04:00"},
			{"2026-03-08T03:30:00-04:00", false, "2026-03-09T01:30:00-04:00", ""},
		})
	})
	t.Run("02:30-05:00 opens at the transition", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "02:30", "05:00", winAllDays...), []windowCase{
			{"2026-03-08T01:00:00-05:00", false, "2026-03-08T03:00:00-04:00", ""},
			{"2026-03-08T01:59:59-05:00", false, "2026-03-08T03:00:00-04:00", ""},
			{"2026-03-08T03:00:00-04:00", true, "", "2026-03-08T05:00:00-04:00"},
			{"2026-03-08T05:00:00-04:00", false, "2026-03-09T02:30:00-04:00", ""},
			{"2026-03-07T02:30:00-05:00", true, "", "2026-03-07T05:00:00-05:00"},
		})
	})
	t.Run("01:30-02:30 closes at the transition", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "01:30", "02:30", winAllDays...), []windowCase{
			{"2026-03-08T01:45:00-05:00", true, "", "2026-03-08T03:00:00-04:00"},
			{"2026-03-08T03:00:00-04:00", false, "2026-03-09T01:30:00-04:00", ""},
		})
	})
	t.Run("09:00-17:00", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "09:00", "17:00", winAllDays...), []windowCase{
			{"2026-03-08T00:00:00-05:00", false, "2026-03-08T09:00:00-04:00", ""},
			{"2026-03-07T17:00:00-05:00", false, "2026-03-08T09:00:00-04:00", ""},
			{"2026-03-08T09:00:00-04:00", true, "", "2026-03-08T17:00:00-04:00"},
		})
	})
	t.Run("window only on a gap day", func(t *testing.T) {
		// Sunday 02:00-02:59 never shows on the clock on 2026-03-08: next week.
		checkWindow(t, mustWindow(t, ny, "02:00", "02:59", 7), []windowCase{
			{"2026-03-07T12:00:00-05:00", false, "2026-03-15T02:00:00-04:00", ""},
		})
	})
}

// America/New_York 2026-11-01 (Sunday): 01:00-01:59 is shown twice, first EDT
// (05:00Z-06:00Z), then EST (06:00Z-07:00Z).
func TestWindowFallBackNewYork(t *testing.T) {
	const ny = "America/New_York"
	t.Run("01:30-03:30", func(t *testing.T) {
		// Judged by the clock: closed while it reads 01:00-01:29 the second time.
		checkWindow(t, mustWindow(t, ny, "01:30", "03:30", winAllDays...), []windowCase{
			{"2026-11-01T00:00:00-04:00", false, "2026-11-01T01:30:00-04:00", ""},
			{"2026-11-01T01:30:00-04:00", true, "", "2026-11-01T01:00:00-05:00"},
			{"2026-11-01T01:00:00-05:00", false, "2026-11-01T01:30:00-05:00", ""},
			{"2026-11-01T01:15:00-05:00", false, "2026-11-01T01:30:00-05:00", ""},
			{"2026-11-01T01:30:00-05:00", true, "", "2026-11-01T03:30:00-05:00"},
			{"2026-11-01T03:30:00-05:00", false, "2026-11-02T01:30:00-05:00", ""},
		})
	})
	t.Run("02:30-05:00", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "02:30", "05:00", winAllDays...), []windowCase{
			{"2026-11-01T01:30:00-04:00", false, "2026-11-01T02:30:00-05:00", ""},
			{"2026-11-01T01:30:00-05:00", false, "2026-11-01T02:30:00-05:00", ""},
			{"2026-11-01T02:30:00-05:00", true, "", "2026-11-01T05:00:00-05:00"},
		})
	})
	t.Run("00:30-01:30 reopens in the repeated hour", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "00:30", "01:30", winAllDays...), []windowCase{
			{"2026-11-01T00:30:00-04:00", true, "", "2026-11-01T01:30:00-04:00"},
			{"2026-11-01T01:30:00-04:00", false, "2026-11-01T01:00:00-05:00", ""},
			{"2026-11-01T01:00:00-05:00", true, "", "2026-11-01T01:30:00-05:00"},
		})
	})
	t.Run("09:00-17:00", func(t *testing.T) {
		checkWindow(t, mustWindow(t, ny, "09:00", "17:00", winAllDays...), []windowCase{
			{"2026-10-31T18:00:00-04:00", false, "2026-11-01T09:00:00-05:00", ""},
			{"2026-11-01T09:00:00-05:00", true, "", "2026-11-01T17:00:00-05:00"},
		})
	})
}

// 22:00-02:00 Mon-Fri: the early-morning part belongs to the previous day.
// 2026-06-05 is a Friday.
func TestWindowCrossesMidnight(t *testing.T) {
	w := mustWindow(t, "America/Chicago", "22:00", "02:00", 1, 2, 3, 4, 5)
	checkWindow(t, w, []windowCase{
		{"2026-06-05T23:00:00-05:00", true, "", "2026-06-06T02:00:00-05:00"}, // Fri
		{"2026-06-06T01:00:00-05:00", true, "", "2026-06-06T02:00:00-05:00"}, // Sat, Friday's
		{"2026-06-06T02:00:00-05:00", false, "2026-06-08T22:00:00-05:00", ""},
		{"2026-06-06T23:00:00-05:00", false, "2026-06-08T22:00:00-05:00", ""}, // Sat
		{"2026-06-08T01:00:00-05:00", false, "2026-06-08T22:00:00-05:00", ""}, // Mon, Sunday's
		{"2026-06-09T01:00:00-05:00", true, "", "2026-06-09T02:00:00-05:00"},  // Tue, Monday's
		{"2026-06-05T21:59:59-05:00", false, "2026-06-05T22:00:00-05:00", ""},
	})
}

// Weekdays are the zone's, not UTC's: Monday 08:00 in Tokyo is Sunday in UTC.
func TestWindowWeekdayInZone(t *testing.T) {
	w := mustWindow(t, "Asia/Tokyo", "08:00", "17:00", 1, 2, 3, 4, 5)
	checkWindow(t, w, []windowCase{
		{"2026-06-07T23:00:00Z", true, "", "2026-06-08T08:00:00Z"},           // Mon 08:00 JST
		{"2026-06-06T23:00:00Z", false, "2026-06-07T23:00:00Z", ""},          // Sun 08:00 JST
		{"2026-06-12T08:00:00Z", false, "2026-06-14T23:00:00Z", ""},          // Fri 17:00 JST
		{"2026-06-12T07:59:59.999999999Z", true, "", "2026-06-12T08:00:00Z"}, // Fri 16:59:59.999
	})
}

// The spec's example: Asia/Kolkata (+05:30) 10:00-18:00 Mon-Fri.
func TestWindowKolkata(t *testing.T) {
	for _, tz := range []string{"Asia/Kolkata", "Asia/Calcutta"} {
		w := mustWindow(t, tz, "10:00", "18:00", 1, 2, 3, 4, 5)
		checkWindow(t, w, []windowCase{
			{"2026-06-08T09:59:59+05:30", false, "2026-06-08T10:00:00+05:30", ""},
			{"2026-06-08T04:30:00Z", true, "", "2026-06-08T12:30:00Z"},
			{"2026-06-08T17:59:59+05:30", true, "", "2026-06-08T18:00:00+05:30"},
			{"2026-06-08T18:00:00+05:30", false, "2026-06-09T10:00:00+05:30", ""},
			{"2026-06-12T18:00:00+05:30", false, "2026-06-15T10:00:00+05:30", ""}, // Fri -> Mon
			{"2026-06-13T12:00:00+05:30", false, "2026-06-15T04:30:00Z", ""},      // Sat
		})
	}
}

func TestWindowHalfHourZones(t *testing.T) {
	t.Run("Kathmandu +05:45", func(t *testing.T) {
		checkWindow(t, mustWindow(t, "Asia/Kathmandu", "09:00", "17:00", winAllDays...), []windowCase{
			{"2026-06-08T00:00:00Z", false, "2026-06-08T03:15:00Z", ""},
			{"2026-06-08T03:15:00Z", true, "", "2026-06-08T11:15:00Z"},
		})
	})
	t.Run("St_Johns -03:30/-02:30", func(t *testing.T) {
		// DST starts 2026-03-08 02:00 NST -> 03:00 NDT.
		w := mustWindow(t, "America/St_Johns", "02:15", "09:00", winAllDays...)
		checkWindow(t, w, []windowCase{
			{"2026-03-07T02:15:00-03:30", true, "", "2026-03-07T09:00:00-03:30"},
			{"2026-03-08T01:00:00-03:30", false, "2026-03-08T03:00:00-02:30", ""},
			{"2026-03-08T03:00:00-02:30", true, "", "2026-03-08T09:00:00-02:30"},
			{"2026-03-08T09:00:00-02:30", false, "2026-03-09T02:15:00-02:30", ""},
		})
	})
	t.Run("Adelaide +09:30/+10:30", func(t *testing.T) {
		// DST ends 2026-04-05 03:00 ACDT -> 02:00 ACST.
		w := mustWindow(t, "Australia/Adelaide", "09:00", "17:00", 7)
		checkWindow(t, w, []windowCase{
			{"2026-04-04T12:00:00+10:30", false, "2026-04-05T09:00:00+09:30", ""},
			{"2026-04-05T09:00:00+09:30", true, "", "2026-04-05T17:00:00+09:30"},
		})
	})
}

// Start is inclusive, end exclusive.
func TestWindowBoundaries(t *testing.T) {
	w := mustWindow(t, "Europe/Berlin", "08:00", "20:00", winAllDays...)
	start := winTS(t, "2026-06-08T08:00:00+02:00")
	end := winTS(t, "2026-06-08T20:00:00+02:00")
	checkWindow(t, w, []windowCase{
		{"2026-06-08T08:00:00+02:00", true, "", "2026-06-08T20:00:00+02:00"},
		{"2026-06-08T20:00:00+02:00", false, "2026-06-09T08:00:00+02:00", ""},
	})
	if !w.Open(end.Add(-time.Nanosecond)) || w.Open(start.Add(-time.Nanosecond)) {
		t.Error("boundaries: want open just before end, closed just before start")
	}
	if got := w.NextOpen(start.Add(-time.Nanosecond)); !got.Equal(start) {
		t.Errorf("NextOpen(start-1ns) = %v, want %v", got, start)
	}

	always := mustWindow(t, "Europe/Berlin", "00:00", "00:00", winAllDays...)
	if !always.Open(start) || !always.NextClose(start).IsZero() {
		t.Error("all-day, all-week window: want open and no close")
	}
	allDay := mustWindow(t, "Europe/Berlin", "07:00", "07:00", 1)
	checkWindow(t, allDay, []windowCase{
		{"2026-06-08T00:00:00+02:00", true, "", "2026-06-09T00:00:00+02:00"},
		{"2026-06-07T23:59:59+02:00", false, "2026-06-08T00:00:00+02:00", ""},
	})
	toMidnight := mustWindow(t, "Europe/Berlin", "18:00", "24:00", 1)
	checkWindow(t, toMidnight, []windowCase{
		{"2026-06-08T23:59:59+02:00", true, "", "2026-06-09T00:00:00+02:00"},
		{"2026-06-09T00:00:00+02:00", false, "2026-06-15T18:00:00+02:00", ""},
	})
}

func TestParseClock(t *testing.T) {
	good := map[string]int{"00:00": 0, "9:00": 540, "09:05": 545, "23:59": 1439, "0:30": 30}
	for s, want := range good {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"25:00", "24:00", "12:60", "", "12", "1200", "12:5", "012:00", "-1:00", "ab:cd", "12:00:00", " 9:00"} {
		_, err := ParseClock(s)
		if err == nil {
			t.Errorf("ParseClock(%q): want error", s)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseClock(%q): error %v is not ErrInvalid", s, err)
		}
	}
	_, err := ParseClock("25:00")
	if want := `invalid time "25:00": want HH:MM (00:00-23:59)`; err == nil || err.Error() != want {
		t.Errorf("ParseClock(25:00) error = %v, want %s", err, want)
	}
}

func TestNewWindowValidation(t *testing.T) {
	base := Schedule{Timezone: "Asia/Kolkata", WindowStart: "10:00", WindowEnd: "18:00", Weekdays: []int{1, 2, 3, 4, 5}}
	cases := []struct {
		name   string
		edit   func(*Schedule)
		substr []string
	}{
		{"case-insensitive zone", func(s *Schedule) { s.Timezone = "asia/kolkata" }, []string{`"asia/kolkata"`, "Asia/Kolkata"}},
		{"typo zone", func(s *Schedule) { s.Timezone = "America/New_Yrok" }, []string{"America/New_York"}},
		{"city only", func(s *Schedule) { s.Timezone = "Kathmandu" }, []string{"Asia/Kathmandu"}},
		{"unknown zone", func(s *Schedule) { s.Timezone = "Mars/Olympus_Mons" }, []string{`"Mars/Olympus_Mons"`, "IANA"}},
		{"empty zone", func(s *Schedule) { s.Timezone = "" }, []string{"schedule.timezone"}},
		{"Local zone", func(s *Schedule) { s.Timezone = "Local" }, []string{"schedule.timezone"}},
		{"start 25:00", func(s *Schedule) { s.WindowStart = "25:00" }, []string{"schedule.windowStart", `"25:00"`}},
		{"start 24:00", func(s *Schedule) { s.WindowStart = "24:00" }, []string{"schedule.windowStart", `"24:00"`}},
		{"end 18:75", func(s *Schedule) { s.WindowEnd = "18:75" }, []string{"schedule.windowEnd", `"18:75"`}},
		{"weekday 0", func(s *Schedule) { s.Weekdays = []int{1, 0} }, []string{"weekday 0"}},
		{"weekday 8", func(s *Schedule) { s.Weekdays = []int{8} }, []string{"weekday 8"}},
		{"no weekdays", func(s *Schedule) { s.Weekdays = nil }, []string{"schedule.weekdays"}},
	}
	for _, c := range cases {
		s := base
		c.edit(&s)
		_, err := NewWindow(s)
		if err == nil {
			t.Errorf("%s: want error", c.name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", c.name, err)
		}
		for _, sub := range c.substr {
			if !strings.Contains(err.Error(), sub) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, sub)
			}
		}
	}

	ok := base
	ok.WindowStart, ok.WindowEnd, ok.Weekdays = "9:00", "24:00", []int{5, 1, 1, 2, 3, 4, 5}
	w, err := NewWindow(ok)
	if err != nil {
		t.Fatalf("9:00-24:00 with duplicate weekdays: %v", err)
	}
	if got, want := w.String(), "Mon-Fri 09:00-24:00 Asia/Kolkata"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestWindowString(t *testing.T) {
	cases := []struct {
		w    *Window
		want string
	}{
		{mustWindow(t, "Asia/Kolkata", "10:00", "18:00", 1, 2, 3, 4, 5), "Mon-Fri 10:00-18:00 Asia/Kolkata"},
		{mustWindow(t, "UTC", "22:00", "02:00", 6, 7), "Sat,Sun 22:00-02:00 UTC"},
		{mustWindow(t, "UTC", "08:00", "08:00", 7, 1, 3, 4, 5), "Mon,Wed-Fri,Sun all day UTC"},
		{mustWindow(t, "UTC", "08:00", "12:00", winAllDays...), "Mon-Sun 08:00-12:00 UTC"},
	}
	for _, c := range cases {
		if got := c.w.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
	if got := mustWindow(t, "UTC", "08:00", "12:00", 1).Location(); got != time.UTC {
		t.Errorf("Location() = %v, want UTC", got)
	}
}

// Zones for the property test: DST north and south, DST at midnight, 30- and
// 45-minute offsets, a 30-minute DST shift (Lord_Howe), no DST.
var windowTestZones = []string{
	"UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
	"America/Los_Angeles", "America/Anchorage", "America/St_Johns", "America/Halifax",
	"America/Santiago", "America/Havana", "America/Asuncion", "America/Sao_Paulo",
	"Europe/London", "Europe/Berlin", "Europe/Moscow", "Africa/Casablanca", "Asia/Beirut",
	"Asia/Tehran", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Yangon", "Asia/Tokyo",
	"Australia/Adelaide", "Australia/Darwin", "Australia/Sydney", "Australia/Lord_Howe",
	"Pacific/Auckland", "Pacific/Chatham", "Pacific/Marquesas", "Pacific/Apia",
}

// windowTransitions lists each test zone's offset changes in 2026-2027, so the
// property test can aim instants at the interesting days.
func windowTransitions(t testing.TB) map[string][]time.Time {
	out := map[string][]time.Time{}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, z := range windowTestZones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		for cur := from.In(loc); cur.Before(to); {
			_, end := cur.ZoneBounds()
			if end.IsZero() || !end.Before(to) {
				break
			}
			out[z] = append(out[z], end)
			cur = end.In(loc)
		}
	}
	return out
}

func winRandomWindow(t testing.TB, r *rand.Rand) *Window {
	clock := func() string {
		var m int
		switch r.Intn(3) {
		case 0: // near DST transitions, which are mostly at 00:00-04:00
			m = r.Intn(5 * 60)
		case 1: // round hours
			m = r.Intn(24) * 60
		default:
			m = r.Intn(24 * 60)
		}
		return windowFormatClock(m)
	}
	start, end := clock(), clock()
	switch r.Intn(20) {
	case 0:
		end = start
	case 1:
		end = "24:00"
	}
	var days []int
	for len(days) == 0 {
		for d := 1; d <= 7; d++ {
			if r.Intn(2) == 0 {
				days = append(days, d)
			}
		}
	}
	return mustWindow(t, windowTestZones[r.Intn(len(windowTestZones))], start, end, days...)
}

func winRandomInstant(r *rand.Rand, zone string, trans map[string][]time.Time) time.Time {
	if ts := trans[zone]; len(ts) > 0 && r.Intn(2) == 0 {
		// Within two days of a transition, at second granularity.
		return ts[r.Intn(len(ts))].Add(time.Duration(r.Int63n(4*86400)-2*86400) * time.Second)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	sec := from + r.Int63n(2*365*86400)
	if r.Intn(3) == 0 {
		sec -= sec % 60 // exactly on a minute, often a boundary
	}
	return time.Unix(sec, int64(r.Intn(2))*int64(r.Intn(1e9)))
}

// winChecker is Window or WindowSet.
type winChecker interface {
	Open(time.Time) bool
	NextOpen(time.Time) time.Time
	NextClose(time.Time) time.Time
}

// checkWindowProperties verifies NextOpen and NextClose at t against Open.
// All offsets in 2026-2027 are whole minutes and transitions fall on whole
// minutes, so Open is constant between whole UTC minutes: checking every whole
// minute in an interval (plus its ends) is exhaustive.
func checkWindowProperties(t *testing.T, w winChecker, name string, at time.Time) bool {
	t.Helper()
	fail := func(format string, args ...any) bool {
		t.Errorf("%s at %s: "+format, append([]any{name, at.Format(time.RFC3339Nano)}, args...)...)
		return false
	}
	open := w.Open(at)
	next := w.NextOpen(at)
	if next.IsZero() {
		// Allowed only if nothing opens within the horizon.
		for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(at.AddDate(0, 0, windowHorizonDays-1)); m = m.Add(time.Minute) {
			if w.Open(m) {
				return fail("NextOpen = zero but open at %s", m.Format(time.RFC3339))
			}
		}
		return true
	}
	if next.Before(at) || !w.Open(next) {
		return fail("NextOpen = %s: before t or not open", next.Format(time.RFC3339))
	}
	if open != next.Equal(at) {
		return fail("Open = %v but NextOpen = %s", open, next.Format(time.RFC3339))
	}
	if !open {
		if next.Truncate(time.Minute) != next {
			return fail("NextOpen = %s not on a minute", next.Format(time.RFC3339Nano))
		}
		for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(next); m = m.Add(time.Minute) {
			if w.Open(m) {
				return fail("NextOpen = %s but already open at %s", next.Format(time.RFC3339), m.Format(time.RFC3339))
			}
		}
		if !w.NextClose(at).IsZero() {
			return fail("closed but NextClose = %s", w.NextClose(at))
		}
		return true
	}
	closeAt := w.NextClose(at)
	if closeAt.IsZero() {
		for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(at.AddDate(0, 0, windowHorizonDays-1)); m = m.Add(time.Minute) {
			if !w.Open(m) {
				return fail("NextClose = zero but closed at %s", m.Format(time.RFC3339))
			}
		}
		return true
	}
	if !closeAt.After(at) || w.Open(closeAt) || closeAt.Truncate(time.Minute) != closeAt {
		return fail("NextClose = %s: not after t, still open, or not on a minute", closeAt.Format(time.RFC3339Nano))
	}
	for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(closeAt); m = m.Add(time.Minute) {
		if !w.Open(m) {
			return fail("NextClose = %s but already closed at %s", closeAt.Format(time.RFC3339), m.Format(time.RFC3339))
		}
	}
	return true
}

func TestWindowProperties(t *testing.T) {
	r := rand.New(rand.NewSource(20260308))
	trans := windowTransitions(t)
	n := 4000
	if testing.Short() {
		n = 400
	}
	failures := 0
	for i := 0; i < n && failures < 10; i++ {
		w := winRandomWindow(t, r)
		at := winRandomInstant(r, w.name, trans)
		if !checkWindowProperties(t, w, w.String(), at) {
			failures++
		}
	}
}

func TestWindowSetProperties(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	trans := windowTransitions(t)
	n := 1500
	if testing.Short() {
		n = 150
	}
	failures := 0
	for i := 0; i < n && failures < 10; i++ {
		set := WindowSet{winRandomWindow(t, r)}
		for k := r.Intn(3); k > 0; k-- {
			set = append(set, winRandomWindow(t, r))
		}
		var names []string
		for _, w := range set {
			names = append(names, w.String())
		}
		at := winRandomInstant(r, set[0].name, trans)
		if !checkWindowProperties(t, set, strings.Join(names, " & "), at) {
			failures++
		}
	}
}

// Per-lead local time: the campaign's window in New York and a lead in Los
// Angeles, both 09:00-17:00 Mon-Fri, overlap 12:00-17:00 New York time.
func TestWindowSetIntersection(t *testing.T) {
	set := WindowSet{
		mustWindow(t, "America/New_York", "09:00", "17:00", 1, 2, 3, 4, 5),
		mustWindow(t, "America/Los_Angeles", "09:00", "17:00", 1, 2, 3, 4, 5),
	}
	checkWindow2 := func(at, wantOpen, wantClose string) {
		t.Helper()
		a := winTS(t, at)
		if got := set.NextOpen(a); !got.Equal(winTS(t, wantOpen)) {
			t.Errorf("NextOpen(%s) = %s, want %s", at, got.Format(time.RFC3339), wantOpen)
		}
		if got := set.NextClose(set.NextOpen(a)); !got.Equal(winTS(t, wantClose)) {
			t.Errorf("NextClose(NextOpen(%s)) = %s, want %s", at, got.Format(time.RFC3339), wantClose)
		}
	}
	checkWindow2("2026-06-08T09:00:00-04:00", "2026-06-08T12:00:00-04:00", "2026-06-08T17:00:00-04:00")
	checkWindow2("2026-06-12T17:00:00-04:00", "2026-06-15T12:00:00-04:00", "2026-06-15T17:00:00-04:00")

	never := WindowSet{
		mustWindow(t, "America/New_York", "09:00", "10:00", 1),
		mustWindow(t, "Asia/Tokyo", "09:00", "10:00", 1),
	}
	if got := never.NextOpen(winTS(t, "2026-06-08T00:00:00Z")); !got.IsZero() {
		t.Errorf("disjoint windows: NextOpen = %v, want zero", got)
	}
	if !(WindowSet{}).Open(time.Now()) {
		t.Error("empty set: want open")
	}
}

func BenchmarkWindowOpen(b *testing.B) {
	w := mustWindow(b, "America/New_York", "09:00", "17:00", 1, 2, 3, 4, 5)
	at := time.Date(2026, 6, 8, 15, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Open(at.Add(time.Duration(i) * time.Second))
	}
}

func BenchmarkWindowNextOpen(b *testing.B) {
	w := mustWindow(b, "America/New_York", "09:00", "17:00", 1, 2, 3, 4, 5)
	at := time.Date(2026, 6, 12, 22, 0, 0, 0, time.UTC) // Friday after close
	b.ReportAllocs()
	for b.Loop() {
		w.NextOpen(at)
	}
}
