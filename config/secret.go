package config

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret shows instead of its value.
const redacted = "[redacted]"

// Secret holds a credential (an agent token, the webhook signing secret).
// Its value is unexported so that fmt, slog and encoders can only reach it
// through the methods below, which all redact; call Reveal where the value is
// actually needed (an Authorization header, an HMAC key).
type Secret struct {
	value string
}

// NewSecret wraps a credential.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret's value. Never log or print it.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.value != "" }

// String redacts the value.
func (s Secret) String() string { return redacted }

// GoString redacts the value for %#v.
func (s Secret) GoString() string { return `config.Secret("` + redacted + `")` }

// Format redacts the value for every verb, including %x and %q, which would
// otherwise bypass String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// LogValue redacts the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText redacts the value in JSON, TOML and other text encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
