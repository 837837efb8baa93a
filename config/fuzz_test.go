package config

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics on arbitrary bytes, and either returns a
// config or an error whose text is non-empty (each *Error names a message).
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../example.toml", "../testdata/e2e.toml"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "\n[engine]\ntick_interval = \"soon\"\n"))
	f.Add([]byte("[[agents]]\nid = 3\n"))
	f.Add([]byte("token = \"${UNSET_VAR}\"\n"))
	f.Add([]byte(strings.Replace(minimal, `carrier = "sim"`, `carrier = "sip:t1"`, 1) + "[[carriers.sip]]\nid = \"t1\"\ntrunk = \"[::1]:5060\"\nrtp_port_min = 20001\nrtp_port_max = 20003\nmax_concurrent = 1\n"))
	f.Add([]byte("[x\n"))
	f.Add([]byte{0xff, 0x00, '='})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.toml", WithLookupEnv(noEnv), WithBaseDir(dir))
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("empty error for %q", data)
			}
			if cfg != nil {
				t.Fatalf("both a config and an error for %q", data)
			}
			return
		}
		if cfg == nil {
			t.Fatalf("no config and no error for %q", data)
		}
		if cfg.Source != "fuzz.toml" {
			t.Fatalf("source %q", cfg.Source)
		}
	})
}
