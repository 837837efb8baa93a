package config

import (
	"fmt"
	"reflect"
	"strings"
)

// LookupEnv returns the value of an environment variable and whether it is
// set, like os.LookupEnv.
type LookupEnv func(name string) (string, bool)

// unsetVar is a ${NAME} reference to a variable that is not set.
type unsetVar struct {
	path string // key path of the string value
	name string
}

// expandAll replaces ${NAME} in every string of the decoded document. It runs
// on decoded values rather than on the raw text so that TOML positions and
// quoting stay intact; the key path of each string is kept for errors.
func expandAll(fc *fileConfig, lookup LookupEnv) []unsetVar {
	var missing []unsetVar
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if v.Kind() == reflect.Interface {
				// Only a string held in an interface (scheduledStartAt) can
				// be expanded; replace it as a whole.
				if s, ok := v.Interface().(string); ok && v.CanSet() {
					v.Set(reflect.ValueOf(expandString(s, path, lookup, &missing)))
				}
				return
			}
			walk(v.Elem(), path)
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
				walk(v.Field(i), joinKey(path, name))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.String:
			v.SetString(expandString(v.String(), path, lookup, &missing))
		}
	}
	walk(reflect.ValueOf(fc).Elem(), "")
	return missing
}

// expandString expands ${NAME} from lookup. "$$" is an escaped "$" (write
// "$${NAME}" for a literal "${NAME}"); a "$" not followed by "{" or "$", or
// a "${" without a valid name and closing brace, is kept as written, so
// prices like "$20" in prompts need no escaping.
func expandString(s, path string, lookup LookupEnv, missing *[]unsetVar) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 || !validEnvName(s[i+2:i+2+end]) {
				break
			}
			name := s[i+2 : i+2+end]
			val, ok := lookup(name)
			if !ok {
				*missing = append(*missing, unsetVar{path: path, name: name})
			}
			b.WriteString(val)
			i += 2 + end
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
