package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/dialdeck/dialdeck/engine"
	"github.com/dialdeck/dialdeck/media"
	"github.com/dialdeck/dialdeck/storage"
)

// simulateHorizon bounds a dry run's virtual time.
const simulateHorizon = 60 * 24 * time.Hour

func cmdSimulate(g *globals, args []string) error {
	var fromText string
	ref, asJSON, err := oneCampaign("simulate", args, func(fs *flag.FlagSet) {
		fs.StringVar(&fromText, "from", "", "virtual start time, RFC 3339 (default: now)")
	})
	if err != nil {
		return err
	}
	from := time.Now().Truncate(time.Second)
	if fromText != "" {
		if from, err = time.Parse(time.RFC3339, fromText); err != nil {
			return usagef("--from %q: want RFC 3339 such as 2026-12-01T09:00:00Z", fromText)
		}
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	dbPath := cfg.Engine.Database
	if g.db != "" {
		dbPath = g.db
	}
	// Read the real database without writing to it, then work on a scratch copy.
	src, err := storage.Open(dbPath, storage.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	var c *engine.Campaign
	err = src.View(func(tx engine.Tx) error {
		all, err := tx.Campaigns()
		if err != nil {
			return err
		}
		for _, x := range all {
			if fmt.Sprint(x.ID) == ref || x.Name == ref {
				c = x
				return nil
			}
		}
		return fmt.Errorf("campaign %q: %w", ref, engine.ErrNotFound)
	})
	if err != nil {
		src.Close()
		return err
	}
	dir, err := os.MkdirTemp("", "dialdeck-simulate-")
	if err != nil {
		src.Close()
		return err
	}
	defer os.RemoveAll(dir)
	dst, err := storage.Open(filepath.Join(dir, "sim.db"), storage.Options{NoSync: true, InitialMmapSize: 64 << 20})
	if err != nil {
		src.Close()
		return err
	}
	defer dst.Close()
	cid, err := engine.CopyCampaign(src, dst, c.ID)
	src.Close()
	if err != nil {
		return err
	}
	clock := engine.NewFakeClock(from)
	scfg := simConfig(cfg)
	sim := media.NewSimPlacer(scfg, clock)
	opts := engineOptions(cfg, dst, nil, clock, nil)
	e, err := engine.NewSimulation(opts, sim, clock)
	if err != nil {
		return err
	}
	res, err := e.Simulate(cid, from, simulateHorizon)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	res.Report.CampaignID, res.Report.Name = c.ID, c.Name
	if asJSON {
		return writeJSON(g.stdout, res)
	}
	w := g.stdout
	fmt.Fprintf(w, "Dry run of %q from %s (sim carrier, virtual clock; nothing dialed, real database untouched)\n", c.Name, from.Format(time.RFC3339))
	if res.Finished {
		fmt.Fprintf(w, "  would finish   %s (%s after start)\n", res.FinishedAt.Format(time.RFC3339), res.FinishedAt.Sub(from).Round(time.Minute))
	} else {
		fmt.Fprintf(w, "  NOT finished within %s of campaign time (stopped at %s)\n", simulateHorizon, res.Until.Format(time.RFC3339))
	}
	days := make([]string, 0, len(res.AttemptsPerDay))
	for d := range res.AttemptsPerDay {
		days = append(days, d)
	}
	sort.Strings(days)
	fmt.Fprintln(w, "  attempts per day:")
	for _, d := range days {
		fmt.Fprintf(w, "    %s  %d\n", d, res.AttemptsPerDay[d])
	}
	if res.UnreachableN > 0 {
		fmt.Fprintf(w, "  %d leads can never be reached inside their local window, e.g.:\n", res.UnreachableN)
		for _, u := range res.Unreachable[:min(10, len(res.Unreachable))] {
			fmt.Fprintf(w, "    lead %d %s zones %v\n", u.LeadID, maskPhone(u.Phone), u.Zones)
		}
	}
	fmt.Fprintln(w, "Projected:")
	printReport(w, res.Report)
	return nil
}
