package engine

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// Results below are what phonenumbers v1.8.1 really says, checked by running
// it, not what one might assume.
var phoneCases = []struct {
	raw, region string
	e164        string
	err         string // substring; "" = valid
}{
	// India.
	{"+919876543210", "IN", "+919876543210", ""},
	{"09876543210", "IN", "+919876543210", ""},
	{"9876543210", "IN", "+919876543210", ""},
	{"98765 43210", "IN", "+919876543210", ""},
	{"98765-43210", "IN", "+919876543210", ""},
	{"  +91-98765-43210 ", "in", "+919876543210", ""}, // region case-folded
	{"98765\u00a043210", "IN", "+919876543210", ""},   // no-break space from a spreadsheet
	{"'+919876543210", "IN", "+919876543210", ""},     // apostrophe forcing text
	{"0091 98765 43210", "IN", "+919876543210", ""},   // IDD prefix
	{"tel:+919876543210", "IN", "+919876543210", ""},
	{"++919876543210", "IN", "+919876543210", ""},
	// A US number without +1 in an IN list is "valid" as an Indian number:
	// why the default region must be explicit and shown.
	{"4155552671", "IN", "+914155552671", ""},
	{"1234567890", "IN", "+911234567890", ""},
	{"+1 (415) 555-2671", "IN", "+14155552671", ""},
	{"+44 20 7946 0958", "IN", "+442079460958", ""},
	{"+49 30 901820", "IN", "+4930901820", ""},
	{"00 49 30 901820", "IN", "+4930901820", ""},
	{"12", "IN", "", "too short for region IN"},
	{"98765", "IN", "", "too short for region IN"},
	{"987654321012345", "IN", "", "too long for region IN"},
	{"+91 98765 4321O", "IN", "", "invalid number"},
	{"+999123456", "IN", "", "unknown country code"},
	{"+0919876543210", "IN", "", "unknown country code"},
	{"", "IN", "", "empty phone"},
	{"   ", "IN", "", "empty phone"},
	{"abc", "IN", "", "not a phone number"},
	{"+", "IN", "", "not a phone number"},
	{"0", "IN", "", "not a phone number"},
	{"123.0", "IN", "", "too short for region IN"}, // too short to be Excel's
	// Excel damage.
	{"9.19876E+11", "IN", "", "looks like a number mangled by Excel scientific notation (9.19876E+11); format the column as text and export again"},
	{"9.19876543210E+11", "IN", "", "mangled by Excel scientific notation (9.19876543210E+11)"},
	{"9,19876E+11", "IN", "", "mangled by Excel scientific notation"},
	{"9.19876e11", "IN", "", "mangled by Excel scientific notation"},
	{"919876543210.0", "IN", "", "mangled by Excel number formatting (919876543210.0); format the column as text"},
	{"919876543210,0", "IN", "", "mangled by Excel number formatting"},
	// United States.
	{"(415) 555-2671", "US", "+14155552671", ""},
	{"415-555-2671", "US", "+14155552671", ""},
	{"415.555.2671", "US", "+14155552671", ""},
	{"1 415 555 2671", "US", "+14155552671", ""},
	{"1-800-FLOWERS", "US", "+18003569377", ""}, // vanity letters are real
	{"555-2671", "US", "", "invalid number for region US"},
	{"555-FLOWERS", "US", "", "invalid number for region US"},
	{"ABCDEFGHIJ", "US", "", "not a phone number"},
	{"hello world", "US", "", "not a phone number"},
	{"+1 415 555 2671 ext. 3", "US", "", "has an extension (3)"},
	{"+44 7911 123456", "US", "+447911123456", ""},
	{"+91 98765 43210", "US", "+919876543210", ""},
	// Great Britain.
	{"020 7946 0958", "GB", "+442079460958", ""},
	{"+44 (0)20 7946 0958", "GB", "+442079460958", ""},
	{"07911 123456", "GB", "+447911123456", ""},
	{"07700 900123", "GB", "", "invalid number for region GB"}, // Ofcom's drama range
	{"020 7946 095", "GB", "", "invalid number for region GB"},
	// Germany.
	{"030 901820", "DE", "+4930901820", ""},
	{"+49 (0)30 901820", "DE", "+4930901820", ""},
	{"0151 23456789", "DE", "+4915123456789", ""},
	{"0044 20 7946 0958", "DE", "+442079460958", ""},
	// No default region: only +numbers.
	{"+919876543210", "", "+919876543210", ""},
	{"9876543210", "", "", "no country code"},
	{"+999123456", "", "", "unknown country code"}, // it has a +: the code is unknown, not missing
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range phoneCases {
		e164, digits, err := NormalizePhone(tc.raw, tc.region)
		if tc.err == "" {
			if err != nil || e164 != tc.e164 {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, e164, err, tc.e164)
				continue
			}
			if d, _ := PhoneDigits(e164); d != digits || PhoneFromDigits(digits) != e164 {
				t.Errorf("NormalizePhone(%q, %q): digits %d do not match %q", tc.raw, tc.region, digits, e164)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || e164 != "" || digits != 0 {
			t.Errorf("NormalizePhone(%q, %q) = %q, %d, %v; want error containing %q", tc.raw, tc.region, e164, digits, err, tc.err)
		}
		if errors.Is(err, ErrBadRegion) {
			t.Errorf("NormalizePhone(%q, %q): %v is not a region problem", tc.raw, tc.region, err)
		}
	}
}

func TestNormalizePhoneBadRegion(t *testing.T) {
	for _, region := range []string{"ZZ", "gbr", "1", "X", "UK", "I N"} {
		_, _, err := NormalizePhone("+919876543210", region)
		if !errors.Is(err, ErrBadRegion) {
			t.Errorf("region %q: %v, want ErrBadRegion", region, err)
		}
		if _, err := ValidRegion(region); !errors.Is(err, ErrBadRegion) || !strings.Contains(err.Error(), "2-letter") {
			t.Errorf("ValidRegion(%q): %v", region, err)
		}
	}
	for in, want := range map[string]string{"in": "IN", " gb ": "GB", "DE": "DE", "": ""} {
		if got, err := ValidRegion(in); got != want || err != nil {
			t.Errorf("ValidRegion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestPhoneDigits(t *testing.T) {
	for _, e := range []string{"+919876543210", "+14155552671", "+4930901820", "+390612345678", "+999999999999999", "+1"} {
		d, err := PhoneDigits(e)
		if err != nil || PhoneFromDigits(d) != e {
			t.Errorf("%q -> %d, %v -> %q", e, d, err, PhoneFromDigits(d))
		}
	}
	if d, _ := PhoneDigits("+919876543210"); d != 919876543210 {
		t.Errorf("digits %d", d)
	}
	for _, bad := range []string{"", "+", "919876543210", "+09876", "+91 98765", "+1234567890123456", "+12a4"} {
		if _, err := PhoneDigits(bad); err == nil {
			t.Errorf("PhoneDigits(%q) accepted", bad)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+919876543210": "+********3210",
		"+14155552671":  "+*******2671",
		"+4930901820":   "+******1820",
		"+1234":         "+1234",
		"+12":           "+12",
		"":              "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhoneTimezones(t *testing.T) {
	for in, want := range map[string][]string{
		"+919876543210": {"Asia/Calcutta"},
		"+14155552671":  {"America/Los_Angeles"},
		"+442079460958": {"Europe/London"},
		"+4930901820":   {"Europe/Berlin"},
		"+999123456":    nil, // Etc/Unknown dropped
		"not a number":  nil,
	} {
		got := PhoneTimezones(in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("PhoneTimezones(%q) = %q, want %q", in, got, want)
		}
	}
	// Toll-free +1 spans the continent; every zone must load.
	if z := PhoneTimezones("+18003569377"); len(z) < 5 {
		t.Errorf("+1 800: %q", z)
	}
	// The result is the caller's: changing it must not poison the cache.
	z := PhoneTimezones("+919876543210")
	z[0] = "Mars/Olympus"
	if z := PhoneTimezones("+919876543210"); z[0] != "Asia/Calcutta" {
		t.Errorf("cache modified: %q", z)
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	raws := []string{"+919876543210", "09876543211", "98765 43212", "+44 20 7946 0958", "9.19876E+11", "abc"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		NormalizePhone(raws[i%len(raws)], "IN")
		i++
	}
}

func BenchmarkPhoneTimezones(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		PhoneTimezones("+919876543210")
	}
}

// BenchmarkPhonenumbersBaseline is the bare library cost NormalizePhone
// should stay close to.
func BenchmarkPhonenumbersBaseline(b *testing.B) {
	raws := []string{"+919876543210", "09876543211", "98765 43212", "+44 20 7946 0958"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n, err := phonenumbers.Parse(raws[i%len(raws)], "IN")
		if err == nil && phonenumbers.IsValidNumber(n) {
			_ = phonenumbers.Format(n, phonenumbers.E164)
		}
		i++
	}
}

func BenchmarkNormalizePhoneValid(b *testing.B) {
	raws := []string{"+919876543210", "09876543211", "98765 43212", "+44 20 7946 0958"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		NormalizePhone(raws[i%len(raws)], "IN")
		i++
	}
}
