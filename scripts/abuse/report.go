package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// report is what the run found.
type report struct {
	fuzzed   int
	statuses map[int]int
	// accepted counts the fuzzed requests answered 2xx that were shown.
	accepted int

	forged         int
	forgedStatuses map[int]int
	forgedPGCalls  float64
	burst          int
	burstPGCalls   float64

	guesses403   int
	guessStop    int
	otherAddress int

	connsOpened     int
	connsHeld       int
	servedMeanwhile int

	badStatuses map[int]int

	rssBefore, rssAfter int64
	errorLines          int
}

// Targets of issue 9.
const (
	maxBurstPGCalls = 10
)

// misses lists the targets the run missed.
func (r *report) misses() []string {
	var out []string
	for st, n := range r.statuses {
		if st >= 500 || st == 0 {
			out = append(out, fmt.Sprintf("%d fuzzed requests answered %s", n, statusName(st)))
		}
	}
	if r.forgedPGCalls != 0 {
		out = append(out, fmt.Sprintf("%d forged webhooks cost %.0f PG calls, want 0", r.forged, r.forgedPGCalls))
	}
	if r.burstPGCalls > maxBurstPGCalls {
		out = append(out, fmt.Sprintf("a burst of %d webhooks for one payment cost %.0f PG calls, want at most %d", r.burst, r.burstPGCalls, maxBurstPGCalls))
	}
	if r.guessStop != 429 {
		out = append(out, fmt.Sprintf("password guessing ended with %s, want 429", statusName(r.guessStop)))
	}
	if r.otherAddress != 200 {
		out = append(out, fmt.Sprintf("the right password from another address got %s, want 200", statusName(r.otherAddress)))
	}
	if r.connsHeld != 0 {
		out = append(out, fmt.Sprintf("%d of %d idle or slow connections still held after the timeouts", r.connsHeld, r.connsOpened))
	}
	if r.servedMeanwhile != 200 {
		out = append(out, fmt.Sprintf("a client was answered %s while connections were held", statusName(r.servedMeanwhile)))
	}
	for st := range r.badStatuses {
		if st != 400 && st != 429 {
			out = append(out, fmt.Sprintf("an undecryptable body got %s, want 400 then 429", statusName(st)))
		}
	}
	sort.Strings(out)
	return out
}

func statusName(st int) string {
	switch st {
	case 0:
		return "no answer"
	case -1:
		return "no request"
	}
	return fmt.Sprint(st)
}

// distribution renders a status tally as "400 × 2,712, 404 × 188".
func distribution(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s × %d", statusName(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

// print writes the report as a Markdown table.
func (r *report) print(w io.Writer) {
	fmt.Fprintln(w, "| Attack | Result |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| fuzzed requests (spoiled bodies, odd ids, paths and methods, PG webhook junk) | %d: %s |\n", r.fuzzed, distribution(r.statuses))
	fmt.Fprintf(w, "| forged PG webhooks with unknown ids | %d (%s) → %.0f PG calls |\n", r.forged, distribution(r.forgedStatuses), r.forgedPGCalls)
	fmt.Fprintf(w, "| webhooks for one registered payment, in a burst | %d → %.0f PG calls |\n", r.burst, r.burstPGCalls)
	fmt.Fprintf(w, "| wrong passwords for one record from one address | %d answered 403, then %s |\n", r.guesses403, statusName(r.guessStop))
	fmt.Fprintf(w, "| the right password from another address | %s |\n", statusName(r.otherAddress))
	fmt.Fprintf(w, "| idle and slow-body connections | %d opened, %d still held after the %s timeouts; another client meanwhile: %s |\n",
		r.connsOpened, r.connsHeld, connTimeout, statusName(r.servedMeanwhile))
	fmt.Fprintf(w, "| bodies that do not decrypt | %s |\n", distribution(r.badStatuses))
	fmt.Fprintf(w, "| server memory (RSS) | %.1f MB before, %.1f MB after |\n", float64(r.rssBefore)/1e6, float64(r.rssAfter)/1e6)
	fmt.Fprintf(w, "| ERROR lines in the server's log | %d |\n", r.errorLines)
}
