package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
)

// latencyFlag is the repeatable --latency. A bare DURATION is waited before
// every call is handled (fault.Faults.Latency; the last one given wins);
// ROUTE=DURATION handles the calls of ROUTE at once and holds their answers
// back that long (a fault.RouteLatency, one per flag).
type latencyFlag struct{ f *fault.Faults }

// String lists the values as they were given.
func (l latencyFlag) String() string {
	var parts []string
	if l.f.Latency != 0 {
		parts = append(parts, l.f.Latency.String())
	}
	for _, rl := range l.f.RouteLatency {
		parts = append(parts, rl.String())
	}
	return strings.Join(parts, ",")
}

// Set reads one --latency value.
func (l latencyFlag) Set(s string) error {
	if !strings.Contains(s, "=") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		l.f.Latency = d // a negative value is reported by check, as for --webhook-delay
		return nil
	}
	rl, err := fault.ParseRouteLatency(s)
	if err != nil {
		return err
	}
	l.f.RouteLatency = append(l.f.RouteLatency, rl)
	return nil
}

// Type names the value in --help.
func (l latencyFlag) Type() string { return "[ROUTE=]DURATION" }

// routesFlag is a repeatable flag of routes: --drop-response.
type routesFlag struct{ routes *[]fault.Route }

// String lists the routes given.
func (r routesFlag) String() string {
	var parts []string
	for _, rt := range *r.routes {
		parts = append(parts, rt.String())
	}
	return strings.Join(parts, ",")
}

// Set reads one route.
func (r routesFlag) Set(s string) error {
	rt, err := fault.ParseRoute(s)
	if err != nil {
		return err
	}
	*r.routes = append(*r.routes, rt)
	return nil
}

// Type names the value in --help.
func (r routesFlag) Type() string { return "ROUTE" }

// describeFaults lists the fault knobs that are on, as flags.
func describeFaults(f fault.Faults) string {
	var on []string
	if f.DeclineRate > 0 {
		on = append(on, fmt.Sprintf("--decline-rate %v", f.DeclineRate))
	}
	if f.Latency > 0 {
		on = append(on, "--latency "+f.Latency.String())
	}
	for _, rl := range f.RouteLatency {
		on = append(on, "--latency '"+rl.String()+"'")
	}
	for _, rt := range f.DropResponse {
		on = append(on, "--drop-response '"+rt.String()+"'")
	}
	if f.ErrorRate > 0 {
		on = append(on, fmt.Sprintf("--error-rate %v", f.ErrorRate))
	}
	if f.WebhookDelay > 0 {
		on = append(on, "--webhook-delay "+f.WebhookDelay.String())
	}
	if f.WebhookDuplicate {
		on = append(on, "--webhook-duplicate")
	}
	if f.WebhookReorder {
		on = append(on, "--webhook-reorder")
	}
	if f.WebhookDropRate > 0 {
		on = append(on, fmt.Sprintf("--webhook-drop-rate %v", f.WebhookDropRate))
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, " ")
}
