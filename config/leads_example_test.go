package config

import (
	"encoding/csv"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// The demo pairs example.toml with examples/leads.csv: every {{variable}} the
// agent speaks must be a column, and every phone must import as a distinct,
// valid number in the campaign's default region.
func TestExampleLeadsFitExampleConfig(t *testing.T) {
	cfg := loadExample(t)
	f, err := os.Open("../examples/leads.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := rows[0]
	if header[0] != "phone" {
		t.Fatalf("first column %q, want phone", header[0])
	}
	a := cfg.Agents[0]
	for _, m := range regexp.MustCompile(`\{\{(\w+)\}\}`).FindAllStringSubmatch(a.Prompt+a.WelcomeMessage, -1) {
		if !slices.Contains(header, m[1]) {
			t.Errorf("agent uses {{%s}}, not a column of leads.csv %v", m[1], header)
		}
	}
	if len(rows)-1 != 20 {
		t.Errorf("%d leads, want 20", len(rows)-1)
	}
	region := cfg.Campaigns[0].DefaultRegion
	seen := map[string]bool{}
	for i, row := range rows[1:] {
		n, err := phonenumbers.Parse(row[0], region)
		if err != nil || !phonenumbers.IsValidNumber(n) {
			t.Errorf("row %d: %q is not a valid %s number (%v)", i+2, row[0], region, err)
			continue
		}
		e := phonenumbers.Format(n, phonenumbers.E164)
		if seen[e] {
			t.Errorf("row %d: %s is a duplicate", i+2, e)
		}
		seen[e] = true
	}
}
