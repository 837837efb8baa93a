package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readSpec reads the spec's create body (camelCase JSON) from a file or
// stdin ("-"), refusing unknown fields so a typo is not silently dropped.
func readSpec(g *globals, path string) (engine.CampaignSpec, error) {
	var s engine.CampaignSpec
	if path == "" {
		return s, usagef("give the campaign body with -f body.json (or -f - for stdin)")
	}
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(g.stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return s, fmt.Errorf("read campaign body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var se *json.SyntaxError
		if ok := asSyntax(err, &se); ok {
			line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
			return s, fmt.Errorf("campaign body %s: line %d: %w", path, line, err)
		}
		return s, fmt.Errorf("campaign body %s: %w", path, err)
	}
	return s, nil
}

func asSyntax(err error, se **json.SyntaxError) bool {
	e, ok := err.(*json.SyntaxError)
	if ok {
		*se = e
	}
	return ok
}

func cmdCampaignCreate(g *globals, args []string) error {
	fs := flag.NewFlagSet("campaign create", flag.ContinueOnError)
	file := fs.String("f", "", "campaign body as JSON (the spec's create body); - reads stdin")
	asJSON := fs.Bool("json", false, "print the created campaign as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("campaign create takes no arguments, only -f body.json")
	}
	spec, err := readSpec(g, *file)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		c, err := a.eng.CreateCampaign(spec)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.stdout, c)
		}
		fmt.Fprintln(g.stdout, c.ID)
		return nil
	})
}

func cmdCampaignEdit(g *globals, args []string) error {
	fs := flag.NewFlagSet("campaign edit", flag.ContinueOnError)
	file := fs.String("f", "", "new campaign body as JSON; - reads stdin")
	asJSON := fs.Bool("json", false, "print the campaign as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: dialdeck campaign edit <campaign> -f body.json")
	}
	spec, err := readSpec(g, *file)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		c, err := a.eng.EditCampaign(pos[0], spec)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.stdout, c)
		}
		fmt.Fprintf(g.stdout, "campaign %d %q updated (%s)\n", c.ID, c.Name, c.State)
		return nil
	})
}

// oneCampaign parses "<campaign>" plus a --json flag.
func oneCampaign(name string, args []string, extra func(fs *flag.FlagSet)) (string, bool, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if extra != nil {
		extra(fs)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", false, err
	}
	if len(pos) != 1 {
		return "", false, usagef("usage: dialdeck %s <campaign> (an id or the exact name; quote names with spaces)", name)
	}
	return pos[0], *asJSON, nil
}

func cmdCampaignList(g *globals, args []string) error {
	fs := flag.NewFlagSet("campaign list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("campaign list takes no arguments")
	}
	return withApp(g, func(a *app) error {
		camps, err := a.eng.Campaigns()
		if err != nil {
			return err
		}
		type item struct {
			*engine.Campaign
			Report *engine.Report `json:"report"`
		}
		items := make([]item, 0, len(camps))
		for _, c := range camps {
			r, err := a.eng.Report(fmt.Sprint(c.ID))
			if err != nil {
				return err
			}
			items = append(items, item{c, r})
		}
		if *asJSON {
			return writeJSON(g.stdout, items)
		}
		if len(items) == 0 {
			fmt.Fprintln(g.stdout, "no campaigns yet: dialdeck campaign create -f body.json")
			return nil
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSTATE\tLEADS\tDONE\tACTIVE\tWINDOW")
		for _, it := range items {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%.0f%%\t%d/%d\t%s\n", it.ID, it.Name, it.State, it.Report.Leads,
				it.Report.Progress*100, it.Report.Active, it.MaxConcurrent, windowText(it.Report))
		}
		return tw.Flush()
	})
}

func windowText(r *engine.Report) string {
	state := "closed"
	if r.WindowOpen {
		state = "open"
	}
	if r.WindowChangeAt == nil {
		return state
	}
	verb := "opens"
	if r.WindowOpen {
		verb = "closes"
	}
	return fmt.Sprintf("%s, %s %s", state, verb, r.WindowChangeAt.Local().Format("Mon 15:04"))
}

func cmdCampaignShow(g *globals, args []string) error {
	ref, asJSON, err := oneCampaign("campaign show", args, nil)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		c, err := a.eng.Campaign(ref)
		if err != nil {
			return err
		}
		r, err := a.eng.Report(fmt.Sprint(c.ID))
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(g.stdout, struct {
				*engine.Campaign
				Report *engine.Report `json:"report"`
			}{c, r})
		}
		w := g.stdout
		fmt.Fprintf(w, "Campaign %d: %s\n", c.ID, c.Name)
		fmt.Fprintf(w, "  state          %s%s\n", c.State, suffix(c.EndReason))
		fmt.Fprintf(w, "  agent          %s\n  number         %s\n  maxConcurrent  %d\n", c.AgentID, c.PhoneNumberID, c.MaxConcurrent)
		fmt.Fprintf(w, "  schedule       %s (window %s)\n", r.Schedule, windowText(r))
		if c.Schedule.LeadLocalTime {
			fmt.Fprintln(w, "  lead local     each lead's own time zone must be inside the window too")
		}
		fmt.Fprintf(w, "  retry          up to %d attempts, %d min backoff, on %s\n", c.RetryPolicy.MaxAttempts, c.RetryPolicy.BackoffMinutes, orNone(strings.Join(c.RetryPolicy.RetryOn, ", ")))
		fmt.Fprintf(w, "  webhookUrl     %s\n", orNone(c.WebhookURL))
		if c.ScheduledStartAt != nil {
			fmt.Fprintf(w, "  scheduled at   %s\n", c.ScheduledStartAt.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "  defaultRegion  %s\n", orNone(c.DefaultRegion))
		if len(c.Columns) > 0 {
			fmt.Fprintf(w, "  columns        %s (phone: %s)\n", strings.Join(c.Columns, ", "), c.Columns[c.PhoneColumn])
		}
		fmt.Fprintf(w, "  allowed now    %s\n", allowedText(c.State))
		fmt.Fprintln(w)
		printReport(w, r)
		return nil
	})
}

func allowedText(s engine.CampaignState) string {
	var names []string
	for _, a := range engine.Allowed(s) {
		names = append(names, string(a))
	}
	return strings.Join(append(names, "report", "export"), ", ")
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func cmdCampaignDelete(g *globals, args []string) error {
	ref, _, err := oneCampaign("campaign delete", args, nil)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		if err := a.eng.DeleteCampaign(ref); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "campaign %s deleted\n", ref)
		return nil
	})
}

func cmdLifecycle(action string) func(g *globals, args []string) error {
	return func(g *globals, args []string) error {
		ref, _, err := oneCampaign("campaign "+action, args, nil)
		if err != nil {
			return err
		}
		return withApp(g, func(a *app) error {
			var err error
			switch action {
			case "start":
				err = a.eng.Start(ref)
			case "pause":
				err = a.eng.Pause(ref)
			case "resume":
				err = a.eng.Resume(ref)
			case "stop":
				err = a.eng.Stop(ref)
			}
			if err != nil {
				return err
			}
			c, err := a.eng.Campaign(ref)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "campaign %d %q is now %s\n", c.ID, c.Name, c.State)
			if action == "start" || action == "resume" {
				fmt.Fprintln(g.stdout, "calls are placed while the engine runs: dialdeck run --headless (or the TUI)")
			}
			return nil
		})
	}
}

func cmdCampaignSchedule(g *globals, args []string) error {
	var at string
	ref, _, err := oneCampaign("campaign schedule", args, func(fs *flag.FlagSet) {
		fs.StringVar(&at, "at", "", "start time, RFC 3339 (e.g. 2026-12-01T10:00:00+05:30); default: the campaign's scheduledStartAt")
	})
	if err != nil {
		return err
	}
	var when *time.Time
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return usagef("--at %q: want RFC 3339 such as 2026-12-01T10:00:00Z", at)
		}
		when = &t
	}
	return withApp(g, func(a *app) error {
		if err := a.eng.Schedule(ref, when); err != nil {
			return err
		}
		c, err := a.eng.Campaign(ref)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "campaign %d %q is scheduled to start at %s\n", c.ID, c.Name, c.ScheduledStartAt.Format(time.RFC3339))
		return nil
	})
}

func printReport(w io.Writer, r *engine.Report) {
	fmt.Fprintf(w, "Report for %q (%s)\n", r.Name, r.State)
	fmt.Fprintf(w, "  leads %d   done %d (%.1f%%)   attempts %d   active calls %d/%d\n", r.Leads, r.Terminal, r.Progress*100, r.Attempts, r.Active, r.MaxConcurrent)
	fmt.Fprint(w, "  by status:      ")
	for _, s := range engine.LeadStatuses {
		fmt.Fprintf(w, " %s=%d", s, r.ByStatus[s])
	}
	fmt.Fprint(w, "\n  by disposition: ")
	for _, d := range engine.Dispositions {
		fmt.Fprintf(w, " %s=%d", d, r.ByDisposition[d])
	}
	fmt.Fprintln(w)
}
