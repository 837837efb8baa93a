package engine

import (
	"slices"
	"strings"
	"testing"
)

// FuzzRender: Render and TemplateVariables never panic; a {{name}} whose
// name is in vars never survives into the output; every name reported
// missing is one TemplateVariables lists; the variables are sorted and
// distinct.
func FuzzRender(f *testing.F) {
	f.Add("Hi {{first_name}}, calling from {{ company }}.", "first_name", "Arjun")
	f.Add("{{a}}{{b}}{{", "a", "x")
	f.Add("{{{{x}}}}", "x", "y")
	f.Add("}}{{ }}{{\t}}", " ", "v")
	f.Add("{{first_name}} {{first_name}} {{ first_name}}", "first_name", "")
	f.Add("no variables at all", "phone", "+14155550100")
	f.Add("{{x}{{y}}}", "y", "}")
	f.Fuzz(func(t *testing.T, tmpl, name, value string) {
		// A value holding braces could assemble a {{name}} out of text
		// around it (Render does not re-expand values by design), so keep
		// braces out of values for the survival property.
		value = strings.NewReplacer("{", "(", "}", ")").Replace(value)
		vars := map[string]string{name: value, VarPhone: "+14155550100"}
		out, missing := Render(tmpl, vars)
		names := TemplateVariables(tmpl)
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Fatalf("TemplateVariables(%q) = %q: not sorted and distinct", tmpl, names)
		}
		for _, m := range missing {
			if _, ok := vars[m]; ok {
				t.Fatalf("%q reported missing but is in vars", m)
			}
			if m != "" && !slices.Contains(names, m) {
				t.Fatalf("%q reported missing but TemplateVariables(%q) = %q", m, tmpl, names)
			}
		}
		for n := range vars {
			if n == "" || strings.Contains(n, "{") || strings.Contains(n, "}") {
				continue
			}
			if strings.Contains(out, "{{"+n+"}}") {
				t.Fatalf("Render(%q) with %q=%q left {{%s}} in %q", tmpl, n, value, n, out)
			}
		}
	})
}
