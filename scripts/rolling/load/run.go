package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// run seeds payments, loads the instances until ctx ends or -max passed,
// and writes the report.
func run(ctx context.Context, args []string) error {
	fs := newFlagSet("run")
	apis := fs.String("api", "", "comma-separated base URLs of the instances")
	iamportURL := fs.String("iamport", "", "fake Iamport base URL")
	tossURL := fs.String("toss", "", "fake Toss Payments base URL")
	seeds := fs.Int("seeds", 24, "payments registered before the load, read by it")
	rateFlag := fs.Float64("rate", 1500, "reads per second to aim at, in total")
	workers := fs.Int("workers", 12, "read workers, spread over the instances (half keep-alive, half a new connection per request)")
	regRate := fs.Float64("register-rate", 12, "registrations per second, in total")
	regWorkers := fs.Int("register-workers", 6, "registration workers, spread like the read workers")
	probeEvery := fs.Duration("probe", 250*time.Millisecond, "interval of the /monitors/system probe of each instance")
	started := fs.String("started", "", "file to write once the load runs")
	phases := fs.String("phases", "", "the driver's phases file, read at the end")
	out := fs.String("out", "", "directory for report.md and summary.json")
	maxRun := fs.Duration("max", time.Hour, "stop by itself after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets := strings.Split(*apis, ",")
	switch {
	case *apis == "" || *iamportURL == "" || *tossURL == "":
		return errors.New("run: -api, -iamport and -toss are required")
	case len(targets) > 255:
		return errors.New("run: at most 255 instances")
	case *seeds < 1 || *workers < 1 || *regWorkers < 0 || *rateFlag <= 0 || *regRate < 0 || *probeEvery <= 0:
		return errors.New("run: -seeds, -workers, -rate and -probe must be positive")
	}
	if *regRate == 0 {
		*regWorkers = 0
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	key, iv := cfg.Connection.Encryption.Key.Reveal(), cfg.Connection.Encryption.IV.Reveal()
	pg := newPGKit(*iamportURL, *tossURL)

	seedStart := time.Now()
	sd, err := seedPayments(ctx, targets, key, iv, pg, *seeds)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "load: registered %d payments through the SDK and read each back (%.1f s)\n", len(sd), time.Since(seedStart).Seconds())

	l, err := newLoader(targets, key, iv, pg, sd, *workers)
	if err != nil {
		return err
	}
	start := time.Now()
	l.start(*workers, *rateFlag, *regWorkers, *regRate, *probeEvery)
	if err := touch(*started); err != nil {
		l.stop()
		return err
	}
	fmt.Fprintf(os.Stderr, "load: %d read workers at %.0f/s, %d registration workers at %.0f/s, probe every %s, over %d instances\n",
		*workers, *rateFlag, *regWorkers, *regRate, *probeEvery, len(targets))
	select {
	case <-ctx.Done():
	case <-time.After(*maxRun):
		fmt.Fprintf(os.Stderr, "load: stopping after -max %s\n", *maxRun)
	}
	end := time.Now()
	l.stop()

	res := &result{start: start.UnixNano(), end: end.UnixNano(), targets: targets}
	for _, w := range append(l.readers, l.writers...) {
		res.samples = append(res.samples, w.samples...)
		res.failures = append(res.failures, w.failures...)
		res.fakeErrors += w.fakeErrors
	}
	for _, p := range l.probers {
		res.samples = append(res.samples, p.samples...)
		res.failures = append(res.failures, p.failures...)
		res.probers = append(res.probers, p)
	}
	if *phases != "" {
		f, err := os.Open(*phases)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err == nil {
			res.windows, err = readPhases(f, res.end)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	if err := writeResults(*out, res); err != nil {
		return err
	}
	if sum := res.summarize(); sum.Failed > 0 || sum.ProbeFailed > 0 {
		return fmt.Errorf("%w: %d API and %d probe requests", errFailures, sum.Failed, sum.ProbeFailed)
	}
	return nil
}
