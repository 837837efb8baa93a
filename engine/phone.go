package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// ErrBadRegion is wrapped by the error for a default region phonenumbers
// does not know.
var ErrBadRegion = errors.New("unknown region")

// Reasons for a rejected phone, worded for the import report.
var (
	errEmptyPhone = errors.New("empty phone")
	errNotPhone   = errors.New("not a phone number")
	errTooShort   = errors.New("too short")
	errTooLong    = errors.New("too long")
	errNoCountry  = errors.New("no country code: write the number as +<country code><number> or set a default region")
)

// ValidRegion upper-cases region and checks that it is a 2-letter ISO code
// phonenumbers has metadata for. "" is allowed: then only numbers written
// with a leading '+' are accepted.
func ValidRegion(region string) (string, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		return "", nil
	}
	if len(region) != 2 || !phonenumbers.GetSupportedRegions()[region] {
		return "", fmt.Errorf("%w %q: want a 2-letter ISO country code such as IN, US, GB", ErrBadRegion, region)
	}
	return region, nil
}

// NormalizePhone parses raw as written in a lead list, with region as the
// default country for numbers without a '+', and returns it in E.164 form
// and as its digits. Only numbers phonenumbers considers valid (not merely
// possible) are accepted. Errors are short reasons fit for an import report.
func NormalizePhone(raw, region string) (e164 string, digits uint64, err error) {
	region, err = ValidRegion(region)
	if err != nil {
		return "", 0, err
	}
	s := strings.TrimSpace(raw)
	// A leading apostrophe is how spreadsheet users force text; some
	// exports keep it.
	s = strings.TrimPrefix(s, "'")
	if s == "" {
		return "", 0, errEmptyPhone
	}
	// Before parsing: phonenumbers would happily read digits out of
	// "9.19876E+11" and may even call the result valid.
	if kind := excelMangled(s); kind != "" {
		return "", 0, fmt.Errorf("looks like a number mangled by Excel %s (%s); format the column as text and export again", kind, s)
	}
	intl := s[0] == '+'
	if region == "" && !intl {
		return "", 0, errNoCountry
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		switch {
		case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
			return "", 0, errTooShort
		case errors.Is(err, phonenumbers.ErrNumTooLong):
			return "", 0, errTooLong
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
			// Without a region only +numbers get here: the number has a
			// country code, just not a known one.
			return "", 0, errors.New("unknown country code")
		default:
			return "", 0, errNotPhone
		}
	}
	if !phonenumbers.IsValidNumber(num) {
		// Only on the failure path: say why, when the length tells.
		where := ""
		if !intl {
			where = " for region " + region
		}
		switch phonenumbers.IsPossibleNumberWithReason(num) {
		case phonenumbers.TOO_SHORT:
			return "", 0, errors.New("too short" + where)
		case phonenumbers.TOO_LONG:
			return "", 0, errors.New("too long" + where)
		case phonenumbers.INVALID_COUNTRY_CODE:
			return "", 0, errors.New("unknown country code")
		}
		return "", 0, errors.New("invalid number" + where)
	}
	if ext := num.GetExtension(); ext != "" {
		return "", 0, fmt.Errorf("has an extension (%s): extensions cannot be dialed", ext)
	}
	e164 = phonenumbers.Format(num, phonenumbers.E164)
	digits, err = PhoneDigits(e164)
	if err != nil { // cannot happen for a valid number; be loud if it does
		return "", 0, fmt.Errorf("normalized %q to %q: %w", raw, e164, err)
	}
	return e164, digits, nil
}

// excelMangled recognises what Excel does to a long number in a column not
// formatted as text: "9.19876E+11" (scientific notation, digits lost) or
// "919876543210.0" (the + or leading 0 lost). It returns a description of
// the damage, or "".
func excelMangled(s string) string {
	i, n := 0, len(s)
	digits := func() int {
		j := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	lead := digits()
	if lead == 0 || i == n {
		return ""
	}
	// Scientific: d[.ddd]E[+]dd ("," as the decimal mark in European locales).
	if lead == 1 {
		j := i
		if s[i] == '.' || s[i] == ',' {
			i++
			if digits() == 0 {
				i = j
			}
		}
		if i < n && (s[i] == 'E' || s[i] == 'e') {
			i++
			if i < n && s[i] == '+' {
				i++
			}
			if digits() > 0 && i == n {
				return "scientific notation"
			}
		}
		i = j
	}
	// Decimal: dddddd.0 (or ,0); short ones could be real punctuation.
	if lead >= 6 && (s[i] == '.' || s[i] == ',') {
		i++
		z := i
		for i < n && s[i] == '0' {
			i++
		}
		if i > z && i == n {
			return "number formatting"
		}
	}
	return ""
}

// PhoneDigits returns the digits of an E.164 number ("+919876543210") as an
// integer. E.164 has at most 15 digits and a country code never starts with
// 0, so the conversion is lossless both ways.
func PhoneDigits(e164 string) (uint64, error) {
	if len(e164) < 2 || len(e164) > 16 || e164[0] != '+' || e164[1] == '0' {
		return 0, fmt.Errorf("%q is not an E.164 number", e164)
	}
	var d uint64
	for i := 1; i < len(e164); i++ {
		b := e164[i]
		if b < '0' || b > '9' {
			return 0, fmt.Errorf("%q is not an E.164 number", e164)
		}
		d = d*10 + uint64(b-'0')
	}
	return d, nil
}

// PhoneFromDigits is the inverse of PhoneDigits.
func PhoneFromDigits(d uint64) string {
	var b [21]byte
	b[0] = '+'
	return string(strconv.AppendUint(b[:1], d, 10))
}

// MaskPhone hides all digits but the last 4 ("+919876543210" ->
// "+********3210"), for screens and logs. Other characters are kept.
func MaskPhone(e164 string) string {
	n := 0
	for i := 0; i < len(e164); i++ {
		if e164[i] >= '0' && e164[i] <= '9' {
			n++
		}
	}
	b := []byte(e164)
	for i := range b {
		if n <= 4 {
			break
		}
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '*'
			n--
		}
	}
	return string(b)
}

// tzCache maps the first element of a zone list held in phonenumbers'
// (never modified) prefix table to that list filtered to loadable zones.
// time.LoadLocation reads tzdata on every call, far too slow per lead.
var tzCache sync.Map // *string -> []string

// PhoneTimezones returns the candidate time zones of an E.164 number, by its
// prefix (no re-parse), without "Etc/Unknown" and zones this system's tzdata
// cannot load. It returns nil when none is known. The slice is the caller's.
func PhoneTimezones(e164 string) []string {
	if _, err := PhoneDigits(e164); err != nil {
		return nil
	}
	tzs, err := phonenumbers.GetTimezonesForPrefix(e164)
	// The unknown answer is a fresh slice each time: never a cache key.
	if err != nil || len(tzs) == 0 || (len(tzs) == 1 && tzs[0] == phonenumbers.UNKNOWN_TIMEZONE) {
		return nil
	}
	key := &tzs[0]
	v, ok := tzCache.Load(key)
	if !ok {
		var good []string
		for _, z := range tzs {
			if z == phonenumbers.UNKNOWN_TIMEZONE || z == "" {
				continue
			}
			if _, err := time.LoadLocation(z); err == nil {
				good = append(good, z)
			}
		}
		v, _ = tzCache.LoadOrStore(key, good)
	}
	good := v.([]string)
	if len(good) == 0 {
		return nil
	}
	return append([]string(nil), good...)
}
