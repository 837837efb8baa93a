package engine

import (
	"sort"
	"strings"
)

// Built-in template variables, available in every prompt and welcome message.
const (
	VarPhone        = "phone"
	VarCampaignName = "campaign_name"
	VarAttempt      = "attempt"
)

var builtinVars = map[string]bool{VarPhone: true, VarCampaignName: true, VarAttempt: true}

// Render replaces every {{ name }} in tmpl (spaces inside the braces are
// allowed) with vars[name]. Unknown names render as empty text, because an
// agent reading "{{company}}" aloud is worse than a gap; they are returned in
// missing so callers can warn.
func Render(tmpl string, vars map[string]string) (out string, missing []string) {
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		name := strings.TrimSpace(rest[i+2 : i+2+j])
		if v, ok := vars[name]; ok {
			b.WriteString(v)
		} else {
			missing = append(missing, name)
		}
		rest = rest[i+2+j+2:]
	}
	return b.String(), missing
}

// TemplateVariables lists the distinct variable names a template uses, sorted.
func TemplateVariables(tmpl string) []string {
	seen := map[string]bool{}
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			break
		}
		if name := strings.TrimSpace(rest[i+2 : i+2+j]); name != "" {
			seen[name] = true
		}
		rest = rest[i+2+j+2:]
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
