package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Error is one problem in a config file, located as precisely as known.
type Error struct {
	File   string
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Key    string // key path such as "agents[0].token"; may be empty
	Msg    string
}

// Error formats as "file:line:column: key: message", leaving out what is
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Option changes how a config is loaded.
type Option func(*options)

type options struct {
	lookup  LookupEnv
	baseDir string
	source  string
	builtin bool
}

// WithLookupEnv sets where ${NAME} references are looked up (default
// os.LookupEnv), so tests need not touch the process environment.
func WithLookupEnv(f LookupEnv) Option {
	return func(o *options) {
		if f != nil {
			o.lookup = f
		}
	}
}

// WithBaseDir sets the directory relative paths (database, log_file,
// dnc.file) are resolved against. Load sets it to the file's directory;
// Parse leaves relative paths as written unless given.
func WithBaseDir(dir string) Option {
	return func(o *options) { o.baseDir = dir }
}

// Load reads, expands and validates the config file at path.
func Load(path string, opts ...Option) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, append([]Option{WithBaseDir(filepath.Dir(path))}, opts...)...)
}

// Default parses the built-in default config (main embeds example.toml and
// passes it here). It needs no environment variable.
func Default(data []byte, opts ...Option) (*Config, error) {
	opts = append(opts, func(o *options) {
		o.source = BuiltinSource
		o.builtin = true
		o.baseDir = ""
	})
	return Parse(data, "example.toml", opts...)
}

// Resolve picks the config to use: the -config flag's path when given, else
// dialdeck.toml in cwd when it exists, else the built-in default (builtin
// true, path empty).
func Resolve(flagPath, cwd string) (path string, builtin bool) {
	if flagPath != "" {
		return flagPath, false
	}
	p := filepath.Join(cwd, DefaultFileName)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, false
	}
	return "", true
}

// Parse decodes, expands and validates a TOML document. name is used in
// error messages and as Config.Source.
func Parse(data []byte, name string, opts ...Option) (*Config, error) {
	o := options{lookup: os.LookupEnv, source: name}
	for _, opt := range opts {
		opt(&o)
	}

	var fc fileConfig
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, decodeError(err, data, name)
	}

	pos := indexPositions(data)
	// The trunks' passwords as written, to name the variable of one that
	// expands to nothing.
	rawPasswords := make([]string, len(fc.Carriers.SIP))
	for i, t := range fc.Carriers.SIP {
		rawPasswords[i] = t.Password
	}
	var errs []*Error
	for _, m := range expandAll(&fc, o.lookup) {
		errs = append(errs, newError(name, pos, m.path,
			fmt.Sprintf("environment variable %s is not set", m.name)))
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}

	v := validator{file: name, pos: pos, baseDir: o.baseDir, rawSIPPasswords: rawPasswords}
	cfg := v.build(&fc)
	if len(v.errs) > 0 {
		return nil, joinErrors(v.errs)
	}
	cfg.Source = o.source
	cfg.Builtin = o.builtin
	return cfg, nil
}

// joinErrors reports every problem, one per line, in file order.
func joinErrors(errs []*Error) error {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

// newError locates a problem at key path (or its nearest ancestor in the file).
func newError(file string, pos *positions, path, msg string) *Error {
	e := &Error{File: file, Key: path, Msg: msg}
	if p, ok := pos.lookup(path); ok {
		e.Line, e.Column = p.line, p.col
	}
	return e
}

// decodeError turns go-toml's syntax, type and unknown-key errors into
// Errors with the file position and the key path.
func decodeError(err error, data []byte, file string) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		pos := indexPositions(data)
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			de := &strict.Errors[i]
			line, col := de.Position()
			key, ok := pos.keyAt(position{line, col})
			if !ok {
				key = strings.Join(de.Key(), ".")
			}
			errs = append(errs, &Error{File: file, Line: line, Column: col, Key: key, Msg: unknownKeyMessage(key)})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		e := &Error{File: file, Line: line, Column: col, Msg: decodeMessage(de)}
		if k := de.Key(); len(k) > 0 {
			// Type errors carry the key; name its array element when we can.
			e.Key = strings.Join(k, ".")
			if p, ok := indexPositions(data).valueKeyAt(position{line, col}); ok {
				e.Key = p
			}
		}
		return e
	}
	return fmt.Errorf("%s: %w", file, err)
}

var typeMismatch = regexp.MustCompile(`cannot decode TOML (\w+) into .* of type (\S+)`)

// decodeMessage rewrites go-toml's messages, which name Go types, in terms a
// config author knows.
func decodeMessage(de *toml.DecodeError) string {
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("expected %s, found a TOML %s", friendlyType(m[2]), m[1])
	}
	return msg
}

func friendlyType(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasSuffix(t, "durationText"):
		return `a duration string such as "15s" or "10m"`
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "config.file"):
		return "a table"
	}
	return t
}
