package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

func cmdReport(g *globals, args []string) error {
	ref, asJSON, err := oneCampaign("report", args, nil)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		r, err := a.eng.Report(ref)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(g.stdout, r)
		}
		printReport(g.stdout, r)
		return nil
	})
}

func cmdExport(g *globals, args []string) error {
	var out string
	ref, _, err := oneCampaign("export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "o", "", "write to this file (default: stdout)")
	})
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		w := g.stdout
		var f *os.File
		if out != "" && out != "-" {
			// Write beside the target and rename, so a failed export never
			// leaves a half file under the real name.
			f, err = os.CreateTemp(dirOf(out), ".dialdeck-export-*")
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			defer os.Remove(f.Name())
			w = f
		}
		n, err := a.eng.Export(ref, w)
		if err != nil {
			if f != nil {
				f.Close()
			}
			return err
		}
		if f != nil {
			if err := f.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := os.Rename(f.Name(), out); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			fmt.Fprintf(g.stderr, "exported %d leads to %s\n", n, out)
		}
		return nil
	})
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return "."
}

func cmdAttempts(g *globals, args []string) error {
	var lead uint64
	ref, asJSON, err := oneCampaign("attempts", args, func(fs *flag.FlagSet) {
		fs.Uint64Var(&lead, "lead", 0, "only this lead's attempts")
	})
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		atts, err := a.eng.Attempts(ref, lead)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(g.stdout, atts)
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LEAD\tPHONE\t#\tSTARTED\tOUTCOME\tDISPOSITION\tTALK\tSIP\tREASON")
		for _, at := range atts {
			sip := "-"
			if at.SIPCode != 0 {
				sip = strconv.Itoa(at.SIPCode)
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%.0fs\t%s\t%s\n", at.LeadID, maskPhone(at.Phone), at.Attempt,
				at.StartedAt.Local().Format("01-02 15:04:05"), at.Outcome, at.Disposition, at.TalkSeconds, sip, oneLine(at.Reason))
		}
		return tw.Flush()
	})
}

func cmdDBCheck(g *globals, args []string) error {
	if len(args) > 0 {
		return usagef("db check takes no arguments")
	}
	return withApp(g, func(a *app) error {
		camps, err := a.eng.Campaigns()
		if err != nil {
			return err
		}
		bad := 0
		for _, c := range camps {
			probs, err := a.eng.Check(c.ID)
			if err != nil {
				return fmt.Errorf("db check campaign %d: %w", c.ID, err)
			}
			for _, p := range probs {
				fmt.Fprintf(g.stdout, "campaign %d %q: %s\n", c.ID, c.Name, p)
			}
			bad += len(probs)
		}
		if bad > 0 {
			return fmt.Errorf("db check: %d problems found in %s", bad, a.store.Path())
		}
		fmt.Fprintf(g.stdout, "db check: %s ok (%d campaigns; counters, due index, in-flight records and phone index verified)\n", a.store.Path(), len(camps))
		return nil
	})
}
