package config

import (
	"github.com/dialdeck/dialdeck/engine"

	"fmt"
	"reflect"
	"strings"
)

// unknownKeyMessage explains an unknown key: the likely intended key when
// there is a close one (a typo), else the keys allowed in that table.
func unknownKeyMessage(path string) string {
	parent, key := parentKey(path), lastKey(path)
	allowed := keysAt(reflect.TypeFor[fileConfig](), parent)
	if len(allowed) == 0 {
		return "unknown key"
	}
	best, bestDist := "", 3 // more than 2 edits is not a typo
	for _, k := range allowed {
		if d := engine.EditDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return "unknown key (allowed here: " + strings.Join(allowed, ", ") + ")"
}

// keysAt lists the TOML keys of the table at path in the file structs.
func keysAt(t reflect.Type, path string) []string {
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "[") // agents[0] -> agents
		t = derefStruct(t)
		if t.Kind() != reflect.Struct {
			return nil
		}
		found := false
		for i := range t.NumField() {
			if tomlName(t.Field(i)) == name {
				t, found = t.Field(i).Type, true
				break
			}
		}
		if !found {
			return nil
		}
	}
	t = derefStruct(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, tomlName(t.Field(i)))
	}
	return keys
}

// derefStruct strips pointers and slices to reach a table's struct type.
func derefStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}
