package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// handoffPad widens the interval in which the probe saw an instance change
// process: latency "around a handoff" is that of requests sent within it.
const handoffPad = time.Second

// window is one update as the driver marked it in the phases file.
type window struct {
	label, outcome string
	begin, end     int64 // Unix nanoseconds
}

// readPhases parses the phases file: "<unix-ns> begin <label>" and
// "<unix-ns> end <label> <outcome…>" lines. A window the driver did not
// close ends at end.
func readPhases(r io.Reader, end int64) ([]window, error) {
	var out []window
	open := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return nil, fmt.Errorf("phases line %d: want <unix-ns> begin|end <label> [outcome]", n)
		}
		at, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("phases line %d: %w", n, err)
		}
		switch f[1] {
		case "begin":
			open[f[2]] = len(out)
			out = append(out, window{label: f[2], begin: at, end: end})
		case "end":
			i, ok := open[f[2]]
			if !ok {
				return nil, fmt.Errorf("phases line %d: end of %q, which did not begin", n, f[2])
			}
			delete(open, f[2])
			out[i].end = at
			out[i].outcome = strings.Join(f[3:], " ")
		default:
			return nil, fmt.Errorf("phases line %d: %q is neither begin nor end", n, f[1])
		}
	}
	return out, sc.Err()
}

// span is a time interval [from, to] in Unix nanoseconds.
type span struct{ from, to int64 }

// spans is a sorted set of disjoint intervals.
type spans []span

// merge sorts in and joins overlapping intervals.
func merge(in []span) spans {
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b span) int { return cmpInt64(a.from, b.from) })
	var out spans
	for _, x := range s {
		if n := len(out); n > 0 && x.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, x.to)
			continue
		}
		out = append(out, x)
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// contains reports whether t is in one of the intervals.
func (s spans) contains(t int64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].to >= t })
	return i < len(s) && s[i].from <= t
}

// length returns the time the intervals cover within [lo, hi].
func (s spans) length(lo, hi int64) time.Duration {
	var d int64
	for _, x := range s {
		if a, b := max(x.from, lo), min(x.to, hi); b > a {
			d += b - a
		}
	}
	return time.Duration(d)
}

// stats summarises the latency of a set of requests.
type stats struct {
	n, failed          int
	p50, p90, p99, max time.Duration
}

// latencyStats computes stats over the samples keep selects. Latencies are
// those of every request, failed ones included.
func latencyStats(samples []sample, keep func(sample) bool) stats {
	var st stats
	lats := make([]int64, 0, len(samples))
	for _, s := range samples {
		if !keep(s) {
			continue
		}
		st.n++
		if s.class != classOK {
			st.failed++
		}
		lats = append(lats, s.lat)
	}
	if len(lats) == 0 {
		return st
	}
	slices.Sort(lats)
	st.p50 = time.Duration(percentile(lats, 50))
	st.p90 = time.Duration(percentile(lats, 90))
	st.p99 = time.Duration(percentile(lats, 99))
	st.max = time.Duration(lats[len(lats)-1])
	return st
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// result is everything the report is made of.
type result struct {
	start, end int64
	targets    []string
	windows    []window
	samples    []sample
	failures   []failure
	fakeErrors int
	probers    []*prober
}

// handoffs returns, per instance, the intervals in which the probe saw it
// change process, widened by handoffPad.
func (r *result) handoffs() [][]span {
	out := make([][]span, len(r.probers))
	for i, p := range r.probers {
		for k := 1; k < len(p.gens); k++ {
			out[i] = append(out[i], span{p.gens[k-1].last - int64(handoffPad), p.gens[k].first + int64(handoffPad)})
		}
	}
	return out
}

// summary is summary.json: what the driver checks.
type summary struct {
	Requests     int            `json:"api_requests"`
	Failed       int            `json:"api_failed"`
	ByClass      map[string]int `json:"api_failed_by_class"`
	ProbeFailed  int            `json:"probe_failed"`
	FakeErrors   int            `json:"fake_errors"`
	Seconds      float64        `json:"seconds"`
	Rate         float64        `json:"api_requests_per_second"`
	DuringRate   float64        `json:"api_requests_per_second_during_updates"`
	Handoffs     []int          `json:"handoffs_seen"`
	FinalCommits []string       `json:"final_commits_seen"`
}

func isAPI(s sample) bool { return s.kind != kindProbe }

// summarize computes summary.json.
func (r *result) summarize() summary {
	sum := summary{ByClass: map[string]int{}, FakeErrors: r.fakeErrors}
	during := r.during()
	var inUpdates int
	for _, s := range r.samples {
		if !isAPI(s) {
			if s.class != classOK {
				sum.ProbeFailed++
			}
			continue
		}
		sum.Requests++
		if during.contains(s.at) {
			inUpdates++
		}
		if s.class != classOK {
			sum.Failed++
			sum.ByClass[s.class.String()]++
		}
	}
	total := time.Duration(r.end - r.start)
	sum.Seconds = total.Seconds()
	if total > 0 {
		sum.Rate = float64(sum.Requests) / total.Seconds()
	}
	if d := during.length(r.start, r.end); d > 0 {
		sum.DuringRate = float64(inUpdates) / d.Seconds()
	}
	for _, p := range r.probers {
		sum.Handoffs = append(sum.Handoffs, max(len(p.gens)-1, 0))
		last := ""
		if n := len(p.gens); n > 0 {
			last = p.gens[n-1].hash
		}
		sum.FinalCommits = append(sum.FinalCommits, last)
	}
	return sum
}

// during returns the update windows.
func (r *result) during() spans {
	var in []span
	for _, w := range r.windows {
		in = append(in, span{w.begin, w.end})
	}
	return merge(in)
}

// render writes report.md.
func (r *result) render(w io.Writer) {
	sum := r.summarize()
	during := r.during()
	var all []span
	for _, h := range r.handoffs() {
		all = append(all, h...)
	}
	near := merge(all)
	total := time.Duration(r.end - r.start)

	fmt.Fprintf(w, "API requests (reads and registrations): %d in %.1f s, %.0f req/s (%.0f req/s during the updates); failed: %d.\n",
		sum.Requests, sum.Seconds, sum.Rate, sum.DuringRate, sum.Failed)
	fmt.Fprintf(w, "Probe requests (GET /monitors/system, %d instances): %d, failed: %d. Payments the fakes refused before a registration: %d.\n\n",
		len(r.targets), countKind(r.samples, kindProbe), sum.ProbeFailed, r.fakeErrors)

	fmt.Fprintln(w, "Requests by outcome:")
	fmt.Fprintln(w)
	header := "| requests | connection | sent | ok |"
	rule := "|---|---|--:|--:|"
	for c := classOK + 1; c < numClasses; c++ {
		header += " " + c.String() + " |"
		rule += "--:|"
	}
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, rule)
	for k := kind(0); k < numKinds; k++ {
		for _, fresh := range []bool{false, true} {
			if k == kindProbe && !fresh {
				continue
			}
			fmt.Fprintln(w, outcomeRow(k.String(), connName(fresh), r.samples, func(s sample) bool { return s.kind == k && s.fresh == fresh }))
		}
	}
	fmt.Fprintln(w, outcomeRow("**all API**", "both", r.samples, isAPI))
	fmt.Fprintln(w)

	fmt.Fprintf(w, "Latency from sending the request to reading the last byte of the answer. \"Around a handoff\": sent within %s of the interval in which the probe saw an instance change process.\n\n", handoffPad)
	fmt.Fprintln(w, "| when | requests | time | sent | req/s | failed | p50 | p90 | p99 | max |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	phases := []struct {
		name string
		in   func(int64) bool
		dur  time.Duration
	}{
		{"outside updates", func(t int64) bool { return !during.contains(t) }, total - during.length(r.start, r.end)},
		{"during updates", during.contains, during.length(r.start, r.end)},
		{"around a handoff", near.contains, near.length(r.start, r.end)},
	}
	for _, ph := range phases {
		for _, k := range []kind{kindRead, kindRegister} {
			st := latencyStats(r.samples, func(s sample) bool { return s.kind == k && ph.in(s.at) })
			fmt.Fprintf(w, "| %s | %s | %.1f s | %d | %s | %d | %s | %s | %s | %s |\n",
				ph.name, k, ph.dur.Seconds(), st.n, rate(st.n, ph.dur), st.failed, ms(st.p50), ms(st.p90), ms(st.p99), ms(st.max))
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "Updates, as the driver ran them (`paymentctl update local`, one after the other):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| update | took | outcome | API requests | failed | read p50 | read p99 | handoffs seen |")
	fmt.Fprintln(w, "|---|--:|---|--:|--:|--:|--:|--:|")
	for _, win := range r.windows {
		in := func(s sample) bool { return isAPI(s) && s.at >= win.begin && s.at <= win.end }
		api := latencyStats(r.samples, in)
		reads := latencyStats(r.samples, func(s sample) bool { return s.kind == kindRead && in(s) })
		// A new process the probe first saw during the update, or just
		// after it (the probe runs every few hundred milliseconds).
		seen := 0
		for _, p := range r.probers {
			for _, g := range p.gens[min(1, len(p.gens)):] {
				if g.first >= win.begin && g.first <= win.end+int64(handoffPad) {
					seen++
				}
			}
		}
		fmt.Fprintf(w, "| %s | %.1f s | %s | %d | %d | %s | %s | %d |\n",
			win.label, time.Duration(win.end-win.begin).Seconds(), orDash(win.outcome), api.n, api.failed, ms(reads.p50), ms(reads.p99), seen)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "Processes serving each instance, as the probe saw them (commit, seconds after the load started):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| instance | processes | commits in order |")
	fmt.Fprintln(w, "|---|--:|---|")
	for i, p := range r.probers {
		var seq []string
		for _, g := range p.gens {
			seq = append(seq, fmt.Sprintf("%s (%.1f s)", short(g.hash), time.Duration(g.first-r.start).Seconds()))
		}
		fmt.Fprintf(w, "| %s | %d | %s |\n", r.targets[i], len(p.gens), strings.Join(seq, " → "))
	}

	if len(r.failures) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "First failures:")
		fmt.Fprintln(w)
		fs := slices.Clone(r.failures)
		slices.SortFunc(fs, func(a, b failure) int { return cmpInt64(a.at, b.at) })
		for _, f := range fs[:min(len(fs), 20)] {
			fmt.Fprintf(w, "- %+.3f s %s %s → %s: %s\n", time.Duration(f.at-r.start).Seconds(), f.kind, r.targets[f.target], f.class, f.detail)
		}
	}
}

// outcomeRow is a row of the outcome table for the samples keep selects.
func outcomeRow(name, conn string, samples []sample, keep func(sample) bool) string {
	var counts [numClasses]int
	n := 0
	for _, s := range samples {
		if keep(s) {
			n++
			counts[s.class]++
		}
	}
	row := fmt.Sprintf("| %s | %s | %d | %d |", name, conn, n, counts[classOK])
	for c := classOK + 1; c < numClasses; c++ {
		row += fmt.Sprintf(" %d |", counts[c])
	}
	return row
}

func countKind(samples []sample, k kind) int {
	n := 0
	for _, s := range samples {
		if s.kind == k {
			n++
		}
	}
	return n
}

func connName(fresh bool) string {
	if fresh {
		return "new per request"
	}
	return "keep-alive"
}

func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func short(hash string) string {
	switch {
	case hash == "":
		return "unknown"
	case len(hash) > 7:
		return hash[:7]
	}
	return hash
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeResults writes report.md and summary.json into dir and the report
// to stdout.
func writeResults(dir string, r *result) error {
	var b strings.Builder
	r.render(&b)
	os.Stdout.WriteString(b.String())
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r.summarize(), "", "  ")
	if err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(dir+"/report.md", []byte(b.String()), 0o644),
		os.WriteFile(dir+"/summary.json", append(data, '\n'), 0o644),
	)
}
