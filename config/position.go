package config

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// position is a 1-based line and column in the config file.
type position struct{ line, col int }

// positions maps key paths as this package prints them ("agents[1].token",
// "carriers.sim.ring_min", "campaigns[0].retryPolicy.retryOn[2]") to where
// their value starts, so errors found after decoding can still point into
// the file. Tables map to their header.
type positions struct {
	at     map[string]position
	keys   map[position]string // where a key (or header) starts -> its path
	arrays map[string]int      // array-table path -> elements seen so far
	p      *unstable.Parser
}

// indexPositions walks the document's syntax tree. It is only called on a
// document the decoder has already accepted, so a parse error just leaves
// the index partial.
func indexPositions(data []byte) *positions {
	ix := &positions{at: map[string]position{}, keys: map[position]string{}, arrays: map[string]int{}, p: &unstable.Parser{}}
	ix.p.Reset(data)
	table := ""
	for ix.p.NextExpression() {
		e := ix.p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = ix.header(e)
		case unstable.KeyValue:
			ix.keyValue(table, e)
		}
	}
	return ix
}

func (ix *positions) start(n *unstable.Node) position {
	s := ix.p.Shape(n.Raw).Start
	return position{s.Line, s.Column}
}

// header resolves a [table] or [[array.table]] header to its path. Earlier
// parts naming an array table refer to its latest element, as in TOML.
func (ix *positions) header(e *unstable.Node) string {
	var parts []*unstable.Node
	for it := e.Key(); it.Next(); {
		parts = append(parts, it.Node())
	}
	if len(parts) == 0 {
		return ""
	}
	path := ""
	for i, k := range parts {
		path = joinKey(path, string(k.Data))
		n, isArray := ix.arrays[path]
		switch {
		case i == len(parts)-1 && e.Kind == unstable.ArrayTable:
			ix.arrays[path] = n + 1
			path = fmt.Sprintf("%s[%d]", path, n)
		case isArray:
			path = fmt.Sprintf("%s[%d]", path, n-1)
		}
	}
	ix.record(path, ix.start(parts[0]))
	ix.keys[ix.start(parts[0])] = path
	return path
}

func (ix *positions) keyValue(table string, kv *unstable.Node) {
	path := table
	first := true
	for it := kv.Key(); it.Next(); {
		k := it.Node()
		path = joinKey(path, string(k.Data))
		if first {
			ix.keys[ix.start(k)] = path
			first = false
		}
	}
	ix.value(path, kv.Value())
}

func (ix *positions) value(path string, v *unstable.Node) {
	ix.record(path, ix.start(v))
	switch v.Kind {
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			ix.keyValue(path, it.Node())
		}
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); i++ {
			ix.value(fmt.Sprintf("%s[%d]", path, i), it.Node())
		}
	}
}

func (ix *positions) record(path string, p position) {
	if _, dup := ix.at[path]; !dup {
		ix.at[path] = p
	}
}

// lookup returns the position of path, or of its nearest ancestor present in
// the file (a missing key is reported at its table's header).
func (ix *positions) lookup(path string) (position, bool) {
	if ix == nil {
		return position{}, false
	}
	for path != "" {
		if p, ok := ix.at[path]; ok {
			return p, true
		}
		path = parentKey(path)
	}
	return position{}, false
}

// keyAt returns the path of the key (or table header) starting at p.
func (ix *positions) keyAt(p position) (string, bool) {
	if ix == nil {
		return "", false
	}
	k, ok := ix.keys[p]
	return k, ok
}

// valueKeyAt returns the path whose value starts at p.
func (ix *positions) valueKeyAt(p position) (string, bool) {
	if ix == nil {
		return "", false
	}
	for k, v := range ix.at {
		if v == p {
			return k, true
		}
	}
	return "", false
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// parentKey drops the last ".key" or "[i]" from path.
func parentKey(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
