package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
	srvmonitor "github.com/paymentctl/paymentctl/server/monitor"
)

// DefaultInterval is the time between two samples, as `pm2 monit`
// refreshes.
const DefaultInterval = time.Second

// DefaultTimeout bounds each call to an instance, so one that hangs shows
// as an error instead of stalling the report.
const DefaultTimeout = 5 * time.Second

// Status values of a Row.
const (
	StatusUp    = "up"
	StatusError = "error"
)

// Options configure New.
type Options struct {
	// Instances lists what to monitor. Required.
	Instances Instances
	// Key and IV are the connection encryption strings the servers were
	// configured with: the monitor routes answer encrypted.
	Key, IV string
	// Interval is the time between the two samples of the first Collect,
	// and between refreshes in Watch. Default DefaultInterval.
	Interval time.Duration
	// Timeout bounds each call. Default DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means one of the Collector's own.
	HTTPClient *http.Client
	// Now reads the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends, returning ctx.Err() then. Default
	// a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Row is what one instance looks like at one refresh. See the package
// documentation for its JSON form.
type Row struct {
	Instance      string           `json:"instance"`
	URL           string           `json:"url"`
	Status        string           `json:"status"`
	Error         string           `json:"error"`
	UID           string           `json:"uid"`
	Commit        string           `json:"commit"`
	Branch        string           `json:"branch"`
	Version       string           `json:"version"`
	StartedAt     string           `json:"started_at"`
	UptimeSeconds int64            `json:"uptime_seconds"`
	CPUPercent    *float64         `json:"cpu_percent"`
	RSSBytes      int64            `json:"rss_bytes"`
	Goroutines    int              `json:"goroutines"`
	Requests      int64            `json:"requests"`
	Errors        int64            `json:"errors"`
	Restarts      int              `json:"restarts"`
	System        *sdk.System      `json:"system"`
	Performance   *sdk.Performance `json:"performance"`
}

// Report is every instance at one refresh, in the order they were listed.
type Report struct {
	// At is when the last instance answered (or failed).
	At   time.Time
	Rows []Row
}

// Err returns nil when at least one instance answered, and otherwise an
// error naming why they failed.
func (r *Report) Err() error {
	var errs []error
	for _, row := range r.Rows {
		if row.Status == StatusUp {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %s", row.Instance, row.Error))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("none of the %d instances answered: %w", len(errs), errors.Join(errs...))
}

// Collector samples instances and remembers, per instance, the previous
// sample and the process uids seen. Its methods must not be called
// concurrently.
type Collector struct {
	opts   Options
	http   *http.Client
	primed bool
	state  map[string]*instanceState
}

// instanceState is what a Collector remembers of one instance.
type instanceState struct {
	client    *sdk.Client
	clientErr error // why client is nil: a URL or key it refused
	clientURL string
	// prev is the last successful sample, nil before the first.
	prev *sample
	uids map[string]struct{}
}

// sample is one reading of an instance.
type sample struct {
	sys  *sdk.System
	perf *sdk.Performance
	at   time.Time
	err  error
}

// New returns a Collector for opts. It fails when no Instances source is
// given or the interval or timeout is negative.
func New(opts Options) (*Collector, error) {
	if opts.Instances == nil {
		return nil, errors.New("no instances source")
	}
	if opts.Interval < 0 || opts.Timeout < 0 {
		return nil, errors.New("interval and timeout must not be negative")
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Collector{opts: opts, http: hc, state: map[string]*instanceState{}}, nil
}

// Interval returns the time between samples.
func (c *Collector) Interval() time.Duration { return c.opts.Interval }

// Collect reads every instance and returns the report. The first call
// samples twice, one interval apart, so that CPU % has a previous sample;
// later calls sample once and compare with the previous call. It fails
// only when the instances cannot be listed, there are none, or ctx ends;
// instances that fail are rows with their error.
func (c *Collector) Collect(ctx context.Context) (*Report, error) {
	insts, err := c.opts.Instances.Instances(ctx)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	if len(insts) == 0 {
		return nil, errors.New("no instances to monitor")
	}
	if !c.primed {
		c.round(ctx, insts)
		if err := c.opts.Sleep(ctx, c.opts.Interval); err != nil {
			return nil, err
		}
		c.primed = true
	}
	rep := c.round(ctx, insts)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rep, nil
}

// round samples every instance at once and turns the samples into rows,
// updating what the Collector remembers.
func (c *Collector) round(ctx context.Context, insts []Instance) *Report {
	samples := make([]sample, len(insts))
	var wg sync.WaitGroup
	for i, inst := range insts {
		st := c.stateOf(inst)
		wg.Go(func() { samples[i] = c.sample(ctx, st) })
	}
	wg.Wait()

	rep := &Report{Rows: make([]Row, len(insts))}
	for i, inst := range insts {
		s := samples[i]
		if s.at.After(rep.At) {
			rep.At = s.at
		}
		rep.Rows[i] = c.row(c.state[inst.Name], inst, s)
	}
	return rep
}

// stateOf returns the remembered state of inst, creating it (and its
// client, when its URL is new) as needed. It runs before the samples are
// taken concurrently, so the map is only written here.
func (c *Collector) stateOf(inst Instance) *instanceState {
	st := c.state[inst.Name]
	if st == nil {
		st = &instanceState{uids: map[string]struct{}{}}
		c.state[inst.Name] = st
	}
	if st.client == nil || st.clientURL != inst.APIURL {
		st.clientURL = inst.APIURL
		st.client, st.clientErr = sdk.New(sdk.Options{
			BaseURL: inst.APIURL, Key: c.opts.Key, IV: c.opts.IV,
			HTTPClient: c.http, Timeout: c.opts.Timeout, UserAgent: "paymentctl-monitor",
		})
	}
	return st
}

// sample reads the system and then the performance monitor of the
// instance st describes.
func (c *Collector) sample(ctx context.Context, st *instanceState) sample {
	if st.client == nil {
		return sample{at: c.opts.Now(), err: st.clientErr}
	}
	sys, err := st.client.System(ctx)
	if err != nil {
		return sample{at: c.opts.Now(), err: err}
	}
	perf, err := st.client.Performance(ctx)
	if err != nil {
		return sample{at: c.opts.Now(), err: err}
	}
	return sample{sys: sys, perf: perf, at: c.opts.Now()}
}

// row builds inst's row from s and the previous sample in st, then
// remembers s.
func (c *Collector) row(st *instanceState, inst Instance, s sample) Row {
	r := Row{Instance: inst.Name, URL: inst.APIURL}
	if s.err != nil {
		r.Status, r.Error = StatusError, s.err.Error()
		r.Restarts = restarts(st.uids)
		return r
	}
	st.uids[s.sys.UID] = struct{}{}
	if p := st.prev; p != nil && p.sys.UID == s.sys.UID {
		cpu := roundTo(srvmonitor.CPUPercent(*p.perf, *s.perf, s.at.Sub(p.at)), 2)
		r.CPUPercent = &cpu
	}
	st.prev = &s

	r.Status = StatusUp
	r.UID = s.sys.UID
	r.Commit, r.Branch = s.sys.Commit.ShortHash, s.sys.Commit.Branch
	r.Version = s.sys.Package.Version
	r.StartedAt = s.sys.CreatedAt
	if started, err := time.Parse(time.RFC3339, s.sys.CreatedAt); err == nil && s.at.After(started) {
		r.UptimeSeconds = int64(s.at.Sub(started) / time.Second)
	}
	r.RSSBytes = s.perf.Memory.RSS
	r.Goroutines = s.perf.Runtime.Goroutines
	r.Requests, r.Errors = s.perf.Runtime.Requests, s.perf.Runtime.Errors
	r.Restarts = restarts(st.uids)
	r.System, r.Performance = s.sys, s.perf
	return r
}

// restarts is the number of process changes seen: distinct uids minus one.
func restarts(uids map[string]struct{}) int {
	return max(len(uids)-1, 0)
}

// roundTo rounds x to n decimals.
func roundTo(x float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(x*p) / p
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
